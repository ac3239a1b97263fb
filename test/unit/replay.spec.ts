import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventInput, StoredEvent } from '../../src/shared/event';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';
import { Replay } from '../../src/main/engine/timetravel/replay';
import { readCheckpoint } from '../../src/main/engine/timetravel/replayCheckpoint';
import { tryUpcaster } from '../../src/main/engine/timetravel/upcasterTryout';
import { UserModule, type ReloadInfo } from '../../src/main/engine/timetravel/UserModule';
import { projectionOf } from '../../src/main/engine/timetravel/userProjection';
import type { EventStore } from '../../src/main/engine/types';

const FIXTURES = join(__dirname, '../fixtures/projections');
const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'chronoscope-replay-'));
  dirs.push(d);
  return d;
};
const load = async (file: string, opts: Parameters<typeof UserModule.load>[1] = {}) => {
  const m = await UserModule.load(file, opts);
  closers.push(() => m.close());
  return m;
};
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const time = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
/** Three orders; every third event is a refund of 10 × its index. */
function log(n: number): EventInput[] {
  return Array.from({ length: n }, (_, i) => ({
    stream: `Order-${(i % 3) + 1}`,
    type: i < 3 ? 'OrderPlaced' : 'RefundIssued',
    time: time(i),
    data: i < 3 ? { total: 1000 } : { amount: 10 * i },
  }));
}
async function memoryStore(n: number): Promise<EventStore> {
  const s = new MemoryStore();
  closers.push(() => s.close());
  await s.append(log(n));
  return s;
}
/** What orderTotals.ts computes, per stream, over `events`. */
function expected(events: StoredEvent[]) {
  const out: Record<string, { total: number; events: number; lastType: string | null }> = {};
  for (const e of events) {
    const s = out[e.stream] ?? { total: 0, events: 0, lastType: null };
    const d = e.data as { total?: number; amount?: number };
    const total = e.type === 'RefundIssued' ? s.total - (d.amount ?? 0) : s.total + (d.total ?? 0);
    out[e.stream] = { total, events: s.events + 1, lastType: e.type };
  }
  return out;
}
const once = <T>(r: Replay, name: 'paused' | 'failed'): Promise<T> =>
  new Promise((resolve) => r.once(name, (v: unknown) => resolve(v as T)));

describe('replay', () => {
  it('replays a range through a projection and reports progress to the end', async () => {
    const store = await memoryStore(60);
    const m = await load(join(FIXTURES, 'orderTotals.ts'), { kind: 'any' });
    const r = new Replay(store, m, { from: 4, to: 45, batchSize: 7 });
    const seen: number[] = [];
    r.on('progress', (p) => seen.push(p.fraction));
    const result = await r.run();
    const events = (await store.readAll(1, 100)).filter((e) => e.seq >= 4 && e.seq <= 45);
    expect(result).toMatchObject({ status: 'done', processed: 42, position: 45, skipped: [] });
    expect(result.state).toEqual(expected(events));
    expect(seen.at(-1)).toBe(1);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('runs a handler module with side effects over a filter, in seq order', async () => {
    const dir = tmp();
    const out = join(dir, 'out.txt');
    process.env.HANDLER_OUT = out;
    const store = await memoryStore(30);
    const m = await load(join(FIXTURES, 'appendLines.mjs'), { kind: 'any' });
    expect(m.kind).toBe('handler');
    const result = await new Replay(store, m, { filter: { stream: 'Order-2' } }).run();
    expect(result.processed).toBe(10);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toEqual(
      Array.from(
        { length: 10 },
        (_, i) => `${3 * i + 2} ${i === 0 ? 'OrderPlaced' : 'RefundIssued'} attempt 1`,
      ),
    );
  });

  it('a breakpoint pauses before the matching event; step forward and step back move one event', async () => {
    const store = await memoryStore(600);
    const events = await store.readAll(1, 1000);
    const m = await load(join(FIXTURES, 'orderTotals.ts'), { kind: 'projection' });
    const r = new Replay(store, m, {
      breakpoints: [{ filter: { types: ['RefundIssued'] }, expr: 'e.data.amount > 4000' }],
    });
    const paused = once<{ reason: string; next: StoredEvent }>(r, 'paused');
    const done = r.run();
    const p = await paused;
    expect(p.reason).toBe('breakpoint');
    expect(p.next.seq).toBe(402); // the first refund above 4000 is 10 × 401
    expect(r.position).toBe(401);
    expect(r.state).toEqual(expected(events.slice(0, 401)));

    await r.step(); // applies seq 402 only
    expect(r.position).toBe(402);
    expect(r.state).toEqual(expected(events.slice(0, 402)));
    await r.step();
    expect(r.state).toEqual(expected(events.slice(0, 403)));

    // Back past a snapshot boundary (every 256 events): nearest snapshot + refold.
    for (let i = 0; i < 3; i++) await r.stepBack();
    expect(r.position).toBe(400);
    expect(r.state).toEqual(expected(events.slice(0, 400)));

    r.resume(); // back before seq 402, its breakpoint holds again
    let again = await once<{ next: StoredEvent }>(r, 'paused');
    expect(again.next.seq).toBe(402);
    r.resume(); // a breakpoint's own event is let through once; the next match stops it
    again = await once<{ next: StoredEvent }>(r, 'paused');
    expect(again.next.seq).toBe(403);
    r.options.breakpoints!.length = 0;
    r.resume();
    const result = await done;
    expect(result.state).toEqual(expected(events));
  });

  it('an error pauses the replay until a decision: retry after a hot fix, skip, or abort', async () => {
    const dir = tmp();
    const file = join(dir, 'fragile.mjs');
    const code = (bad: string) =>
      `export const scope = 'global';\nexport const init = () => ({ n: 0, sum: 0 });\nexport function apply(s, e) {\n  if (${bad}) throw new Error('cannot take seq ' + e.seq);\n  return { n: s.n + 1, sum: s.sum + e.seq };\n}\n`;
    writeFileSync(file, code('e.seq === 5 || e.seq === 9 || e.seq === 12'));
    const store = await memoryStore(15);
    const m = await load(file, { kind: 'projection', watch: true });
    const r = new Replay(store, m, { batchSize: 4 });
    let failed = once<{ event: StoredEvent; error: Error; attempt: number }>(r, 'failed');
    const done = r.run();
    let f = await failed;
    expect(f.event.seq).toBe(5);
    expect(f.error.message).toMatch(/threw at seq 5 .*cannot take seq 5/);
    expect(r.status).toBe('error');
    expect(r.state).toEqual({ n: 4, sum: 10 }); // the events before it are kept

    const reloaded = new Promise<ReloadInfo>((res) => m.once('reloaded', res));
    writeFileSync(file, code('e.seq === 9 || e.seq === 12'));
    await reloaded;
    failed = once(r, 'failed');
    r.decide('retry'); // the fixed code takes seq 5; seq 9 still fails
    f = await failed;
    expect(f.event.seq).toBe(9);
    failed = once(r, 'failed');
    r.decide('skip');
    f = await failed;
    expect(f.event.seq).toBe(12);
    r.decide('abort');
    const result = await done;
    expect(result.status).toBe('aborted');
    expect(result.skipped).toEqual([9]);
    expect(result.position).toBe(11);
    expect(result.state).toEqual({ n: 10, sum: 66 - 9 });
    expect(result.notes.join('\n')).toMatch(/skipped seq 9 .*\n.*aborted at seq 12/);
  });

  it('replay resumes from its checkpoint', async () => {
    const dir = tmp();
    const store = await FileStore.open(join(dir, 'store'), {});
    closers.push(() => store.close());
    await store.append(log(90));
    const all = await store.readAll(1, 100);
    const checkpoint = join(dir, 'cp.json');
    const m = await load(join(FIXTURES, 'orderTotals.ts'), { kind: 'projection' });
    const ac = new AbortController();
    const first = new Replay(store, m, {
      checkpointFile: checkpoint,
      speed: 300,
      filter: { types: ['RefundIssued'] },
      signal: ac.signal,
      from: 2,
    });
    first.on('progress', (p) => p.processed >= 20 && ac.abort());
    const stopped = await first.run();
    expect(stopped.status).toBe('aborted');
    const cp = (await readCheckpoint(checkpoint))!;
    expect(cp.position).toBe(stopped.position);
    expect(cp.processed).toBe(stopped.processed);
    expect(cp.state).toEqual(stopped.state);
    expect(existsSync(`${checkpoint}.tmp`)).toBe(false);

    const second = new Replay(store, m, { checkpointFile: checkpoint, resume: true });
    const seen: number[] = [];
    second.on('progress', (p) => seen.push(p.position));
    const result = await second.run();
    expect(result.status).toBe('done');
    expect(Math.min(...seen)).toBeGreaterThan(stopped.position); // nothing replayed twice
    expect(result.processed).toBe(87);
    expect(result.state).toEqual(expected(all.filter((e) => e.type === 'RefundIssued')));
    expect(result.notes[0]).toMatch(`resumed after seq ${stopped.position}`);

    await expect(
      new Replay(store, m, { checkpointFile: checkpoint, resume: true, from: 5 }).run(),
    ).rejects.toThrow(/checkpoint .*cp\.json is for from 2, not 5/);
  });

  it('speed limits events per second without blocking the host thread', async () => {
    const store = await memoryStore(40);
    const m = await load(join(FIXTURES, 'typeCounts.mjs'), { kind: 'projection' });
    // The host thread must keep turning while the replay waits between events: timers fire during
    // the run (a replay that held the thread would let none fire until it ended).
    let ticks = 0;
    const tick = setInterval(() => ticks++, 5);
    const t0 = performance.now();
    const result = await new Replay(store, m, { speed: 100 }).run();
    const ticksDuring = ticks;
    clearInterval(tick);
    expect(result.state).toEqual({ counts: { OrderPlaced: 3, RefundIssued: 37 }, events: 40 });
    expect(performance.now() - t0).toBeGreaterThan(300); // 40 events at 100/s ≈ 400 ms: the cap held
    expect(ticksDuring).toBeGreaterThan(2);
  });

  it('a JS breakpoint with a syntax error is refused before the first event', async () => {
    const store = await memoryStore(5);
    const m = await load(join(FIXTURES, 'typeCounts.mjs'), { kind: 'projection' });
    await expect(new Replay(store, m, { breakpoints: [{ expr: 'e.type ===' }] }).run()).rejects.toThrow(
      /breakpoint "e.type ===": Unexpected/,
    );
  });
});

describe('upcaster try-out', () => {
  it('reports per-stream differences and never touches the original', async () => {
    const store = new MemoryStore();
    closers.push(() => store.close());
    await store.append([
      { stream: 'Order-1', type: 'OrderPlaced', data: { total: 100 } },
      { stream: 'Order-1', type: 'RefundIssued', data: { refund: 30 } },
      { stream: 'Order-2', type: 'OrderPlaced', data: { total: 50 } },
      { stream: 'Order-2', type: 'Noise', data: {} },
      { stream: 'Order-3', type: 'OrderPlacedWithRefund', data: { total: 80, refund: 5 } },
      { stream: 'Order-4', type: 'OrderPlaced', data: { total: 70 } },
    ]);
    const before = await store.readAll(1, 100);
    const up = await load(join(FIXTURES, 'refundV2.ts'), { kind: 'upcaster' });
    const pm = await load(join(FIXTURES, 'orderTotals.ts'), { kind: 'projection' });
    const r = await tryUpcaster(store, up, projectionOf(pm));
    expect(await store.readAll(1, 100)).toEqual(before);
    expect(r).toMatchObject({ originalEvents: 6, upcastEvents: 6, dropped: 1, added: 1, streamsCompared: 4 });
    const by = Object.fromEntries(r.differences.map((d) => [d.stream, d]));
    expect(Object.keys(by).sort()).toEqual(['Order-1', 'Order-2', 'Order-3']);
    // v1 refunds were read as 0 by the projection; upcast to `amount` they count.
    expect(by['Order-1']!.diff).toEqual([{ path: ['total'], kind: 'changed', before: 100, after: 70 }]);
    expect(by['Order-2']).toMatchObject({ originalEvents: 2, upcastEvents: 1 });
    expect(by['Order-3']!.upcast).toEqual({ total: 75, events: 2, lastType: 'RefundIssued' });
  });

  it('an upcaster that returns garbage is named with the event', async () => {
    const dir = tmp();
    const file = join(dir, 'bad.mjs');
    writeFileSync(file, "export const upcast = (e) => (e.seq === 2 ? { ...e, type: '' } : e);\n");
    const store = await memoryStore(4);
    const up = await load(file, { kind: 'upcaster' });
    const pm = await load(join(FIXTURES, 'orderTotals.ts'), { kind: 'projection' });
    await expect(tryUpcaster(store, up, projectionOf(pm))).rejects.toThrow(
      /bad\.mjs: output 1 for seq 2 \(OrderPlaced Order-2\): type: /,
    );
  });
});
