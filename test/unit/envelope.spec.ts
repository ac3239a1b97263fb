import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isChronoscopeError } from '../../src/shared/errors';
import {
  eventInputSchema,
  normaliseEvent,
  normaliseOwnedEvent,
  parseStoredLine,
  serialiseEvent,
  storedLine,
  uuidv7,
  type JsonValue,
  type NormalisedEvent,
  type StoredEvent,
} from '../../src/shared/event';
import { matchesPredicate, type JsonPredicate } from '../../src/shared/query';
import { keyHash } from '../../src/main/engine/file/keyHash';
import { LatencyHistogram } from '../../src/main/engine/metrics';
import { Sequencer, type SequencerSource, type StreamCell } from '../../src/main/engine/sequencer';

const UUIDV7_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const base = { stream: 'Order-1', type: 'OrderPlaced' };

/** normaliseEvent's error for an input, or a failure if it accepted it. */
function rejection(input: unknown, where?: string): { code: string; message: string; field?: unknown } {
  try {
    normaliseEvent(input, undefined, where);
  } catch (err) {
    if (!isChronoscopeError(err)) throw err;
    return { code: err.code, message: err.message, field: err.details?.field };
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('normaliseEvent', () => {
  it('fills defaults: a UUIDv7 id, the clock time, tenant "default" and data {}', () => {
    const e = normaliseEvent(base, () => '2026-03-01T10:00:00.000Z');
    expect(e).toEqual({
      id: expect.stringMatching(UUIDV7_RE),
      stream: 'Order-1',
      type: 'OrderPlaced',
      time: '2026-03-01T10:00:00.000Z',
      tenant: 'default',
      data: {},
    });
    expect(Object.keys(e)).toEqual(['id', 'stream', 'type', 'time', 'tenant', 'data']);
  });

  it('keeps every optional field the writer gave, and nothing it did not', () => {
    const input = {
      id: 'e-1',
      stream: 'S',
      type: 'T',
      time: '2026-03-01T10:00:00.000Z',
      tenant: 't1',
      actor: 'u1',
      correlationId: 'c1',
      causationId: 'x1',
      tags: ['vip', 'vip'],
      schemaVersion: 0,
      data: { a: [1, 'b', null, true, { c: -2.5 }] },
      meta: { source: 'api' },
    };
    expect(normaliseEvent(input)).toEqual(input);
    const minimal = normaliseEvent({ ...base, data: null });
    for (const k of ['actor', 'correlationId', 'causationId', 'tags', 'schemaVersion', 'meta'])
      expect(Object.prototype.hasOwnProperty.call(minimal, k), k).toBe(false);
    expect(minimal.data).toBeNull();
  });

  it.each([
    ['stream', { type: 'T' }],
    ['stream', { stream: '', type: 'T' }],
    ['stream', { stream: 'x'.repeat(1025), type: 'T' }],
    ['stream', { stream: 7, type: 'T' }],
    ['type', { stream: 'S' }],
    ['type', { stream: 'S', type: '' }],
    ['type', { stream: 'S', type: 'x'.repeat(257) }],
    ['id', { ...base, id: '' }],
    ['id', { ...base, id: 'x'.repeat(201) }],
    ['id', { ...base, id: 12 }],
    ['time', { ...base, time: 'yesterday' }],
    ['time', { ...base, time: '2026-03-01T10:00:00' }],
    ['time', { ...base, time: '2026-03-01' }],
    ['time', { ...base, time: '2026-13-01T10:00:00Z' }],
    ['time', { ...base, time: '2026-03-01T23:59:60.000Z' }],
    ['time', { ...base, time: 1772359200000 }],
    ['tenant', { ...base, tenant: '' }],
    ['tenant', { ...base, tenant: 'x'.repeat(257) }],
    ['actor', { ...base, actor: '' }],
    ['correlationId', { ...base, correlationId: '' }],
    ['causationId', { ...base, causationId: '' }],
    ['causationId', { ...base, causationId: 'x'.repeat(1025) }],
    ['tags', { ...base, tags: 'vip' }],
    ['tags.1', { ...base, tags: ['ok', ''] }],
    ['tags.0', { ...base, tags: [3] }],
    ['tags', { ...base, tags: Array.from({ length: 65 }, (_, i) => `t${i}`) }],
    ['schemaVersion', { ...base, schemaVersion: -1 }],
    ['schemaVersion', { ...base, schemaVersion: 1.5 }],
    ['schemaVersion', { ...base, schemaVersion: '1' }],
    ['meta', { ...base, meta: 'api' }],
    ['meta', { ...base, meta: [1, 2] }],
    ['meta', { ...base, meta: null }],
    ['bogus', { ...base, bogus: 1 }],
    ['data', { ...base, data: Number.NaN }],
    ['data.total', { ...base, data: { total: Infinity } }],
    ['data.items.1.price', { ...base, data: { items: [{ price: 1 }, { price: -Infinity }] } }],
    ['data.f', { ...base, data: { f: () => 1 } }],
    ['data.n', { ...base, data: { n: 10n } }],
    ['data.u', { ...base, data: { u: undefined } }],
    ['data.s', { ...base, data: { s: Symbol('s') } }],
    ['data.1', { ...base, data: [1, undefined, 3] }],
    ['meta.a', { ...base, meta: { a: Number.NaN } }],
    ['meta.b.c', { ...base, meta: { b: { c: undefined } } }],
  ])('rejects a bad %s with INVALID_EVENT naming the field', (field, input) => {
    const err = rejection(input);
    expect(err.code).toBe('INVALID_EVENT');
    expect(err.message).toContain(`field ${field}`);
    expect(err.field).toBe(field);
  });

  it('prefixes the error with where the input came from', () => {
    const err = rejection({ stream: 'S', type: '' }, 'line 12 of orders.jsonl');
    expect(err.message).toMatch(/^line 12 of orders\.jsonl: field type: /);
  });

  it('rejects input that is not an object', () => {
    for (const v of [null, undefined, 'event', 42, [base]]) expect(rejection(v).code).toBe('INVALID_EVENT');
  });

  it('rejects nesting deeper than 512 levels and cycles, without overflowing the stack', () => {
    let deep: JsonValue = 1;
    for (let i = 0; i < 600; i++) deep = [deep];
    expect(rejection({ ...base, data: deep }).message).toMatch(/nested deeper than 512 levels/);
    let ok: JsonValue = 1;
    for (let i = 0; i < 500; i++) ok = { k: ok };
    expect(normaliseEvent({ ...base, data: ok }).data).toEqual(ok);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(rejection({ ...base, data: cyclic }).code).toBe('INVALID_EVENT');
  });

  it('rejects data and meta values that JSON would silently change (Map, Set, Date, class instances)', () => {
    // A Map serialises as {} and a Date as a string: accepting them loses or changes the writer's data.
    for (const v of [
      new Map([['a', 1]]),
      new Set([1]),
      new Date(0),
      new (class Point {
        x = 1;
      })(),
    ])
      expect(rejection({ ...base, data: { v } }).code, String(v)).toBe('INVALID_EVENT');
    // meta must be a JSON object: the schema refuses a Date, so the fast path must too.
    expect(eventInputSchema.safeParse({ ...base, meta: new Date(0) }).success).toBe(false);
    expect(rejection({ ...base, meta: new Date(0) }).code).toBe('INVALID_EVENT');
  });

  it('keeps __proto__ and constructor as ordinary keys of data and meta', () => {
    const data = JSON.parse('{"__proto__":{"polluted":true},"constructor":"c"}') as JsonValue;
    const meta = JSON.parse('{"__proto__":{"x":1},"a":1}') as Record<string, JsonValue>;
    const e = normaliseEvent({ ...base, data, meta });
    expect(Object.prototype.hasOwnProperty.call(e.data, '__proto__')).toBe(true);
    expect(Object.prototype.hasOwnProperty.call(e.meta, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse(JSON.stringify(e.meta))).toEqual(meta);
  });

  it("copies what a writer hands over, but keeps an importer's own parse as it is, checked the same way", () => {
    const input = {
      ...base,
      id: 'e-1',
      time: '2026-03-01T10:00:00Z',
      data: { items: [{ sku: 'a' }] },
      meta: { source: 'x' },
    };
    const copied = normaliseEvent(input);
    expect(copied.data).toEqual(input.data);
    expect(copied.data).not.toBe(input.data);
    expect(copied.meta).not.toBe(input.meta);
    const owned = normaliseOwnedEvent(input);
    expect(owned.data).toBe(input.data);
    expect(owned.meta).toBe(input.meta);
    expect(owned).toEqual(copied);
    let deep: JsonValue = 1;
    for (let i = 0; i < 600; i++) deep = [deep];
    for (const bad of [
      { ...base, data: { a: { deep } } },
      { ...base, meta: { n: Number.NaN } },
    ]) {
      let err: unknown;
      try {
        normaliseOwnedEvent(bad, 'line 3');
      } catch (e) {
        err = e;
      }
      expect(isChronoscopeError(err, 'INVALID_EVENT')).toBe(true);
      expect((err as Error).message).toMatch(/^line 3: field (data\.a\.deep|meta\.n)[.\d]*: /);
    }
  });

  it('stores every accepted time in canonical UTC form with milliseconds (what toISOString gives)', () => {
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    fc.assert(
      fc.property(
        fc.record({
          year: fc.oneof(
            fc.integer({ min: 1970, max: 2100 }),
            fc.integer({ min: 1, max: 9999 }),
            fc.constantFrom(4, 100, 400, 1900, 2000),
          ),
          month: fc.integer({ min: 1, max: 12 }),
          day: fc.integer({ min: 1, max: 31 }),
          hour: fc.integer({ min: 0, max: 24 }),
          minute: fc.integer({ min: 0, max: 59 }),
          second: fc.option(fc.integer({ min: 0, max: 59 })),
          fraction: fc.option(fc.stringMatching(/^[0-9]{1,9}$/)),
          zone: fc.oneof(
            fc.constant('Z'),
            fc
              .record({
                sign: fc.constantFrom('+', '-'),
                h: fc.integer({ min: 0, max: 14 }),
                m: fc.constantFrom(0, 30, 45),
                colon: fc.boolean(),
              })
              .map(({ sign, h, m, colon }) => `${sign}${pad(h)}${colon ? ':' : ''}${pad(m)}`),
          ),
        }),
        (t) => {
          const secs =
            t.second === null ? '' : `:${pad(t.second)}${t.fraction === null ? '' : `.${t.fraction}`}`;
          const time = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}${secs}${t.zone}`;
          const ms = Date.parse(time);
          let e: NormalisedEvent;
          try {
            e = normaliseEvent({ ...base, time });
          } catch (err) {
            // Refusing a time is fine only when it is no real instant: unreadable, or an impossible
            // calendar date (Feb 30, hour 24) that Date would silently roll over.
            const leap = (t.year % 4 === 0 && t.year % 100 !== 0) || t.year % 400 === 0;
            const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][t.month - 1]!;
            const impossible = t.day > days || t.hour === 24;
            expect(Number.isNaN(ms) || impossible, `refused ${time}`).toBe(true);
            expect(isChronoscopeError(err, 'INVALID_EVENT')).toBe(true);
            return;
          }
          expect(e.time, time).toBe(new Date(ms).toISOString());
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('accepts 29 February in every leap year, including year 0000 (1 BC, a leap year)', () => {
    for (const year of ['0000', '0004', '0400', '1600', '2000', '2024'])
      expect(normaliseEvent({ ...base, time: `${year}-02-29T12:00:00Z` }).time).toBe(
        new Date(Date.parse(`${year}-02-29T12:00:00Z`)).toISOString(),
      );
    for (const year of ['0100', '1900', '2023'])
      expect(rejection({ ...base, time: `${year}-02-29T12:00:00Z` }).code).toBe('INVALID_EVENT');
  });

  it('normalises the same instant written in different zones to the same string', () => {
    const spellings = [
      '2026-03-01T10:00:00Z',
      '2026-03-01T10:00Z',
      '2026-03-01T12:00:00+02:00',
      '2026-03-01T12:00:00+0200',
      '2026-03-01T05:00:00.000-05:00',
      '2026-03-01T10:00:00.000000Z',
      '2026-03-01T10:00:00.000Z',
    ];
    for (const time of spellings)
      expect(normaliseEvent({ ...base, time }).time, time).toBe('2026-03-01T10:00:00.000Z');
    expect(normaliseEvent({ ...base, time: '2026-03-01T10:00:00.123456789Z' }).time).toBe(
      '2026-03-01T10:00:00.123Z',
    );
  });

  it('treats an impossible calendar date the way Date does, never keeping it verbatim', () => {
    for (const time of ['2026-02-30T00:00:00.000Z', '2026-04-31T10:00:00.000Z', '2026-03-01T24:00:00.000Z']) {
      let stored: string | undefined;
      try {
        stored = normaliseEvent({ ...base, time }).time;
      } catch (err) {
        expect(isChronoscopeError(err, 'INVALID_EVENT')).toBe(true);
        continue;
      }
      expect(stored, time).toBe(new Date(Date.parse(time)).toISOString());
    }
  });

  it('accepts exactly what the schema accepts (the hand-written fast path agrees with zod)', () => {
    const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });
    const text = (max: number) =>
      fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('x', 'Order-1', 'x'.repeat(max)) },
        { weight: 1, arbitrary: fc.constantFrom('', 'x'.repeat(max + 1)) },
        { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.constant(null)) },
      );
    const input = fc.record(
      {
        id: maybe(text(200)),
        stream: text(1024),
        type: text(256),
        time: maybe(
          fc.constantFrom('2026-03-01T10:00:00Z', '2026-03-01', 'nope', '2026-03-01T10:00:00.000Z', 5),
        ),
        tenant: maybe(text(256)),
        actor: maybe(text(1024)),
        correlationId: maybe(text(1024)),
        causationId: maybe(text(1024)),
        tags: maybe(
          fc.oneof(fc.array(text(256), { maxLength: 3 }), fc.constant('t'), fc.constant(Array(65).fill('t'))),
        ),
        schemaVersion: maybe(fc.constantFrom(0, 1, -1, 1.5, '2', 2 ** 53)),
        data: maybe(fc.jsonValue()),
        meta: maybe(
          fc.oneof(
            fc.dictionary(fc.string(), fc.jsonValue()),
            fc.constantFrom(null, [], 'm', 3, new Date(0), new Map()),
          ),
        ),
        extra: maybe(fc.constant(1)),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(input, (i) => {
        const clean = Object.fromEntries(Object.entries(i).filter(([, v]) => v !== undefined));
        const schemaSays = eventInputSchema.safeParse(clean).success;
        let accepted = true;
        try {
          normaliseEvent(clean);
        } catch (err) {
          expect(isChronoscopeError(err, 'INVALID_EVENT')).toBe(true);
          accepted = false;
        }
        expect(accepted, JSON.stringify(clean)).toBe(schemaSays);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('uuidv7', () => {
  it('has the RFC 9562 version-7 layout and carries its millisecond timestamp', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (ms) => {
        const id = uuidv7(ms);
        expect(id).toMatch(UUIDV7_RE);
        expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
      }),
    );
  });

  it('sorts by creation time: a later millisecond always gives a greater id', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 2 }), fc.integer({ min: 1, max: 10_000 }), (a, d) => {
        const b = Math.min(a + d, 2 ** 48 - 1);
        expect(uuidv7(a) < uuidv7(b)).toBe(true);
      }),
    );
  });

  it('is random in its low bits: many ids of one millisecond are distinct', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => uuidv7(1_772_359_200_000)));
    expect(ids.size).toBe(5000);
  });

  it('is what normaliseEvent uses for a missing id, stamped with the current time', () => {
    const before = Date.now();
    const id = normaliseEvent(base).id;
    const after = Date.now();
    const stamped = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    // A correctness check of the id's embedded timestamp, not a timing assertion.
    expect(stamped).toBeGreaterThanOrEqual(before);
    expect(stamped).toBeLessThanOrEqual(after);
  });
});

// ---------------------------------------------------------------------------------------------

const jsonNoNegZero: fc.Arbitrary<JsonValue> = fc
  .jsonValue({ noUnicodeString: false })
  .map((v) => JSON.parse(JSON.stringify(v)) as JsonValue);
const storedArb: fc.Arbitrary<StoredEvent> = fc
  .record(
    {
      seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      id: fc.oneof(fc.uuid(), fc.string({ minLength: 1, unit: 'grapheme' })),
      stream: fc.string({ minLength: 1, unit: 'binary' }),
      version: fc.integer({ min: 1, max: 2 ** 40 }),
      type: fc.string({ minLength: 1 }),
      time: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      recordedAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      tenant: fc.string({ minLength: 1, unit: 'grapheme-composite' }),
      actor: fc.string({ minLength: 1 }),
      correlationId: fc.string({ minLength: 1 }),
      causationId: fc.string({ minLength: 1 }),
      tags: fc.array(fc.string({ minLength: 1 }), { maxLength: 4 }),
      schemaVersion: fc.nat(),
      data: jsonNoNegZero,
      meta: fc.dictionary(fc.string(), jsonNoNegZero, { maxKeys: 3 }),
    },
    { requiredKeys: ['seq', 'id', 'stream', 'version', 'type', 'time', 'recordedAt', 'tenant', 'data'] },
  )
  .map((e) => e as StoredEvent);

const ENVELOPE_ORDER = [
  'seq',
  'id',
  'stream',
  'version',
  'type',
  'time',
  'recordedAt',
  'tenant',
  'actor',
  'correlationId',
  'causationId',
  'tags',
  'schemaVersion',
  'data',
  'meta',
];

describe('serialiseEvent and parseStoredLine', () => {
  it('round-trip every stored event exactly, as one line of JSON in envelope field order', () => {
    fc.assert(
      fc.property(storedArb, (e) => {
        const line = serialiseEvent(e);
        expect(line).not.toContain('\n');
        expect(line).not.toContain('\r');
        const back = parseStoredLine(line, 'test');
        expect(back).toEqual(e);
        // Byte-for-byte what JSON.stringify gives for the fields in envelope order.
        const ordered: Record<string, unknown> = {};
        for (const k of ENVELOPE_ORDER)
          if ((e as unknown as Record<string, unknown>)[k] !== undefined)
            ordered[k] = (e as unknown as Record<string, unknown>)[k];
        expect(line).toBe(JSON.stringify(ordered));
        expect(Object.keys(JSON.parse(line))).toEqual(Object.keys(ordered));
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps lone surrogates, U+2028 and control characters intact (escaped on the line)', () => {
    const e: StoredEvent = {
      seq: 1,
      id: 'id',
      stream: 'S\ud800',
      version: 1,
      type: 'T\u2028',
      time: '2026-03-01T10:00:00.000Z',
      recordedAt: '2026-03-01T10:00:00.000Z',
      tenant: 'default',
      data: { s: 'a\nb\u0000c\udfff', [`k\n`]: 1 },
    };
    const line = serialiseEvent(e);
    expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line);
    expect(parseStoredLine(Buffer.from(line, 'utf8').toString('utf8'), 'x')).toEqual(e);
  });

  it('refuses a line that is not JSON, or not a stored envelope, with CORRUPT naming where', () => {
    const good = JSON.parse(
      serialiseEvent({
        seq: 3,
        id: 'i',
        stream: 's',
        version: 1,
        type: 't',
        time: '2026-03-01T10:00:00.000Z',
        recordedAt: '2026-03-01T10:00:00.000Z',
        tenant: 'default',
        data: {},
      }),
    ) as Record<string, unknown>;
    const bad = [
      '{"seq":1,',
      '',
      'null',
      '42',
      '[]',
      JSON.stringify({ ...good, seq: '3' }),
      JSON.stringify({ ...good, seq: 1.5 }),
      JSON.stringify({ ...good, version: undefined }),
      JSON.stringify({ ...good, id: 5 }),
      JSON.stringify({ ...good, tenant: undefined }),
      JSON.stringify({ ...good, recordedAt: null }),
    ];
    for (const line of bad) {
      let err: unknown;
      try {
        parseStoredLine(line, 'seg-7 at byte 99');
      } catch (e) {
        err = e;
      }
      expect(isChronoscopeError(err, 'CORRUPT'), line).toBe(true);
      expect((err as Error).message).toContain('seg-7 at byte 99');
    }
  });
});

// ---------------------------------------------------------------------------------------------

const ev = (data: JsonValue, meta?: Record<string, JsonValue>): StoredEvent => ({
  seq: 1,
  id: 'i',
  stream: 's',
  version: 1,
  type: 't',
  time: '2026-03-01T10:00:00.000Z',
  recordedAt: '2026-03-01T10:00:00.000Z',
  tenant: 'default',
  data,
  ...(meta ? { meta } : {}),
});

describe('matchesPredicate', () => {
  const data = {
    n: 5,
    f: 1.5,
    s: 'Gift wrap',
    z: '',
    b: true,
    nul: null,
    arr: [1, 'two', { three: 3 }, [4]],
    nested: { a: { b: 2 }, k: 'v' },
    'dotted.key': 1,
  };
  const e = ev(data, { source: 'api', v: 2, tags: ['x', 'y'] });
  const m = (p: JsonPredicate) => matchesPredicate(e, p);

  it('eq / ne compare JSON values deeply, whatever the key order', () => {
    expect(m({ path: 'n', op: 'eq', value: 5 })).toBe(true);
    expect(m({ path: 'n', op: 'eq', value: '5' })).toBe(false);
    expect(m({ path: 'nested', op: 'eq', value: { k: 'v', a: { b: 2 } } })).toBe(true);
    expect(m({ path: 'nested', op: 'eq', value: { k: 'v', a: { b: 2 }, extra: 1 } })).toBe(false);
    expect(m({ path: 'arr', op: 'eq', value: [1, 'two', { three: 3 }, [4]] })).toBe(true);
    expect(m({ path: 'arr', op: 'eq', value: { 0: 1, 1: 'two', 2: { three: 3 }, 3: [4] } })).toBe(false);
    expect(m({ path: 'nul', op: 'eq', value: null })).toBe(true);
    expect(m({ path: 'missing', op: 'eq', value: null })).toBe(false);
    expect(m({ path: 'missing', op: 'eq', value: undefined })).toBe(false);
    expect(m({ path: 'n', op: 'ne', value: 6 })).toBe(true);
    expect(m({ path: 'n', op: 'ne', value: 5 })).toBe(false);
    expect(m({ path: 'missing', op: 'ne', value: 5 })).toBe(true);
  });

  it('gt / gte / lt / lte compare numbers with numbers and strings with strings only', () => {
    expect(m({ path: 'n', op: 'gt', value: 4 })).toBe(true);
    expect(m({ path: 'n', op: 'gt', value: 5 })).toBe(false);
    expect(m({ path: 'n', op: 'gte', value: 5 })).toBe(true);
    expect(m({ path: 'n', op: 'lt', value: 5.0001 })).toBe(true);
    expect(m({ path: 'n', op: 'lte', value: 4.9 })).toBe(false);
    expect(m({ path: 'n', op: 'gt', value: '4' })).toBe(false);
    expect(m({ path: 'n', op: 'lt', value: '9' })).toBe(false);
    expect(m({ path: 's', op: 'gt', value: 'Gift' })).toBe(true);
    expect(m({ path: 's', op: 'lt', value: 'gift' })).toBe(true); // code-unit order: 'G' < 'g'
    expect(m({ path: 's', op: 'gte', value: 5 })).toBe(false);
    expect(m({ path: 'b', op: 'gte', value: false })).toBe(false);
    expect(m({ path: 'nul', op: 'lte', value: null })).toBe(false);
    expect(m({ path: 'missing', op: 'lt', value: 100 })).toBe(false);
    expect(m({ path: 'arr', op: 'gt', value: 0 })).toBe(false);
  });

  it('contains finds a substring of a string or an element of an array', () => {
    expect(m({ path: 's', op: 'contains', value: 'ft w' })).toBe(true);
    expect(m({ path: 's', op: 'contains', value: 'gift' })).toBe(false); // case-sensitive
    expect(m({ path: 's', op: 'contains', value: '' })).toBe(true);
    expect(m({ path: 'arr', op: 'contains', value: 'two' })).toBe(true);
    expect(m({ path: 'arr', op: 'contains', value: { three: 3 } })).toBe(true);
    expect(m({ path: 'arr', op: 'contains', value: [4] })).toBe(true);
    expect(m({ path: 'arr', op: 'contains', value: 'tw' })).toBe(false);
    expect(m({ path: 'n', op: 'contains', value: 5 })).toBe(false);
    expect(m({ path: 'nested', op: 'contains', value: 'v' })).toBe(false);
    expect(m({ path: 'missing', op: 'contains', value: 'x' })).toBe(false);
  });

  it('prefix matches the start of a string only', () => {
    expect(m({ path: 's', op: 'prefix', value: 'Gift' })).toBe(true);
    expect(m({ path: 's', op: 'prefix', value: '' })).toBe(true);
    expect(m({ path: 's', op: 'prefix', value: 'wrap' })).toBe(false);
    expect(m({ path: 'n', op: 'prefix', value: '5' })).toBe(false);
    expect(m({ path: 'arr', op: 'prefix', value: 1 })).toBe(false);
    expect(m({ path: 'missing', op: 'prefix', value: '' })).toBe(false);
  });

  it('in matches a value equal to one of a list (deeply), and nothing when value is not a list', () => {
    expect(m({ path: 'n', op: 'in', value: [1, 5, 9] })).toBe(true);
    expect(m({ path: 'n', op: 'in', value: ['5'] })).toBe(false);
    expect(m({ path: 'nested.a', op: 'in', value: [{ b: 2 }] })).toBe(true);
    expect(m({ path: 'n', op: 'in', value: 5 })).toBe(false);
    expect(m({ path: 'n', op: 'in', value: [] })).toBe(false);
    expect(m({ path: 'missing', op: 'in', value: [null] })).toBe(false);
    expect(m({ path: 'nul', op: 'in', value: [null] })).toBe(true);
  });

  it('exists / missing tell whether the path is present (null counts as present)', () => {
    expect(m({ path: 'nul', op: 'exists' })).toBe(true);
    expect(m({ path: 'z', op: 'exists' })).toBe(true);
    expect(m({ path: 'nested.a.b', op: 'exists' })).toBe(true);
    expect(m({ path: 'nested.a.c', op: 'exists' })).toBe(false);
    expect(m({ path: 'nested.a.b.c', op: 'missing' })).toBe(true);
    expect(m({ path: 'arr.2.three', op: 'exists' })).toBe(true);
    expect(m({ path: 'arr.9', op: 'missing' })).toBe(true);
    expect(m({ path: 's.0', op: 'missing' })).toBe(true); // no indexing into strings
    expect(m({ path: 'dotted.key', op: 'missing' })).toBe(true); // dots always split
  });

  it('reads the whole payload at "" or "$", and "$." prefixed paths', () => {
    expect(m({ path: '', op: 'eq', value: data })).toBe(true);
    expect(m({ path: '$', op: 'exists' })).toBe(true);
    expect(m({ path: '$.nested.k', op: 'eq', value: 'v' })).toBe(true);
    expect(matchesPredicate(ev([1, 2]), { path: '$', op: 'contains', value: 2 })).toBe(true);
    expect(matchesPredicate(ev('text'), { path: '', op: 'prefix', value: 'te' })).toBe(true);
  });

  it('on: "meta" reads meta, and an event without meta has nothing there', () => {
    expect(m({ on: 'meta', path: 'source', op: 'eq', value: 'api' })).toBe(true);
    expect(m({ on: 'meta', path: 'tags', op: 'contains', value: 'y' })).toBe(true);
    expect(m({ on: 'data', path: 'source', op: 'exists' })).toBe(false);
    const noMeta = ev({ source: 'api' });
    expect(matchesPredicate(noMeta, { on: 'meta', path: 'source', op: 'exists' })).toBe(false);
    expect(matchesPredicate(noMeta, { on: 'meta', path: 'source', op: 'missing' })).toBe(true);
    expect(matchesPredicate(noMeta, { on: 'meta', path: 'source', op: 'ne', value: 1 })).toBe(true);
  });

  it('treats __proto__, constructor, toString and hasOwnProperty as plain keys, never inherited ones', () => {
    const plain = ev({ a: 1 });
    for (const path of [
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'a.constructor',
      'constructor.name',
    ]) {
      expect(matchesPredicate(plain, { path, op: 'exists' }), path).toBe(false);
      expect(matchesPredicate(plain, { path, op: 'missing' }), path).toBe(true);
      expect(matchesPredicate(plain, { path, op: 'ne', value: 1 }), path).toBe(true);
    }
    const own = ev(JSON.parse('{"__proto__":{"x":1},"constructor":"ctor"}') as JsonValue);
    expect(matchesPredicate(own, { path: '__proto__.x', op: 'eq', value: 1 })).toBe(true);
    expect(matchesPredicate(own, { path: '__proto__', op: 'eq', value: { x: 1 } })).toBe(true);
    expect(matchesPredicate(own, { path: 'constructor', op: 'eq', value: 'ctor' })).toBe(true);
    expect(matchesPredicate(own, { path: 'constructor', op: 'prefix', value: 'ct' })).toBe(true);
    const meta = ev({}, JSON.parse('{"__proto__":{"y":2}}') as Record<string, JsonValue>);
    expect(matchesPredicate(meta, { on: 'meta', path: '__proto__.y', op: 'gte', value: 2 })).toBe(true);
    // An own "__proto__" value equal to a predicate's value compares as data, key by key.
    expect(
      matchesPredicate(ev({ o: JSON.parse('{"__proto__":1}') }), { path: 'o', op: 'eq', value: {} }),
    ).toBe(false);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

describe('keyHash', () => {
  it('is pinned: the on-disk index depends on these exact values', () => {
    expect(keyHash('')).toBe(17592763117488);
    expect(keyHash('a')).toBe(2518661300865748);
    expect(keyHash('Order-1')).toBe(2202105497601305);
    expect(keyHash('OrderPlaced')).toBe(772737635004608);
    expect(keyHash('default')).toBe(2787853622387213);
    expect(keyHash('注文')).toBe(4409158977739945);
    expect(keyHash('😀')).toBe(3544701385464516);
    expect(keyHash('x'.repeat(1000))).toBe(3223030178195938);
  });

  it('is a non-negative safe integer below 2^52, and stable across calls', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const h = keyHash(s);
        expect(Number.isSafeInteger(h)).toBe(true);
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThan(2 ** 52);
        expect(keyHash(s)).toBe(h);
      }),
      { numRuns: 2000 },
    );
  });

  it('spreads similar keys: no collisions among 100k sequential names, even buckets in low and high bits', () => {
    const n = 100_000;
    const seen = new Set<number>();
    const low = new Array<number>(256).fill(0);
    const high = new Array<number>(256).fill(0);
    for (let i = 0; i < n; i++) {
      const h = keyHash(`Order-${i}`);
      seen.add(h);
      low[h % 256]!++;
      high[Math.floor(h / 2 ** 44) % 256]!++;
    }
    expect(seen.size).toBe(n);
    // Chi-square with 255 degrees of freedom: ~255 expected, > 400 would be a badly skewed hash.
    const chi = (b: number[]) => b.reduce((s, c) => s + (c - n / 256) ** 2 / (n / 256), 0);
    expect(chi(low)).toBeLessThan(400);
    expect(chi(high)).toBeLessThan(400);
  });

  it('tells apart keys that differ only in case, order or length', () => {
    const keys = [
      'Order-1',
      'order-1',
      'ORDER-1',
      '1-redrO',
      'Order-1 ',
      'Order-10',
      'Order-01',
      'ab',
      'ba',
      'a\u0000',
      'a',
    ];
    expect(new Set(keys.map(keyHash)).size).toBe(keys.length);
  });
});

// ---------------------------------------------------------------------------------------------

describe('LatencyHistogram', () => {
  const exactQuantile = (sorted: number[], q: number) =>
    sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;

  it('reports quantiles within 5% of the exact value on random data', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.double({ min: Math.log(0.001), max: Math.log(3_600_000), noNaN: true }).map((x) => Math.exp(x)),
          { minLength: 1, maxLength: 3000 },
        ),
        fc.constantFrom(0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1),
        (values, q) => {
          const h = new LatencyHistogram();
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = exactQuantile(sorted, q);
          const got = h.quantile(q);
          expect(Math.abs(got - exact) / exact, `q=${q} exact=${exact} got=${got}`).toBeLessThanOrEqual(0.05);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('summary gives count, max, mean and ordered quantiles', () => {
    const h = new LatencyHistogram();
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) / 10);
    for (const v of values) h.record(v);
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.max).toBe(100);
    expect(s.mean).toBeCloseTo(50.05, 10);
    expect(s.p50).toBeLessThanOrEqual(s.p95);
    expect(s.p95).toBeLessThanOrEqual(s.p99);
    expect(s.p99).toBeLessThanOrEqual(s.max);
    expect(Math.abs(s.p50 - 50) / 50).toBeLessThanOrEqual(0.05);
    expect(Math.abs(s.p99 - 99) / 99).toBeLessThanOrEqual(0.05);
  });

  it('is empty-safe and exact for a single value', () => {
    const h = new LatencyHistogram();
    expect(h.quantile(0.5)).toBe(0);
    expect(h.summary()).toMatchObject({ count: 0, mean: 0, max: 0 });
    h.record(12.5);
    for (const q of [0.5, 0.99, 1]) expect(h.quantile(q)).toBe(12.5);
  });

  it('quantile(0) is the smallest value, not the bottom of the range', () => {
    const h = new LatencyHistogram();
    for (const v of [200, 300, 400]) h.record(v);
    expect(Math.abs(h.quantile(0) - 200) / 200).toBeLessThanOrEqual(0.05);
  });
});

// ---------------------------------------------------------------------------------------------

function fakeSource(
  stored: StoredEvent[] = [],
): SequencerSource & { calls: string[]; cells: Map<string, StreamCell> } {
  const calls: string[] = [];
  const cells = new Map<string, StreamCell>();
  return {
    calls,
    cells,
    streamCell: (s) => {
      let c = cells.get(s);
      if (!c) {
        const version = stored.filter((e) => e.stream === s).reduce((v, e) => Math.max(v, e.version), 0);
        cells.set(s, (c = { version, pending: -1 }));
      }
      return c;
    },
    knownCell: (s) => cells.get(s),
    eventById: (id) => {
      calls.push(id);
      return stored.find((e) => e.id === id);
    },
  };
}
const input = (id: string, stream: string, type = 'T'): NormalisedEvent => ({
  id,
  stream,
  type,
  time: '2026-03-01T10:00:00.000Z',
  tenant: 'default',
  data: {},
});
const AT = '2026-03-01T10:00:01.000Z';

describe('Sequencer', () => {
  it('assigns contiguous seqs and per-stream versions across the batches of one group', () => {
    const s = new Sequencer(10, fakeSource());
    const a = s.assign([input('a', 'S'), input('b', 'T'), input('c', 'S')], undefined, AT);
    const b = s.assign([input('d', 'S')], undefined, AT);
    expect(a.fresh.map((e) => [e.seq, e.version])).toEqual([
      [11, 1],
      [12, 1],
      [13, 2],
    ]);
    expect(b.fresh.map((e) => [e.seq, e.version])).toEqual([[14, 3]]);
    expect(a.fresh[0]!.recordedAt).toBe(AT);
    expect(s.lastSeq).toBe(10); // provisional until commit
    s.commit();
    expect(s.lastSeq).toBe(14);
  });

  it('abort forgets every provisional seq, version and id of the group', () => {
    const src = fakeSource();
    const s = new Sequencer(0, src);
    s.assign([input('a', 'S'), input('b', 'S')], undefined, AT);
    s.assign([input('c', 'S')], { expectedVersion: 2 }, AT);
    s.abort();
    expect(s.lastSeq).toBe(0);
    // The same ids are new again (not duplicates of the aborted ones), with the same seqs and versions.
    const again = s.assign([input('a', 'S'), input('c', 'S')], { expectedVersion: 0 }, AT);
    expect(again.duplicates).toBe(0);
    expect(again.fresh.map((e) => [e.id, e.seq, e.version])).toEqual([
      ['a', 1, 1],
      ['c', 2, 2],
    ]);
    s.commit();
    expect(s.lastSeq).toBe(2);
  });

  it('abort after a commit goes back to the committed state, not to zero', () => {
    const s = new Sequencer(0, fakeSource());
    s.assign([input('a', 'S')], undefined, AT);
    s.commit();
    s.assign([input('b', 'S')], undefined, AT);
    s.abort();
    expect(s.lastSeq).toBe(1);
    expect(s.assign([input('x', 'Q')], undefined, AT).fresh[0]!.seq).toBe(2);
  });

  it('a refused call leaves the group untouched, so the next call gets the seqs it would have had', () => {
    const s = new Sequencer(0, fakeSource());
    s.assign([input('a', 'S')], undefined, AT);
    expect(() => s.assign([input('b', 'S'), input('c', 'S')], { expectedVersion: 0 }, AT)).toThrow(
      expect.objectContaining({ code: 'CONCURRENCY_CONFLICT' }),
    );
    expect(() => s.assign([input('d', 'S'), input('e', 'Other')], { expectedVersion: 1 }, AT)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    const next = s.assign([input('b', 'S')], { expectedVersion: 1 }, AT);
    expect(next.fresh.map((e) => [e.seq, e.version])).toEqual([[2, 2]]);
  });

  it('a duplicate id resolves to the existing event, in the store, the group or the same call', () => {
    const existing: StoredEvent = { ...input('old', 'S'), seq: 1, version: 1, recordedAt: AT };
    const s = new Sequencer(1, fakeSource([existing]));
    const a = s.assign([input('old', 'S'), input('new', 'S'), input('new', 'S')], undefined, AT);
    expect(a.duplicates).toBe(2);
    expect(a.results[0]).toBe(existing);
    expect(a.results[2]).toBe(a.results[1]);
    expect(a.fresh.map((e) => [e.seq, e.version])).toEqual([[2, 2]]);
    const b = s.assign([input('new', 'S')], undefined, AT);
    expect(b.duplicates).toBe(1);
    expect(b.fresh).toEqual([]);
    expect(() => s.assign([input('new', 'Elsewhere')], undefined, AT)).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_ID' }),
    );
    expect(() => s.assign([input('old', 'S', 'OtherType')], undefined, AT)).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_ID' }),
    );
  });

  it('expectedVersion is checked against the provisional version inside a group', () => {
    const s = new Sequencer(0, fakeSource());
    s.assign([input('a', 'S')], { expectedVersion: 0 }, AT);
    expect(() => s.assign([input('b', 'S')], { expectedVersion: 0 }, AT)).toThrow(
      expect.objectContaining({ code: 'CONCURRENCY_CONFLICT' }),
    );
    expect(s.assign([input('b', 'S')], { expectedVersion: 1 }, AT).fresh[0]!.version).toBe(2);
  });

  it('builds events whose storedLine is exactly serialiseEvent, with or without optional fields', () => {
    const s = new Sequencer(0, fakeSource());
    const full = normaliseEvent({
      id: 'f',
      stream: 'S',
      type: 'T',
      time: '2026-03-01T10:00:00Z',
      tenant: 'acme',
      actor: 'u"1',
      correlationId: 'c',
      causationId: 'k',
      tags: ['x', 'y'],
      schemaVersion: 2,
      data: { a: [1, { b: 'é\n' }], n: 1.5 },
      meta: { m: true },
    });
    const { fresh } = s.assign([full, input('bare', 'S')], undefined, AT);
    for (const e of fresh) expect(storedLine(e)).toBe(serialiseEvent(e));
  });

  it('a call refused half-way restores the versions and ids it had taken', () => {
    const s = new Sequencer(0, fakeSource());
    s.assign([input('a', 'S')], undefined, AT);
    expect(() => s.assign([input('b', 'S'), input('c', 'Q'), input('a', 'Other')], undefined, AT)).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_ID' }),
    );
    const next = s.assign([input('b', 'S'), input('c', 'Q')], undefined, AT);
    expect(next.duplicates).toBe(0);
    expect(next.fresh.map((e) => [e.id, e.seq, e.version])).toEqual([
      ['b', 2, 2],
      ['c', 3, 1],
    ]);
  });

  it('a refused call adds no stream for the events after the one refused', () => {
    const existing: StoredEvent = { ...input('old', 'S'), seq: 1, version: 1, recordedAt: AT };
    const src = fakeSource([existing]);
    const s = new Sequencer(1, src);
    expect(() => s.assign([input('old', 'Elsewhere'), input('n', 'Never')], undefined, AT)).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_ID' }),
    );
    expect(src.cells.has('Never')).toBe(false);
    // Every id of the call was looked up before any was assigned.
    expect(src.calls).toEqual(['old', 'n']);
  });

  it('reset starts over from a recovered seq and forgets the group', () => {
    const s = new Sequencer(0, fakeSource());
    s.assign([input('a', 'S')], undefined, AT);
    s.reset(41);
    expect(s.lastSeq).toBe(41);
    const r = s.assign([input('a', 'S')], undefined, AT);
    expect(r.duplicates).toBe(0);
    expect(r.fresh[0]!.seq).toBe(42);
  });

  it('random assign/commit/abort sequences never leave gaps or reuse a committed seq', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            kind: fc.constantFrom('assign', 'assign', 'commit', 'abort'),
            n: fc.integer({ min: 1, max: 4 }),
            stream: fc.constantFrom('A', 'B'),
          }),
          { maxLength: 40 },
        ),
        (ops) => {
          const stored: StoredEvent[] = [];
          const s = new Sequencer(0, fakeSource(stored));
          let pending: StoredEvent[] = [];
          let k = 0;
          for (const op of ops) {
            if (op.kind === 'assign') {
              const batch = Array.from({ length: op.n }, () => input(`id-${k++}`, op.stream));
              pending.push(...s.assign(batch, undefined, AT).fresh);
            } else if (op.kind === 'commit') {
              stored.push(...pending);
              pending = [];
              s.commit();
            } else {
              pending = [];
              s.abort();
            }
            expect(s.lastSeq).toBe(stored.length);
          }
          expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
          for (const st of ['A', 'B']) {
            const vs = stored.filter((e) => e.stream === st).map((e) => e.version);
            expect(vs).toEqual(vs.map((_, i) => i + 1));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
