/**
 * The importer on real hostile files (issue #9): truncated, binary and invalid UTF-8 lines, non-objects,
 * wrong envelope types, prototype keys, 10,000-level nesting, huge numbers, duplicate and conflicting
 * ids, oversized lines, CRLF and blank lines, plain and gzip. Each generated line knows its fate, so
 * the counts are checked exactly: every bad line quarantined with its file and line number, every
 * good line imported with its content, and the store stays whole between files.
 * Replay with CHRONOSCOPE_FUZZ_SEED (printed below).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { importFiles } from '../../src/main/engine/ingest/importer';
import { DEFAULT_MAX_LINE_BYTES, LineReader } from '../../src/main/engine/ingest/lineReader';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';
import {
  FUZZ_SEED,
  HUGE_NUMBER_LITERALS,
  PROTO_KEYS,
  Rng,
  casesFor,
  hostileJson,
  nestedText,
  pollutionWatch,
} from './support/hostile';

const LINES = casesFor(0.3);
const LINES_PER_FILE = 250;
const MAX_LINE = 8192; // small, so oversized lines are cheap to generate
const figures = {
  lines: 0,
  imported: 0,
  quarantined: 0,
  duplicates: 0,
  blank: 0,
  files: 0,
  eventsChecked: 0,
};
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'chronoscope-fuzz-import-'));
  console.info(`fuzz import: seed ${FUZZ_SEED} (CHRONOSCOPE_FUZZ_SEED=${FUZZ_SEED} replays), ${LINES} lines`);
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  console.info(`fuzz import figures: ${JSON.stringify(figures)}`);
});

type Fate = 'import' | 'blank' | 'quarantine' | 'duplicate';
interface Line {
  bytes: Buffer;
  fate: Fate;
  id?: string;
  /** For imported lines: the payload the stored event must carry (as JSON text). */
  data?: string;
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');
let serial = 0;

/** Field values a native line must be refused for (numbers are fine for text fields: ids are often numeric). */
const REFUSED: Record<string, readonly unknown[]> = {
  stream: [null, true, [], {}, ''],
  type: [null, false, ['t'], { t: 1 }, ''],
  id: [true, [1], { id: 1 }],
  tenant: [true, [], { t: 1 }],
  actor: [false, ['a']],
  correlationId: [true, {}],
  causationId: [[], { c: 1 }],
  time: ['not-a-date', '2024-02-30T00:00:00Z', true, [], {}, null, '99999-01-01'],
  tags: ['vip', [1], {}, true, null, ['']],
  schemaVersion: ['x', -1, 1.5, true, null, '1'],
  meta: [[], 'x', 5, true, null],
};

function goodEvent(r: Rng, prefix: string): { obj: Record<string, unknown>; id: string } {
  const id = `${prefix}-${serial++}`;
  return { id, obj: { id, stream: `Imp-${r.int(20)}`, type: r.pick(['A', 'B']), data: hostileJson(r, 3) } };
}

/** One line of a hostile file and what must become of it. */
function makeLine(r: Rng, prefix: string, earlier: { id: string; line: string }[]): Line {
  const k = r.int(16);
  if (k <= 3) {
    const { id, obj } = goodEvent(r, prefix);
    const line = JSON.stringify(obj);
    earlier.push({ id, line });
    return { bytes: utf8(line), fate: 'import', id, data: JSON.stringify(obj.data) };
  }
  switch (k) {
    case 4: {
      const line = JSON.stringify(goodEvent(r, prefix).obj);
      return { bytes: utf8(line.slice(0, 1 + r.int(line.length - 1))), fate: 'quarantine' }; // truncated
    }
    case 5: {
      const b = Buffer.alloc(1 + r.int(200));
      for (let i = 0; i < b.length; i++) b[i] = r.int(256);
      b[0] = 0xff; // never blank, never valid UTF-8 at the start
      for (let i = 0; i < b.length; i++) if (b[i] === 10) b[i] = 0; // one line
      return { bytes: b, fate: 'quarantine' };
    }
    case 6: {
      // A good-looking event with invalid UTF-8 inside a string.
      const bad = r.pick([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]]);
      const bytes = Buffer.concat([utf8('{"stream":"s","type":"t","data":"'), Buffer.from(bad), utf8('"}')]);
      return { bytes, fate: 'quarantine' };
    }
    case 7:
      return {
        bytes: utf8(r.pick(['[1,2]', '"str"', '42', 'null', 'true', '[]', '{"a":1} {"b":2}'])),
        fate: 'quarantine',
      };
    case 8: {
      const field = r.pick(Object.keys(REFUSED));
      const { obj } = goodEvent(r, prefix);
      obj[field] = r.pick(REFUSED[field]!);
      return { bytes: utf8(JSON.stringify(obj)), fate: 'quarantine' };
    }
    case 9: {
      // Prototype keys at the top level (kept in meta.extra), in data and in meta: all imported as plain keys.
      const { id, obj } = goodEvent(r, prefix);
      const key = r.pick(PROTO_KEYS);
      const extra = JSON.stringify(hostileJson(r, 2));
      const line = `${JSON.stringify(obj).slice(0, -1)},"${key}":${extra},"meta":{"__proto__":{"polluted":true},"constructor":{"prototype":{"isAdmin":true}}}}`;
      earlier.push({ id, line });
      return { bytes: utf8(line), fate: 'import', id, data: JSON.stringify(obj.data) };
    }
    case 10:
      return {
        bytes: utf8(
          `{"stream":"s","type":"t","data":${nestedText(r.chance(0.5) ? 10_000 : 600, r.chance(0.5) ? 'array' : 'object')}}`,
        ),
        fate: 'quarantine',
      };
    case 11:
      return {
        bytes: utf8(`{"stream":"s","type":"t","data":{"n":${r.pick(HUGE_NUMBER_LITERALS.slice(0, 3))}}}`),
        fate: 'quarantine',
      };
    case 12: {
      if (earlier.length === 0) return { bytes: utf8(''), fate: 'blank' };
      const prior = r.pick(earlier);
      // The same line again is an idempotent duplicate; its id on another stream is a conflict.
      if (r.chance(0.5)) return { bytes: utf8(prior.line), fate: 'duplicate' };
      const clash = { id: prior.id, stream: 'Elsewhere', type: 'A' };
      return { bytes: utf8(JSON.stringify(clash)), fate: 'quarantine' };
    }
    case 13:
      return {
        bytes: utf8(`{"stream":"s","type":"t","data":"${'x'.repeat(MAX_LINE + r.int(3 * MAX_LINE))}"}`),
        fate: 'quarantine',
      };
    case 14:
      return { bytes: utf8(r.pick(['', '   ', '\t', '\r', ' \t\r'])), fate: 'blank' };
    default:
      return { bytes: utf8(`{"stream":"s","type":"t"\u0000}`), fate: 'quarantine' };
  }
}

interface FilePlan {
  path: string;
  lines: Line[];
}

function writeFile(r: Rng, n: number, no: number, earlier: { id: string; line: string }[]): FilePlan {
  const lines = Array.from({ length: LINES_PER_FILE }, () => makeLine(r, `f${no}`, earlier));
  const eol = r.chance(0.3) ? '\r\n' : '\n';
  const parts: Buffer[] = [];
  if (r.chance(0.2)) parts.push(Buffer.from([0xef, 0xbb, 0xbf])); // a BOM is not part of line 1
  lines.forEach((l, i) => {
    parts.push(l.bytes);
    // The last newline is optional, except after an empty last line: without it that line does not exist.
    if (i < lines.length - 1 || r.chance(0.5) || l.bytes.length === 0) parts.push(utf8(eol));
  });
  let body = Buffer.concat(parts);
  const gz = r.chance(0.3);
  if (gz) {
    // Multi-member gzip, as BGZF and `cat a.gz b.gz` produce.
    const cut = Math.floor(body.length / 2);
    body = Buffer.concat([gzipSync(body.subarray(0, cut)), gzipSync(body.subarray(cut))]);
  }
  const path = join(tmp, `hostile-${n}-${no}.jsonl${gz ? '.gz' : ''}`);
  writeFileSync(path, body);
  return { path, lines };
}

describe(`hostile import files (seed ${FUZZ_SEED})`, () => {
  it('every bad line is quarantined with its file and line number, every good line imported, counts exact', async () => {
    const r = new Rng(FUZZ_SEED, 'import');
    const watch = pollutionWatch();
    const dir = join(tmp, 'store');
    const store = await FileStore.open(dir, { segmentMaxBytes: 256 * 1024, sealInWorker: false });
    const expectedStored = new Map<string, string>(); // id → data JSON
    const earlier: { id: string; line: string }[] = [];
    try {
      for (let no = 0; no * LINES_PER_FILE < LINES; no++) {
        const plan = writeFile(r, 0, no, earlier);
        const qpath = join(tmp, `quarantine-${no}.jsonl`);
        const before = store.lastSeq();
        const sum = await importFiles(store, [plan.path], {
          format: 'native',
          maxLineBytes: MAX_LINE,
          batchSize: 1 + r.int(300),
          quarantinePath: qpath,
        });
        const want = { lines: plan.lines.length, blank: 0, imported: 0, duplicates: 0, quarantined: 0 };
        const wantQuarantined: number[] = [];
        plan.lines.forEach((l, i) => {
          if (l.fate === 'import') want.imported++;
          else if (l.fate === 'blank') want.blank++;
          else if (l.fate === 'duplicate') want.duplicates++;
          else {
            want.quarantined++;
            wantQuarantined.push(i + 1);
          }
          if (l.fate === 'import') expectedStored.set(l.id!, l.data!);
        });
        const got = {
          lines: sum.lines,
          blank: sum.blank,
          imported: sum.imported,
          duplicates: sum.duplicates,
          quarantined: sum.quarantined,
        };
        expect(sum.files[0]!.error, plan.path).toBeUndefined();
        expect(got, plan.path).toEqual(want);
        // The quarantine file holds every bad line once, with file and line number and a reason.
        const q = readFileSync(qpath, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { file: string; line: number; reason: string });
        expect(
          q.map((x) => x.line).sort((a, b) => a - b),
          `quarantined lines of ${plan.path}`,
        ).toEqual(wantQuarantined);
        for (const x of q) {
          expect(x.file).toBe(plan.path);
          expect(typeof x.reason === 'string' && x.reason.length > 0).toBe(true);
        }
        expect(sum.quarantine.length).toBe(Math.min(100, want.quarantined));
        expect(store.lastSeq()).toBe(before + want.imported);
        if (no % 3 === 0) {
          // Auto-detection on the same hostile file: whatever it decides, every line is accounted for.
          const auto = await importFiles(new MemoryStore(), [plan.path], { maxLineBytes: MAX_LINE });
          const f = auto.files[0]!;
          if (f.error) expect(f.error.code, f.error.message).toMatch(/^(INVALID_ARGUMENT|INVALID_EVENT)$/);
          else {
            expect(f.lines, `${plan.path} as ${f.format}`).toBe(want.lines);
            expect(f.blank + f.imported + f.duplicates + f.quarantined).toBe(f.lines);
          }
        }
        figures.files++;
        figures.lines += want.lines;
        figures.imported += want.imported;
        figures.quarantined += want.quarantined;
        figures.duplicates += want.duplicates;
        figures.blank += want.blank;
        expect(watch.polluted(), `after ${plan.path}`).toEqual([]);
      }
      // Every good line is in the store exactly once with its payload; nothing else is.
      const all = await store.readAll(1, 1_000_000);
      expect(all.length).toBe(expectedStored.size);
      const problems: string[] = [];
      for (const e of all) {
        const data = expectedStored.get(e.id);
        if (data === undefined) problems.push(`${e.id} was stored but never a good line`);
        else if (JSON.stringify(e.data) !== data) problems.push(`${e.id}: data changed`);
      }
      expect(problems.slice(0, 10), `${problems.length} problems`).toEqual([]);
      figures.eventsChecked += all.length;
      const v = await store.verify();
      expect(v.issues).toEqual([]);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('a top-level "__proto__" key is kept in meta.extra as a plain key, never as a prototype (regression)', async () => {
    const path = join(tmp, 'proto.jsonl');
    writeFileSync(
      path,
      '{"stream":"s","type":"t","__proto__":{"polluted":1}}\n{"stream":"s","type":"t","__proto__":5}\n',
    );
    const s = new MemoryStore();
    const sum = await importFiles(s, [path], { format: 'native' });
    expect({ imported: sum.imported, quarantined: sum.quarantined }).toEqual({ imported: 2, quarantined: 0 });
    const [a, b] = await s.readAll(1, 10);
    expect(JSON.stringify(a!.meta)).toBe('{"extra":{"__proto__":{"polluted":1}}}');
    expect(JSON.stringify(b!.meta)).toBe('{"extra":{"__proto__":5}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('CloudEvents extensions named constructor, toString or __proto__ stay in meta (regression)', async () => {
    const path = join(tmp, 'ce.jsonl');
    writeFileSync(
      path,
      '{"specversion":"1.0","id":"c1","source":"src","type":"t","constructor":"x","toString":"y","__proto__":{"p":1}}\n',
    );
    const s = new MemoryStore();
    const sum = await importFiles(s, [path], { format: 'cloudevents' });
    expect(sum.quarantine).toEqual([]);
    const [e] = await s.readAll(1, 10);
    expect(JSON.stringify(e!.meta)).toBe(
      '{"specversion":"1.0","source":"src","constructor":"x","toString":"y","__proto__":{"p":1}}',
    );
  });

  it("a line reusing another stream's id is quarantined; the lines around it are imported (regression)", async () => {
    const path = join(tmp, 'clash.jsonl');
    writeFileSync(
      path,
      [
        '{"id":"a1","stream":"s","type":"t"}',
        '{"id":"a1","stream":"OTHER","type":"t"}',
        '{"id":"a2","stream":"s","type":"t"}',
      ].join('\n'),
    );
    const s = new MemoryStore();
    const sum = await importFiles(s, [path], { format: 'native' });
    expect({ imported: sum.imported, quarantined: sum.quarantined }).toEqual({ imported: 2, quarantined: 1 });
    expect(sum.quarantine[0]).toMatchObject({
      file: path,
      line: 2,
      reason: expect.stringContaining('a1 already belongs'),
    });
  });

  it('a native line whose id, tenant or actor is an object, array or boolean is quarantined, not imported without it (regression)', async () => {
    const path = join(tmp, 'types.jsonl');
    writeFileSync(
      path,
      [
        '{"stream":"s","type":"t","tenant":{"x":1}}',
        '{"stream":"s","type":"t","id":true}',
        '{"stream":"s","type":"t","actor":["a"]}',
        '{"stream":"s","type":"t","id":17,"actor":null}',
      ].join('\n'),
    );
    const s = new MemoryStore();
    const sum = await importFiles(s, [path], { format: 'native' });
    expect(sum.quarantine.map((q) => [q.line, q.reason])).toEqual([
      [1, 'field tenant: must be a non-empty string, not object'],
      [2, 'field id: must be a non-empty string, not boolean'],
      [3, 'field actor: must be a non-empty string, not an array'],
    ]);
    expect((await s.readAll(1, 10)).map((e) => e.id)).toEqual(['17']);
  });

  it("a field mapping reads only the record's own keys, never inherited ones like constructor.name (regression)", async () => {
    const path = join(tmp, 'mapped.jsonl');
    writeFileSync(path, '{"kind":"A","constructor":{"name":"C-1"}}\n{"kind":"B"}\n');
    const s = new MemoryStore();
    const sum = await importFiles(s, [path], { mapping: { type: 'kind', stream: 'constructor.name' } });
    expect((await s.readAll(1, 10)).map((e) => e.stream)).toEqual(['C-1']);
    expect(sum.quarantine.map((q) => [q.line, q.reason])).toEqual([
      [2, 'field stream (from "constructor.name"): missing'],
    ]);
  });

  it('a 100 MB line is quarantined, not fatal: the reader never buffers it and the lines around it are imported', async () => {
    const path = join(tmp, 'huge.jsonl');
    const huge = 100 * 1024 * 1024;
    const big = Buffer.alloc(huge, 0x61);
    Buffer.from('{"stream":"s","type":"t","data":"').copy(big);
    big.write('"}', huge - 2);
    writeFileSync(
      path,
      Buffer.concat([
        utf8('{"stream":"s","type":"before"}\n'),
        big,
        utf8('\n{"stream":"s","type":"after"}\n'),
      ]),
    );
    const heapBefore = process.memoryUsage().heapUsed;
    const s = new MemoryStore();
    const sum = await importFiles(s, [path], { format: 'native', quarantinePath: join(tmp, 'huge-q.jsonl') });
    expect({ imported: sum.imported, quarantined: sum.quarantined, lines: sum.lines }).toEqual({
      imported: 2,
      quarantined: 1,
      lines: 3,
    });
    expect(sum.quarantine[0]).toMatchObject({
      line: 2,
      reason: `line of ${huge} bytes exceeds the maximum line length`,
    });
    expect(sum.quarantine[0]!.raw.length).toBeLessThanOrEqual(1024);
    expect((await s.readAll(1, 10)).map((e) => e.type)).toEqual(['before', 'after']);
    // The reader holds at most the limit (16 MiB) of a line; the import never held the 100 MB.
    const reader = new LineReader(path);
    for await (const batch of reader.batches()) void batch;
    expect(reader.stats.peakBufferedBytes).toBeLessThanOrEqual(DEFAULT_MAX_LINE_BYTES);
    const heapGrowthMB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    console.info(
      `100 MB line: heap growth ${heapGrowthMB.toFixed(1)} MB, peak line buffer ${(reader.stats.peakBufferedBytes / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(heapGrowthMB).toBeLessThan(64);
    figures.lines += 3;
    figures.quarantined += 1;
  }, 60_000);
});
