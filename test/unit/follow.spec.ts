import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Follower } from '../../src/main/engine/ingest/follow';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';

const line = (n: number, stream = 'Log-1') => `${JSON.stringify({ stream, type: 'Line', data: { n } })}\n`;
const lines = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => line(from + i)).join('');
const until = (fn: () => void | Promise<void>) => vi.waitFor(fn, { timeout: 8000, interval: 25 });

describe('following an external JSONL file', () => {
  let dir: string;
  let store: MemoryStore;
  let follower: Follower | undefined;
  const ns = async () => (await store.readAll(1, 1000)).map((e) => (e.data as { n: number }).n);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chronoscope-follow-'));
    store = new MemoryStore();
  });
  afterEach(async () => {
    await follower?.close();
    follower = undefined;
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports what the file holds, then every line appended to it; a half-written line waits for its newline', async () => {
    const file = join(dir, 'app.jsonl');
    writeFileSync(file, lines(1, 3));
    follower = await Follower.start(file, store);
    expect(await ns()).toEqual([1, 2, 3]);
    const fourth = line(4);
    appendFileSync(file, fourth.slice(0, 10)); // the writer is mid-line
    await follower.settle();
    expect(await ns()).toEqual([1, 2, 3]);
    appendFileSync(file, fourth.slice(10) + lines(5, 6));
    await until(async () => expect(await ns()).toEqual([1, 2, 3, 4, 5, 6]));
    expect(follower.status().files[0]).toMatchObject({
      lines: 6,
      imported: 6,
      quarantined: 0,
      format: 'native',
    });
  });

  it('quarantines bad lines with file and line number and keeps the good ones', async () => {
    const file = join(dir, 'mixed.jsonl');
    writeFileSync(file, `${line(1)}{not json\n\n[1,2]\n${line(2)}`);
    follower = await Follower.start(file, store);
    appendFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from(line(3))]));
    await until(async () => expect(await ns()).toEqual([1, 2, 3]));
    const s = follower.status();
    expect(s.files[0]).toMatchObject({ lines: 7, imported: 3, quarantined: 3 });
    expect(s.quarantine.map((q) => [q.file, q.line])).toEqual([
      [file, 2],
      [file, 4],
      [file, 6],
    ]);
    expect(s.quarantine[0]!.reason).toMatch(/invalid JSON/);
    expect(s.quarantine[1]!.reason).toMatch(/not a JSON object/);
    expect(s.quarantine[2]!.reason).toMatch(/UTF-8/);
  });

  it('survives rotation: finishes the renamed file, then reads its successor from the start', async () => {
    const file = join(dir, 'app.jsonl');
    writeFileSync(file, lines(1, 3));
    follower = await Follower.start(file, store);
    renameSync(file, `${file}.1`);
    appendFileSync(`${file}.1`, lines(4, 5)); // the writer has not reopened yet
    writeFileSync(file, lines(6, 7));
    await until(async () => expect(await ns()).toEqual([1, 2, 3, 4, 5, 6, 7]));
    expect(follower.status().files[0]).toMatchObject({ rotations: 1, lines: 7, imported: 7 });
  });

  it('survives truncation: reading restarts at the beginning', async () => {
    const file = join(dir, 'app.jsonl');
    writeFileSync(file, lines(1, 3));
    follower = await Follower.start(file, store);
    truncateSync(file, 0);
    appendFileSync(file, lines(8, 9));
    await until(async () => expect(await ns()).toEqual([1, 2, 3, 8, 9]));
    expect(follower.status().files[0]).toMatchObject({ truncations: 1 });
  });

  it('follows every JSONL file of a folder, including new ones, and leaves compressed copies alone', async () => {
    writeFileSync(join(dir, 'a.jsonl'), line(1, 'A'));
    writeFileSync(join(dir, 'old.jsonl.gz'), 'not really gzip');
    follower = await Follower.start(dir, store);
    writeFileSync(join(dir, 'b.jsonl'), line(2, 'B'));
    appendFileSync(join(dir, 'a.jsonl'), line(3, 'A'));
    await until(async () => expect((await ns()).sort()).toEqual([1, 2, 3]));
    expect(
      follower
        .status()
        .files.map((f) => f.path.slice(dir.length + 1))
        .sort(),
    ).toEqual(['a.jsonl', 'b.jsonl']);
  });

  it('refuses a path that does not exist or holds a NUL byte, naming it', async () => {
    const file = join(dir, 'later.jsonl');
    await expect(Follower.start(file, store)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining(file),
    });
    await expect(Follower.start(`${dir}/x\0y`, store)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
