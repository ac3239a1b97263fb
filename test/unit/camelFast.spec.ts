import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EncodedEvent, storedLineOf } from '../../src/main/engine/encodedEvent';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { encodeCamelLine } from '../../src/main/engine/ingest/camelFast';
import { canonicalValueEnd } from '../../src/main/engine/ingest/canonicalJson';
import { mapCamel } from '../../src/main/engine/ingest/formats';
import { importFiles } from '../../src/main/engine/ingest/importer';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';
import { Sequencer, type StreamCell } from '../../src/main/engine/sequencer';
import { normaliseOwnedEvent, type NormalisedEvent, type StoredEvent } from '../../src/shared/event';

/** What the importer does with a camelCase line without the one-pass reader. */
const fullPath = (line: string): NormalisedEvent =>
  normaliseOwnedEvent(mapCamel(JSON.parse(line) as Record<string, unknown>));

/** The stored line an empty store writes for the event (same seq, version and clock for both paths). */
function storedLineFor(e: NormalisedEvent): string {
  const cells = new Map<string, StreamCell>();
  const source = {
    streamCell: (s: string) => {
      let c = cells.get(s);
      if (!c) cells.set(s, (c = { version: 0, pending: -1 }));
      return c;
    },
    knownCell: (s: string) => cells.get(s),
    eventById: () => undefined,
  };
  const r = new Sequencer(41, source).assign([e], undefined, '2026-01-01T00:00:00.000Z');
  return storedLineOf(r.fresh[0]!);
}

const USUAL =
  '{"eventId":"9a4d7729-74cd-44ed-b181-4b7ff6b7bbec","eventType":"OrderPlaced","timestamp":"2025-01-01T00:00:00.000Z","actorId":"actor-00096","correlationId":"b163888d-31d3-4f58-9851-5146c9c25348","payload":{"amount":745.48,"currency":"USD","sku":"SKU-03898","qty":2,"status":"sent","note":"fjord anchor delta saddle"},"metadata":{"streamId":"Customer-974","tenantId":"acme"}}';

/** Texts: mostly plain, some with what needs escaping or is special to the reader. */
const text = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[A-Za-z0-9 _.:-]{1,12}$/) },
  { weight: 2, arbitrary: fc.constantFrom('', 'tab\there', 'q"uote', 'back\\slash', '😀', 'ünï', '日本') },
);
const key = fc.oneof(
  { weight: 9, arbitrary: fc.stringMatching(/^[a-z][A-Za-z0-9]{0,8}$/) },
  { weight: 1, arbitrary: fc.constantFrom('1', '01', '__proto__', 'a b', '', 'é') },
);
const num = fc.oneof(
  fc.integer({ min: -1e6, max: 1e6 }),
  fc.integer({ min: -1e8, max: 1e8 }).map((n) => n / 1000),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, 1e-7, 1e21, 2 ** 53 + 2),
);
/** JSON values as logs hold them: mostly plain, sometimes not (fc.jsonValue is nearly never plain). */
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    num,
    fc.boolean(),
    fc.constant(null),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc
    .array(fc.tuple(key, tie('value')), { maxLength: 5 })
    .map((kv) => Object.fromEntries(kv) as Record<string, unknown>),
})).value;

/** True when every part of v is spelt by JSON.stringify the one way canonicalJson takes. */
function plainJson(v: unknown, depth = 0): boolean {
  if (depth > 60) return false;
  if (v === null || typeof v === 'boolean') return true;
  if (typeof v === 'number')
    return !Object.is(v, -0) && !/e/.test(String(v)) && String(v).replace(/[-.]|^-?0\.0*/g, '').length <= 15;
  if (typeof v === 'string') return JSON.stringify(v) === `"${v}"` && !/[\ud800-\udfff]/.test(v);
  if (Array.isArray(v)) return v.every((x) => plainJson(x, depth + 1));
  return Object.entries(v as object).every(
    ([k, x]) => plainJson(k) && !/^\d/.test(k) && k !== '__proto__' && plainJson(x, depth + 1),
  );
}

describe('canonical JSON text', () => {
  const same = (t: string) => JSON.stringify(JSON.parse(t)) === t;

  it('is taken when re-serialising it gives the same text', () => {
    for (const t of [
      '{}',
      '[]',
      '{"a":[1,-2,3.25,0.5,-0.125,0.000001,100,123456789012345],"b":{"c":null,"d":true,"e":false}}',
      '"plain text with ünïcödé and 日本"',
      '[[],[{}],{"x":[]}]',
      '{"a1":1,"b":"2"}',
    ]) {
      expect(same(t), t).toBe(true);
      expect(canonicalValueEnd(t, 0), t).toBe(t.length);
    }
  });

  it('is refused wherever the round trip could spell it differently', () => {
    for (const t of [
      '{ "a":1}', // whitespace
      '{"a": 1}',
      '[1 ,2]',
      '"tab\\tinside"', // any escape
      '"\\u0041"',
      '"slash\\/"',
      '1.50', // trailing fraction zero
      '5.0',
      '1e5', // exponent
      '1E5',
      '-0', // prints as 0
      '-0.0',
      '01', // leading zero
      '0.0000001', // prints with an exponent
      '1234567890123456', // more digits than a double keeps
      '0.1234567890123456',
      '{"1":true,"a":false}', // integer keys are reordered
      '{"__proto__":{}}',
      '{"a":1,"a":2}', // the parse keeps the last
      '"😀"', // surrogates
      '{"a":1',
      '[1,]',
      'nul',
      '+1',
      '.5',
      '1.',
    ]) {
      expect(canonicalValueEnd(t, 0), t).not.toBe(t.length);
    }
    const deep = '['.repeat(70) + ']'.repeat(70);
    expect(canonicalValueEnd(deep, 0)).toBe(-1);
  });

  /** JSON-ish text: valid and invalid spellings of every token, whitespace, escapes, odd keys. */
  const token = fc.constantFrom(
    '0',
    '-0',
    '1',
    '-1',
    '10',
    '1.5',
    '1.50',
    '0.5',
    '-0.5',
    '1e3',
    '01',
    '0.000001',
    '0.0000001',
    '123456789012345',
    '1234567890123456',
    '9007199254740993',
    '2.2250738585072014e-308',
    '.5',
    'true',
    'false',
    'null',
    '""',
    '"a"',
    '"\\n"',
    '"\\u00e9"',
    '"é"',
    '"\\""',
    '"😀"',
    ' 1',
    '1 ',
  );
  const key = fc.constantFrom('a', 'b', '1', '01', '__proto__', 'a b', 'é', '\\u0061', '');
  const text: fc.Arbitrary<string> = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, token, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
    object: fc
      .array(fc.tuple(key, tie('value')), { maxLength: 4 })
      .map((kv) => `{${kv.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
  })).value as fc.Arbitrary<string>;

  it('is taken only when it parses and re-serialises to itself, and every JSON.stringify output of plain values is taken', () => {
    let taken = 0;
    fc.assert(
      fc.property(text, (t) => {
        if (canonicalValueEnd(t, 0) !== t.length) return;
        taken++;
        expect(same(t), t).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(taken).toBeGreaterThan(300);
    fc.assert(
      fc.property(json, (v) => {
        const t = JSON.stringify(v);
        if (!plainJson(v)) return;
        expect(canonicalValueEnd(t, 0), t).toBe(t.length);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the one-pass camelCase reader', () => {
  it('takes the usual line, with the event and the stored line of the full parse', () => {
    const fast = encodeCamelLine(USUAL);
    expect(fast).toBeInstanceOf(EncodedEvent);
    expect(fast!.toJSON()).toStrictEqual(fullPath(USUAL));
    expect(storedLineFor(fast!)).toBe(storedLineFor(fullPath(USUAL)));
    expect(JSON.parse(storedLineFor(fast!))).toMatchObject({
      seq: 42,
      stream: 'Customer-974',
      tenant: 'acme',
      data: { amount: 745.48, note: 'fjord anchor delta saddle' },
      meta: { streamId: 'Customer-974', tenantId: 'acme' },
    });
  });

  it('leaves to the full parse every line whose mapping it does not certainly know', () => {
    const rec = JSON.parse(USUAL) as Record<string, unknown>;
    const variants: Record<string, unknown>[] = [
      { ...rec, extra: 1 }, // kept in meta.extra
      { ...rec, stream: 'S-1' }, // stream keys
      { ...rec, userId: 'u' },
      { ...rec, eventId: 17 }, // numeric id
      { ...rec, eventId: '' },
      { ...rec, timestamp: 1714557600000 }, // epoch
      { ...rec, timestamp: '2025-01-01T00:00:00Z' }, // not canonical
      { ...rec, timestamp: '2025-02-30T00:00:00.000Z' }, // not a date
      { ...rec, payload: '{"a":1}' }, // JSON in a string: parsed by mapCamel
      { ...rec, payload: [1] },
      { ...rec, metadata: { tenantId: 'acme' } }, // stream from the payload
      { ...rec, metadata: { streamId: 'S', stream: 'T' } },
      { ...rec, metadata: { streamId: 7 } },
      { ...rec, actorId: 'x'.repeat(1025) },
      { ...rec, payload: { price: 1.5e300 } },
    ];
    for (const v of variants) expect(encodeCamelLine(JSON.stringify(v)), JSON.stringify(v)).toBeUndefined();
    expect(encodeCamelLine(USUAL.replace('"qty":2', '"qty": 2'))).toBeUndefined();
    expect(encodeCamelLine(USUAL.replace('anchor', 'an\\u0063hor'))).toBeUndefined();
    expect(encodeCamelLine(`${USUAL} `)).toBeUndefined();
  });

  const sometimes = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });
  const mostly = <T, U>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<U>) =>
    fc.oneof({ weight: 9, arbitrary: usual }, { weight: 1, arbitrary: odd });
  const record = fc.record(
    {
      eventId: mostly(fc.uuid(), fc.oneof(text, fc.integer())),
      eventType: mostly(fc.constantFrom('OrderPlaced', 'ItemAdded'), text),
      timestamp: mostly(
        fc
          .date({ min: new Date(0), max: new Date(Date.UTC(9999, 0)), noInvalidDate: true })
          .map((d) => d.toISOString()),
        fc.constantFrom(
          '2024-02-29T12:00:00.000Z',
          '2023-02-29T12:00:00.000Z',
          '2024-05-01 12:00:00+00',
          1714557600,
        ),
      ),
      actorId: sometimes(text),
      correlationId: sometimes(text),
      causationId: sometimes(text),
      tenantId: sometimes(text),
      payload: mostly(fc.dictionary(key, json, { maxKeys: 6 }), json),
      metadata: mostly(
        fc.record(
          {
            streamId: mostly(text, fc.integer()),
            tenantId: text,
            actorId: text,
            userId: text,
            correlationId: text,
            causationId: text,
            other: json,
          },
          { requiredKeys: ['streamId'] },
        ),
        json,
      ),
      extra: fc.constantFrom(undefined, undefined, undefined, undefined, 1),
    },
    { requiredKeys: ['eventId', 'eventType', 'timestamp', 'payload', 'metadata'] },
  );

  it('gives exactly the full parse’s event and stored line for every line it takes', () => {
    let taken = 0;
    fc.assert(
      fc.property(record, (rec) => {
        const line = JSON.stringify(rec);
        const fast = encodeCamelLine(line);
        if (!fast) return;
        taken++;
        const slow = fullPath(line); // never throws: what the reader takes is a valid event
        expect(fast.toJSON()).toStrictEqual(slow);
        expect(storedLineFor(fast)).toBe(storedLineFor(slow));
      }),
      { numRuns: 4000 },
    );
    expect(taken).toBeGreaterThan(150);
  });
});

describe('importing camelCase lines', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chronoscope-camel-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores the same events whichever path a line takes, in a file store and a memory store', async () => {
    const rec = JSON.parse(USUAL) as Record<string, unknown>;
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) {
      const r = { ...rec, eventId: `e-${i}`, metadata: { streamId: `S-${i % 7}`, tenantId: 'acme' } };
      // Every third line takes the full parse (whitespace), the others the one-pass reader.
      lines.push(i % 3 === 0 ? JSON.stringify(r, null, 1).replace(/\n/g, '') : JSON.stringify(r));
    }
    // Same id, another stream: a line fault, so its batch is appended again line by line.
    lines.push(JSON.stringify({ ...rec, eventId: 'e-5', metadata: { streamId: 'Other' } }));
    const path = join(dir, 'camel.jsonl');
    await writeFile(path, `${lines.join('\n')}\n`);
    expect(lines.filter((l) => encodeCamelLine(l)).length).toBe(201);

    const file = await FileStore.open(join(dir, 'store'));
    const mem = new MemoryStore();
    try {
      for (const target of [file, mem]) {
        const s = await importFiles(target, [path], { format: 'camel', batchSize: 64 });
        expect(s).toMatchObject({ imported: 300, quarantined: 1, duplicates: 0 });
        expect(s.quarantine[0]).toMatchObject({ line: 301 });
      }
      const fromFile = await file.readAll(1, 1000);
      const fromMem = await mem.readAll(1, 1000);
      const strip = (e: StoredEvent) => ({ ...e, recordedAt: '' });
      expect(fromFile.map(strip)).toStrictEqual(fromMem.map(strip));
      for (let i = 0; i < 300; i++) {
        const want = fullPath(lines[i]!);
        expect(fromFile[i]).toMatchObject({ ...want, seq: i + 1, version: Math.floor(i / 7) + 1 });
      }
      // The bytes on disk are the stored lines of the full parse.
      await file.close();
      const reopened = await FileStore.open(join(dir, 'store'), { readOnly: true });
      expect((await reopened.readAll(1, 1000)).map(strip)).toStrictEqual(fromMem.map(strip));
      await reopened.close();
    } finally {
      await file.close().catch(() => {});
      await mem.close();
    }
  });
});
