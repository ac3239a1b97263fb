/**
 * Oracle property tests: for every backend, random events appended in random (sometimes
 * concurrent) batches, then random filters paged through with cursors must give exactly what a
 * brute-force linear scan of readAll() with matchesFilter gives, in the same order.
 *
 * Reproduce a failure with the seed fast-check prints: ORACLE_SEED=<seed> npx vitest run test/conformance/oracle.spec.ts
 * More runs: ORACLE_SCALE=10 (multiplies every backend's run count).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventInput, JsonValue, StoredEvent } from '../../src/shared/event';
import {
  JSON_OPS,
  matchesFilter,
  parseFilter,
  type EventFilter,
  type JsonPredicate,
} from '../../src/shared/query';
import type { AppendResult, EventStore } from '../../src/main/engine/types';
import { backends } from './backends';
import { readEverything as readAllPages } from '../support/readEverything';

/** Small pages, so the whole-log read crosses many page boundaries. */
const readEverything = (s: Parameters<typeof readAllPages>[0]) => readAllPages(s, 37);

const SEED = process.env.ORACLE_SEED
  ? Number(process.env.ORACLE_SEED)
  : (Date.now() ^ (Math.random() * 2 ** 31)) | 0;
/**
 * Runs per backend, scaled by ORACLE_SCALE (e.g. 5 for a long soak). File-backed runs cost far more
 * than memory ones (every store opens SQLite; every append fsyncs and every seal compresses, fsyncs
 * and commits), so they get fewer to keep the file near 40 s on two cores.
 */
const SCALE = process.env.ORACLE_SCALE ? Number(process.env.ORACLE_SCALE) : 1;
const RUNS: Record<string, number> = {
  memory: 80,
  'file (hot tier)': 60,
  'file (small segments)': 40,
  'file (sealed after every append)': 20,
};
const runsFor = (name: string) => Math.max(1, Math.round((RUNS[name] ?? 20) * SCALE));
const MAX_EVENTS = 150;

// ---------------------------------------------------------------------------------------------
// Alphabets: small on purpose, so filters hit often and values repeat.

const STREAMS = [
  ...[1, 2, 3, 4, 5, 6].map((i) => `Order-${i}`),
  ...[1, 2, 3, 4].map((i) => `Cart-${i}`),
  'order-1', // case variation of a stream name: streams are case-sensitive
  'Café-1',
  '注文-7',
];
const TYPES = ['A', 'B', 'C', 'D', 'E', 'a'];
const TENANTS = ['t1', 't2', 't3'];
const ACTORS = ['u1', 'u2', 'U1', 'user:ünï'];
const CORRELATIONS = ['c1', 'c2', 'c3'];
const CAUSATIONS = ['x1', 'x2', 'x3'];
const TAGS = ['vip', 'gift', 'rush', 'VIP'];
/** Times over a few days, with several spellings of the same instant and sub-ms digits. */
const TIMES = [
  '2026-03-01T00:00:00Z',
  '2026-03-01T09:59:59.999Z',
  '2026-03-01T10:00:00Z',
  '2026-03-01T12:00:00+02:00', // = 10:00Z
  '2026-03-01T10:00Z', // = 10:00Z
  '2026-03-01T10:00:00.123456Z',
  '2026-03-01T10:30:00.5+05:30',
  '2026-03-01T23:59:59Z',
  '2026-03-02T00:00:00Z',
  '2026-03-02T07:15:00-03:00',
  '2026-03-02T13:00:00.001Z',
  '2026-03-03T01:02:03Z',
  '2026-03-03T18:00:00+0100',
  '2026-02-28T23:00:00Z',
];
const FILTER_TIMES = [
  ...TIMES,
  '2026-03-02',
  '2026-03-01T10:00:00.001Z',
  '2026-03-04T00:00:00Z',
  '2025-01-01T00:00:00Z',
];
const STRINGS = [
  'Gift wrap',
  'GIFT',
  'gift',
  'Straße',
  'STRASSE',
  'Ünïcödé',
  '😀 smile',
  'order',
  'Order-1',
  '',
  '10',
];
const NUMBERS = [0, 1, -1, 2, 10, 42, -7, 1.5, -2.25, 0.1, 1e21, 100];

// ---------------------------------------------------------------------------------------------
// Generators

/** `arb` about `percent`% of the time, else null. */
const sometimes = <T>(percent: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: percent, arbitrary: arb }, { weight: 100 - percent, arbitrary: fc.constant(null) });

const jsonScalar: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constantFrom(...NUMBERS),
  fc.integer({ min: -50, max: 50 }),
  fc.constantFrom(...STRINGS),
  fc.boolean(),
  fc.constant(null),
);

const dataArb: fc.Arbitrary<JsonValue> = fc
  .record(
    {
      n: fc.oneof(
        fc.integer({ min: -20, max: 20 }),
        fc.constantFrom(...NUMBERS),
        fc.constantFrom(...STRINGS),
      ),
      s: fc.constantFrom(...STRINGS),
      nested: fc.record(
        { a: fc.record({ b: jsonScalar }, { requiredKeys: [] }), k: fc.constantFrom(...STRINGS) },
        { requiredKeys: [] },
      ),
      arr: fc.array(jsonScalar, { maxLength: 4 }),
      flag: fc.boolean(),
      nothing: fc.constant(null),
      Name: fc.constantFrom(...STRINGS),
      /** `__proto__` and `constructor` as ordinary own keys, as JSON.parse makes them. */
      weird: fc.constantFrom('proto', 'ctor', 'none', 'none'),
    },
    { requiredKeys: [] },
  )
  .map((r) => {
    const { weird, ...rest } = r;
    const out = JSON.parse(JSON.stringify(rest)) as Record<string, JsonValue>;
    if (weird === 'proto')
      return JSON.parse(`{"__proto__":{"polluted":1},"n":${JSON.stringify(out.n ?? 3)}}`);
    if (weird === 'ctor') Object.assign(out, { constructor: 'ctor-value' });
    return out;
  });

const dataOrScalar: fc.Arbitrary<JsonValue> = fc.oneof(
  { weight: 9, arbitrary: dataArb },
  { weight: 1, arbitrary: fc.oneof(jsonScalar, fc.array(jsonScalar, { maxLength: 3 })) },
);

const metaArb = fc.record(
  {
    source: fc.constantFrom('api', 'ui', 'Batch', 'API'),
    v: fc.integer({ min: 0, max: 5 }),
    nested: fc.record({ k: fc.constantFrom(...STRINGS) }),
    list: fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

/** A reused id always comes with the same stream and type, so a repeat is an idempotent duplicate. */
const DUP_IDS = Array.from({ length: 6 }, (_, k) => ({
  id: `dup-${k}`,
  stream: STREAMS[k % STREAMS.length]!,
  type: TYPES[k % TYPES.length]!,
}));

const eventArb: fc.Arbitrary<EventInput> = fc
  .record(
    {
      stream: fc.constantFrom(...STREAMS),
      type: fc.constantFrom(...TYPES),
      dupId: sometimes(8, fc.constantFrom(...DUP_IDS)),
      time: sometimes(85, fc.constantFrom(...TIMES)),
      tenant: sometimes(70, fc.constantFrom(...TENANTS)),
      actor: sometimes(60, fc.constantFrom(...ACTORS)),
      correlationId: sometimes(60, fc.constantFrom(...CORRELATIONS)),
      causationId: sometimes(40, fc.constantFrom(...CAUSATIONS)),
      tags: sometimes(50, fc.array(fc.constantFrom(...TAGS), { maxLength: 3 })),
      schemaVersion: sometimes(25, fc.integer({ min: 0, max: 3 })),
      data: sometimes(90, dataOrScalar),
      meta: sometimes(40, metaArb),
    },
    { requiredKeys: ['stream', 'type'] },
  )
  .map((r) => {
    const e: Record<string, unknown> = { stream: r.stream, type: r.type };
    if (r.dupId) Object.assign(e, r.dupId);
    for (const k of [
      'time',
      'tenant',
      'actor',
      'correlationId',
      'causationId',
      'tags',
      'schemaVersion',
      'data',
      'meta',
    ] as const)
      if (r[k] !== null && r[k] !== undefined) e[k] = r[k];
    return e as EventInput;
  });

interface Batch {
  events: EventInput[];
  /** Append together with the previous batch (Promise.all), so they share a commit group. */
  concurrent: boolean;
  /** Optimistic concurrency on a single-stream batch; conflicts are expected and fine. */
  expectedVersion?: number;
}

const batchArb: fc.Arbitrary<Batch> = fc
  .record({
    events: fc
      .noBias(fc.integer({ min: 1, max: 10 }))
      .chain((n) => fc.array(eventArb, { minLength: n, maxLength: n })),
    concurrent: fc.boolean(),
    expect: sometimes(12, fc.integer({ min: 0, max: 4 })),
  })
  .map(({ events, concurrent, expect }) => {
    if (expect === null) return { events, concurrent };
    const stream = events[0]!.stream;
    return {
      events: events
        .map((e) => ({ ...e, stream, id: e.id?.startsWith('dup-') ? undefined : e.id }))
        .map(stripUndefinedId),
      concurrent,
      expectedVersion: expect,
    };
  });

function stripUndefinedId(e: EventInput): EventInput {
  if (e.id !== undefined) return e;
  const { id: _id, ...rest } = e;
  return rest as EventInput;
}

// Every operator the engine knows, so a new one is covered by the oracle the day it lands.
const opArb = fc.constantFrom(...JSON_OPS);
const DATA_PATHS = [
  'n',
  's',
  'nested.a.b',
  'nested.k',
  'nested',
  'arr',
  'arr.0',
  'arr.1',
  'flag',
  'nothing',
  'Name',
  'nope',
  '__proto__',
  '__proto__.polluted',
  'constructor',
  'toString',
  '$',
  '',
  '$.n',
];
const META_PATHS = ['source', 'v', 'nested.k', 'list', 'list.0', 'nope', '__proto__'];

const predicateValue: fc.Arbitrary<unknown> = fc.oneof(
  jsonScalar,
  fc.array(jsonScalar, { maxLength: 3 }),
  fc.constantFrom('api', 'ui', 'API', 'a', 'b', 'Gif', 'Str', 'ctor-value'),
  fc.constant({ b: 1 }),
  fc.constant({ polluted: 1 }),
);

const predicateArb: fc.Arbitrary<JsonPredicate> = fc.oneof(
  fc.record({
    on: fc.constant('data' as const),
    path: fc.constantFrom(...DATA_PATHS),
    op: opArb,
    value: predicateValue,
  }),
  fc.record({ path: fc.constantFrom(...DATA_PATHS), op: opArb, value: predicateValue }),
  fc.record({
    on: fc.constant('meta' as const),
    path: fc.constantFrom(...META_PATHS),
    op: opArb,
    value: predicateValue,
  }),
);

const filterArb: fc.Arbitrary<EventFilter> = fc
  .record(
    {
      types: fc.array(fc.constantFrom(...TYPES, 'Z'), { minLength: 1, maxLength: 3 }),
      stream: fc.constantFrom(...STREAMS, 'Order-9'),
      streamPrefix: fc.constantFrom(
        'Order-',
        'Order-1',
        'Cart',
        'order',
        'O',
        'C',
        'Café',
        '注',
        'X',
        'Order-10',
      ),
      tenant: fc.constantFrom(...TENANTS, 'default', 't9'),
      actor: fc.constantFrom(...ACTORS, 'nobody'),
      correlationId: fc.constantFrom(...CORRELATIONS, 'c9'),
      causationId: fc.constantFrom(...CAUSATIONS, 'x9'),
      tags: fc.array(fc.constantFrom(...TAGS, 'none'), { minLength: 1, maxLength: 2 }),
      since: fc.constantFrom(...FILTER_TIMES),
      until: fc.constantFrom(...FILTER_TIMES),
      fromSeq: fc.integer({ min: 0, max: MAX_EVENTS + 5 }),
      toSeq: fc.integer({ min: 0, max: MAX_EVENTS + 5 }),
      where: fc.array(predicateArb, { minLength: 1, maxLength: 2 }),
      search: fc.constantFrom(
        'gift',
        'GIFT',
        'straße',
        'STRASSE',
        'ü',
        'Ü',
        '1',
        '😀',
        'or',
        '1e+21',
        '0.1',
        'wrap',
      ),
    },
    { requiredKeys: [] },
  )
  // Most filters use one to three fields, so each field is also exercised on its own.
  .chain((f) => {
    const keys = Object.keys(f) as (keyof EventFilter)[];
    return fc
      .subarray(keys, { minLength: Math.min(1, keys.length), maxLength: Math.min(keys.length, 3) })
      .chain((few) =>
        fc.boolean().map((useAll) => {
          const chosen = useAll && keys.length <= 5 ? keys : few;
          const out: Record<string, unknown> = {};
          for (const k of chosen) out[k] = f[k];
          return out as EventFilter;
        }),
      );
  });

const queryArb = fc.record({
  filter: filterArb,
  order: fc.constantFrom('asc' as const, 'desc' as const),
  limit: fc.oneof(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 8, max: 60 }), fc.constant(10_000)),
});

const scenarioArb = fc.record({
  batches: fc
    .noBias(fc.integer({ min: 1, max: 40 }))
    .chain((n) => fc.array(batchArb, { minLength: n, maxLength: n })),
  queries: fc.array(queryArb, { minLength: 4, maxLength: 10 }),
  reopen: fc.boolean(),
  streamReads: fc.array(
    fc.record({
      stream: fc.constantFrom(...STREAMS, 'Nope-1'),
      from: fc.option(fc.integer({ min: 0, max: 12 })),
      to: fc.option(fc.integer({ min: 0, max: 15 })),
    }),
    { minLength: 1, maxLength: 5 },
  ),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------------------------------------
// Driving a store and the brute-force oracle

/** Appends the batches (capped at MAX_EVENTS inputs), concurrent ones together; returns what was acknowledged. */
async function appendAll(store: EventStore, batches: Batch[]): Promise<AppendResult[]> {
  const acked: AppendResult[] = [];
  let budget = MAX_EVENTS;
  let wave: Promise<PromiseSettledResult<AppendResult>>[] = [];
  const flush = async () => {
    for (const r of await Promise.all(wave)) {
      if (r.status === 'fulfilled') acked.push(r.value);
      else if (!['CONCURRENCY_CONFLICT'].includes((r.reason as { code?: string }).code ?? ''))
        throw r.reason as Error;
    }
    wave = [];
  };
  for (const b of batches) {
    if (budget <= 0) break;
    const events = b.events.slice(0, budget);
    budget -= events.length;
    if (!b.concurrent) await flush();
    const opts = b.expectedVersion === undefined ? undefined : { expectedVersion: b.expectedVersion };
    wave.push(
      store.append(events, opts).then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      ),
    );
  }
  await flush();
  return acked;
}

/** Every page of a query, following cursors; fails on a page that breaks the paging contract. */
async function pageThrough(
  store: EventStore,
  filter: EventFilter,
  order: 'asc' | 'desc',
  limit: number,
  maxPages = MAX_EVENTS + 5,
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let cursor: string | undefined;
  for (let pages = 0; ; pages++) {
    if (pages > maxPages) throw new Error('query kept returning cursors: paging never ends');
    const page = await store.query(filter, { order, limit, cursor });
    expect(page.events.length).toBeLessThanOrEqual(limit);
    expect(page.plan).toBeDefined();
    out.push(...page.events);
    if (!page.nextCursor) return out;
    expect(page.events.length).toBe(limit);
    cursor = page.nextCursor;
  }
}

const seqsOf = (es: StoredEvent[]) => es.map((e) => e.seq);

async function checkInvariants(store: EventStore, acked: AppendResult[]): Promise<StoredEvent[]> {
  const all = await readEverything(store);
  // seqs are 1..N without gaps, and lastSeq agrees.
  expect(seqsOf(all)).toEqual(all.map((_, i) => i + 1));
  expect(store.lastSeq()).toBe(all.length);
  // Every acknowledged event is stored exactly as the append reported it.
  for (const r of acked) for (const e of r.events) expect(all[e.seq - 1]).toEqual(e);
  // Ids are unique; versions count up from 1 in every stream in seq order.
  expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
  const versions = new Map<string, number>();
  for (const e of all) {
    const v = (versions.get(e.stream) ?? 0) + 1;
    expect(e.version, `version of seq ${e.seq} in ${e.stream}`).toBe(v);
    versions.set(e.stream, v);
  }
  for (const e of all) {
    expect(await store.getEvent(e.id)).toEqual(e);
    expect(await store.getBySeq(e.seq)).toEqual(e);
  }
  expect(await store.getEvent('no-such-id')).toBeUndefined();
  expect(await store.getBySeq(all.length + 1)).toBeUndefined();
  return all;
}

async function checkQueries(store: EventStore, all: StoredEvent[], scenario: Scenario): Promise<void> {
  for (const { stream, from, to } of scenario.streamReads) {
    const got = await store.readStream(stream, from ?? undefined, to ?? undefined);
    const lo = from ?? 1;
    const hi = to ?? Number.MAX_SAFE_INTEGER;
    const want = all.filter((e) => e.stream === stream && e.version >= lo && e.version <= hi);
    expect(got, `readStream(${stream}, ${from}, ${to})`).toEqual(want);
  }
  for (const q of scenario.queries) {
    const parsed = parseFilter(q.filter);
    const want = all.filter((e) => matchesFilter(e, parsed));
    if (q.order === 'desc') want.reverse();
    const got = await pageThrough(store, q.filter, q.order, q.limit);
    const label = `query ${JSON.stringify(q.filter)} ${q.order} limit ${q.limit}`;
    expect(new Set(seqsOf(got)).size, `${label}: duplicates`).toBe(got.length);
    expect(seqsOf(got), label).toEqual(seqsOf(want));
    expect(got, label).toEqual(want);
  }
}

const timings: string[] = [];
afterAll(() => {
  console.info(`oracle seed ${SEED} (rerun with ORACLE_SEED=${SEED})\n  ${timings.join('\n  ')}`);
});

for (const backend of backends) {
  describe(`query oracle: ${backend.name}`, () => {
    it('every filter, paged by cursor in either order, equals a brute-force scan with matchesFilter', async () => {
      let events = 0;
      let queries = 0;
      const t0 = performance.now();
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (scenario) => {
          const made = await backend.create();
          let store = made.store;
          try {
            const acked = await appendAll(store, scenario.batches);
            let all = await checkInvariants(store, acked);
            await checkQueries(store, all, scenario);
            if (scenario.reopen && made.reopen) {
              await store.close();
              store = await made.reopen();
              const again = await checkInvariants(store, []);
              expect(again).toEqual(all);
              all = again;
              await checkQueries(store, all, scenario);
              // The reopened store carries on from the right seq and stream versions.
              const more = await store.append([{ stream: 'Order-1', type: 'A' }]);
              expect(more.events[0]!.seq).toBe(all.length + 1);
              expect(more.events[0]!.version).toBe(all.filter((e) => e.stream === 'Order-1').length + 1);
            }
            events += all.length;
            queries += scenario.queries.length;
          } finally {
            await made.cleanup();
          }
        }),
        { numRuns: runsFor(backend.name), seed: SEED },
      );
      timings.push(
        `${backend.name}: ${runsFor(backend.name)} runs, ${events} events, ${queries} paged queries in ${Math.round(performance.now() - t0)} ms`,
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Targeted edge cases the random scenarios rarely reach, on every backend.

/** Seals what is appended when the backend has a file tier, so the sealed path answers. */
async function sealIfFile(store: EventStore): Promise<void> {
  const s = store as EventStore & { sealActive?: () => Promise<void> };
  if (s.sealActive) await s.sealActive();
}

async function expectOracle(
  store: EventStore,
  filters: EventFilter[],
  limits = [1, 3, 10_000],
): Promise<void> {
  const all = await readEverything(store);
  for (const f of filters)
    for (const order of ['asc', 'desc'] as const) {
      const want = all.filter((e) => matchesFilter(e, parseFilter(f)));
      if (order === 'desc') want.reverse();
      for (const limit of limits)
        expect(
          seqsOf(await pageThrough(store, f, order, limit, all.length + 5)),
          `${JSON.stringify(f)} ${order} limit ${limit}`,
        ).toEqual(seqsOf(want));
    }
}

for (const backend of backends) {
  describe(`store edge cases: ${backend.name}`, () => {
    it('keeps its own copy: mutating the appended input afterwards changes nothing stored', async () => {
      const made = await backend.create();
      try {
        const data = { n: 1, list: [1], nested: { k: 'v' } };
        const meta: Record<string, JsonValue> = { m: 1 };
        const tags = ['a'];
        const r = await made.store.append([{ stream: 'S', type: 'T', data, meta, tags }]);
        const id = r.events[0]!.id;
        data.n = 2;
        data.list.push(2);
        data.nested.k = 'changed';
        meta.m = 2;
        tags.push('b');
        const got = await made.store.getEvent(id);
        expect(got!.data).toEqual({ n: 1, list: [1], nested: { k: 'v' } });
        expect(got!.meta).toEqual({ m: 1 });
        expect(got!.tags).toEqual(['a']);
        expect((await made.store.query({ tags: ['b'] })).events).toEqual([]);
        expect((await made.store.query({ where: [{ path: 'n', op: 'eq', value: 2 }] })).events).toEqual([]);
      } finally {
        await made.cleanup();
      }
    });

    it('keeps its own copy: mutating a returned event changes nothing stored', async () => {
      const made = await backend.create();
      try {
        const r = await made.store.append([{ stream: 'S', type: 'T', data: { n: 1 }, tags: ['a'] }]);
        const id = r.events[0]!.id;
        const first = await made.store.getEvent(id);
        (first!.data as { n: number }).n = 99;
        first!.tags!.push('zzz');
        (r.events[0]!.data as { n: number }).n = 98;
        const again = await made.store.getEvent(id);
        expect(again!.data).toEqual({ n: 1 });
        expect(again!.tags).toEqual(['a']);
        expect((await made.store.query({ tags: ['zzz'] })).events).toEqual([]);
      } finally {
        await made.cleanup();
      }
    });

    it('streamPrefix finds stream names that are not well-formed UTF-16 (lone surrogates), sealed or hot', async () => {
      const made = await backend.create();
      try {
        await made.store.append([
          { stream: 'Lone-\ud800', type: 'A' },
          { stream: 'Lone-\udfff-x', type: 'B' },
          { stream: 'Lone-ok', type: 'A' },
          { stream: '\ud83dHalf', type: 'A' },
        ]);
        await sealIfFile(made.store);
        await made.store.append([{ stream: 'Lone-\ud800', type: 'C' }]);
        await expectOracle(made.store, [
          { streamPrefix: 'Lone-' },
          { streamPrefix: 'Lone-\ud800' },
          { streamPrefix: '\ud83d' },
          { stream: 'Lone-\ud800' },
          { stream: '\ud83dHalf', types: ['A'] },
        ]);
        expect((await made.store.readStream('Lone-\ud800')).map((e) => e.version)).toEqual([1, 2]);
      } finally {
        await made.cleanup();
      }
    });

    it('streamPrefix over more streams than an index lists at once (700 streams) equals the brute force', async () => {
      const made = await backend.create();
      try {
        const events = Array.from({ length: 700 }, (_, i) => ({ stream: `P-${i}`, type: i % 2 ? 'A' : 'B' }));
        await made.store.append(events.slice(0, 400));
        await sealIfFile(made.store);
        await made.store.append(events.slice(400));
        await expectOracle(
          made.store,
          [
            { streamPrefix: 'P-' },
            { streamPrefix: 'P-1' },
            { streamPrefix: 'P-', types: ['A'], fromSeq: 390, toSeq: 420 },
          ],
          [7, 10_000],
        );
      } finally {
        await made.cleanup();
      }
    });

    it('time filters agree with Date.parse at millisecond edges, before 1970 and across zones', async () => {
      const made = await backend.create();
      try {
        const times = [
          '1969-12-31T23:59:59.999Z',
          '1970-01-01T00:00:00.000Z',
          '2026-03-01T10:00:00.000Z',
          '2026-03-01T10:00:00.001Z',
          '2026-03-01T09:59:59.999Z',
          '2026-03-01T12:00:00.000+02:00',
          '2026-03-01T10:00:00.999Z',
          '2026-03-01T10:00:01.000Z',
        ];
        await made.store.append(times.map((time, i) => ({ stream: `T-${i % 2}`, type: 'A', time })));
        await sealIfFile(made.store);
        await made.store.append(times.map((time) => ({ stream: 'T-hot', type: 'A', time })));
        await expectOracle(made.store, [
          { since: '2026-03-01T10:00:00Z' },
          { until: '2026-03-01T10:00:00Z' },
          { since: '2026-03-01T10:00:00.001Z', until: '2026-03-01T10:00:00.002Z' },
          { since: '2026-03-01T10:00:00.999Z', until: '2026-03-01T10:00:01Z' },
          { since: '1970-01-01T00:00:00Z', until: '1970-01-01T00:00:00.001Z' },
          { until: '1970-01-01T00:00:00Z' },
          { since: '2026-03-01T12:00:00+02:00', until: '2026-03-01T12:00:00.001+02:00' },
          { since: '2026-03-02T00:00:00Z', until: '2026-03-01T00:00:00Z' },
        ]);
      } finally {
        await made.cleanup();
      }
    });

    it('time filters still find events when one segment spans centuries (a 0001-01-01 placeholder time)', async () => {
      const made = await backend.create();
      try {
        // .NET's DateTime.MinValue and far-future sentinels turn up in imported logs.
        await made.store.append([
          { stream: 'Legacy-1', type: 'Imported', time: '0001-01-01T00:00:00.000Z' },
          { stream: 'Legacy-1', type: 'Imported', time: '2026-03-01T10:00:00.000Z' },
          { stream: 'Legacy-1', type: 'Imported', time: '9999-12-31T23:59:59.999Z' },
        ]);
        await sealIfFile(made.store);
        await expectOracle(made.store, [
          { since: '2026-03-01T00:00:00Z' },
          { since: '2026-03-01T00:00:00Z', until: '2026-03-02T00:00:00Z' },
          { until: '1900-01-01T00:00:00Z' },
          { since: '9000-01-01T00:00:00Z' },
        ]);
      } finally {
        await made.cleanup();
      }
    });
  });
}
