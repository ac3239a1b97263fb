import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isChronoscopeError } from '../../src/shared/errors';
import { matchesFilter } from '../../src/shared/query';
import { normaliseEvent, type StoredEvent } from '../../src/shared/event';
import type { EventStore } from '../../src/main/engine/types';
import { backends } from './backends';

const ev = (stream: string, type: string, extra: Record<string, unknown> = {}) => ({
  stream,
  type,
  data: {},
  ...extra,
});

for (const backend of backends) {
  describe(`EventStore conformance: ${backend.name}`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;
    let reopen: (() => Promise<EventStore>) | undefined;

    beforeEach(async () => {
      const made = await backend.create();
      store = made.store;
      cleanup = made.cleanup;
      reopen = made.reopen;
    });
    afterEach(async () => {
      await cleanup();
    });

    it('assigns increasing seq, per-stream versions, ids, recordedAt and default tenant', async () => {
      const r = await store.append([
        ev('A', 'Created'),
        ev('B', 'Created'),
        ev('A', 'Renamed', { data: { name: 'x' } }),
      ]);
      expect(r.appended).toBe(3);
      expect(r.events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(r.events.map((e) => e.version)).toEqual([1, 1, 2]);
      expect(r.events[0]!.id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(r.events[0]!.tenant).toBe('default');
      expect(Date.parse(r.events[0]!.recordedAt)).not.toBeNaN();
      expect(r.lastSeq).toBe(3);
      expect(store.lastSeq()).toBe(3);
    });

    it('an appended event is readable by id, by seq, in its stream and in readAll as soon as append resolves', async () => {
      const r = await store.append([ev('Order-1', 'OrderPlaced', { id: 'e-1', data: { total: 5 } })]);
      const stored = r.events[0]!;
      expect(await store.getEvent('e-1')).toEqual(stored);
      expect(await store.getBySeq(stored.seq)).toEqual(stored);
      expect(await store.readStream('Order-1')).toEqual([stored]);
      expect(await store.readAll(1)).toEqual([stored]);
      expect(await store.getEvent('nope')).toBeUndefined();
    });

    it("append's events are the caller's own copies: changing them, its input or a clone changes nothing stored", async () => {
      const input = ev('Order-9', 'OrderPlaced', {
        id: 'e-9',
        data: { lines: [{ sku: 'a', qty: 1 }] },
        tags: ['x'],
      });
      const r = await store.append([input]);
      const wire = JSON.parse(JSON.stringify(r)) as typeof r;
      const cloned = structuredClone(r);
      expect(wire.events).toEqual(r.events);
      expect(cloned.events).toEqual(r.events);
      const first = r.events[0]!;
      (first.data as { lines: { qty: number }[] }).lines[0]!.qty = 99;
      first.tags!.push('y');
      (input.data as { lines: { qty: number }[] }).lines[0]!.qty = 7;
      const again = await store.getEvent('e-9');
      expect(again!.data).toEqual({ lines: [{ sku: 'a', qty: 1 }] });
      expect(again!.tags).toEqual(['x']);
      expect(r.events[0]).toBe(first);
    });

    it('appendNormalised stores exactly what append stores for the same validated events', async () => {
      const inputs = [
        ev('Order-1', 'OrderPlaced', { id: 'n-1', data: { total: 5 }, tags: ['a'] }),
        ev('Order-1', 'OrderPaid', { id: 'n-2', data: { ok: true } }),
      ];
      const r = await store.appendNormalised(inputs.map((e) => normaliseEvent(e)));
      expect(r.appended).toBe(2);
      const again = await store.append(inputs);
      expect(again.duplicates).toBe(2);
      const read = await store.readStream('Order-1');
      expect(read.map((e) => [e.id, e.version, e.data, e.tags])).toEqual([
        ['n-1', 1, { total: 5 }, ['a']],
        ['n-2', 2, { ok: true }, undefined],
      ]);
    });

    it('append is idempotent on id: a retried batch stores nothing twice', async () => {
      const batch = [ev('S', 'T', { id: 'id-1' }), ev('S', 'T', { id: 'id-2' })];
      const first = await store.append(batch);
      const again = await store.append(batch);
      expect(again.appended).toBe(0);
      expect(again.duplicates).toBe(2);
      expect(again.events).toEqual(first.events);
      expect(store.lastSeq()).toBe(2);
    });

    it('an id reused for a different stream is refused with DUPLICATE_ID', async () => {
      await store.append([ev('S', 'T', { id: 'same' })]);
      await expect(store.append([ev('Other', 'T', { id: 'same' })])).rejects.toMatchObject({
        code: 'DUPLICATE_ID',
      });
    });

    it('expectedVersion gives optimistic concurrency with a typed conflict', async () => {
      await store.append([ev('S', 'A')], { expectedVersion: 0 });
      await store.append([ev('S', 'B')], { expectedVersion: 1 });
      const err = await store.append([ev('S', 'C')], { expectedVersion: 1 }).catch((e) => e);
      expect(isChronoscopeError(err, 'CONCURRENCY_CONFLICT')).toBe(true);
      expect(err.details).toMatchObject({ stream: 'S', expected: 1, actual: 2 });
      await expect(store.append([ev('New', 'A')], { expectedVersion: 3 })).rejects.toMatchObject({
        code: 'CONCURRENCY_CONFLICT',
      });
      expect(store.lastSeq()).toBe(2);
    });

    it('concurrent appends with the same expectedVersion: exactly one wins', async () => {
      await store.append([ev('S', 'A')]);
      const results = await Promise.allSettled(
        [1, 2, 3, 4].map(() => store.append([ev('S', 'B')], { expectedVersion: 1 })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(
        results.filter(
          (r) => r.status === 'rejected' && isChronoscopeError(r.reason, 'CONCURRENCY_CONFLICT'),
        ),
      ).toHaveLength(3);
      expect((await store.readStream('S')).map((e) => e.version)).toEqual([1, 2]);
    });

    it('a bad event fails the whole append with INVALID_EVENT naming the field, storing nothing', async () => {
      const err = await store.append([ev('S', 'ok'), { stream: 'S', type: '' } as never]).catch((e) => e);
      expect(isChronoscopeError(err, 'INVALID_EVENT')).toBe(true);
      expect(err.message).toMatch(/event 1: field type/);
      expect(store.lastSeq()).toBe(0);
      await expect(store.append([{ stream: 'S', type: 'T', bogus: 1 } as never])).rejects.toThrow(/bogus/);
      await expect(store.append([ev('S', 'T', { time: 'yesterday' })])).rejects.toThrow(/field time/);
    });

    it('readStream honours version bounds', async () => {
      await store.append([1, 2, 3, 4, 5].map((i) => ev('S', `T${i}`)));
      expect((await store.readStream('S', 2, 4)).map((e) => e.version)).toEqual([2, 3, 4]);
      expect(await store.readStream('missing')).toEqual([]);
    });

    it('query pages through results by cursor in both orders', async () => {
      await store.append(Array.from({ length: 25 }, (_, i) => ev(`S${i % 3}`, i % 2 ? 'Odd' : 'Even')));
      const seen: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.query({ types: ['Odd'] }, { limit: 5, cursor });
        seen.push(...page.events.map((e) => e.seq));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => 2 * i + 2));
      const desc = await store.query({ types: ['Even'] }, { order: 'desc', limit: 3 });
      expect(desc.events.map((e) => e.seq)).toEqual([25, 23, 21]);
      const next = await store.query(
        { types: ['Even'] },
        { order: 'desc', limit: 3, cursor: desc.nextCursor },
      );
      expect(next.events.map((e) => e.seq)).toEqual([19, 17, 15]);
    });

    it('query rejects bad filters and cursors with INVALID_ARGUMENT naming the field', async () => {
      await expect(store.query({ since: 'not a time' })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/filter.since/),
      });
      await expect(store.query({}, { limit: 0 })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/options.limit/),
      });
      await expect(store.query({}, { cursor: '!!' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(store.query({ nope: 1 } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    it('query filters on every envelope field, JSON predicates and text', async () => {
      await store.append([
        ev('Order-1', 'OrderPlaced', {
          tenant: 'acme',
          actor: 'u1',
          correlationId: 'c1',
          tags: ['vip'],
          time: '2026-01-01T10:00:00Z',
          data: { total: 10, note: 'Gift wrap' },
        }),
        ev('Order-1', 'OrderPaid', {
          tenant: 'acme',
          actor: 'u1',
          correlationId: 'c1',
          causationId: 'x',
          time: '2026-01-02T10:00:00Z',
          data: { total: 10 },
        }),
        ev('Order-2', 'OrderPlaced', {
          tenant: 'globex',
          actor: 'u2',
          correlationId: 'c2',
          time: '2026-01-03T10:00:00Z',
          data: { total: -3 },
          meta: { source: 'api' },
        }),
      ]);
      const seqs = async (f: object) => (await store.query(f)).events.map((e) => e.seq);
      expect(await seqs({ types: ['OrderPlaced'] })).toEqual([1, 3]);
      expect(await seqs({ stream: 'Order-1' })).toEqual([1, 2]);
      expect(await seqs({ streamPrefix: 'Order-' })).toEqual([1, 2, 3]);
      expect(await seqs({ tenant: 'globex' })).toEqual([3]);
      expect(await seqs({ actor: 'u1', types: ['OrderPaid'] })).toEqual([2]);
      expect(await seqs({ correlationId: 'c1' })).toEqual([1, 2]);
      expect(await seqs({ causationId: 'x' })).toEqual([2]);
      expect(await seqs({ tags: ['vip'] })).toEqual([1]);
      expect(await seqs({ since: '2026-01-02T00:00:00Z' })).toEqual([2, 3]);
      expect(await seqs({ until: '2026-01-02T10:00:00Z' })).toEqual([1]);
      expect(await seqs({ fromSeq: 2, toSeq: 2 })).toEqual([2]);
      expect(await seqs({ where: [{ path: 'total', op: 'lt', value: 0 }] })).toEqual([3]);
      expect(await seqs({ where: [{ on: 'meta', path: 'source', op: 'eq', value: 'api' }] })).toEqual([3]);
      expect(await seqs({ search: 'gift' })).toEqual([1]);
    });

    it('stats counts events, streams, types and tenants', async () => {
      await store.append([ev('A', 'X', { tenant: 't1' }), ev('B', 'X'), ev('A', 'Y')]);
      const s = await store.stats();
      expect(s).toMatchObject({
        events: 3,
        streams: 2,
        firstSeq: 1,
        lastSeq: 3,
        types: { X: 2, Y: 1 },
        tenants: { t1: 1, default: 2 },
      });
    });

    it('subscribe catches up, then goes live, never missing or repeating under concurrent appends', async () => {
      await store.append(Array.from({ length: 50 }, (_, i) => ev(`S${i % 5}`, 'Before')));
      const sub = store.subscribe({ fromSeq: 1 });
      const got: StoredEvent[] = [];
      const reading = (async () => {
        for await (const e of sub) {
          got.push(e);
          if (got.length === 450) break;
        }
      })();
      const writers = Array.from({ length: 8 }, (_, w) =>
        (async () => {
          for (let i = 0; i < 10; i++)
            await store.append(Array.from({ length: 5 }, () => ev(`W${w}`, 'Live')));
        })(),
      );
      await Promise.all(writers);
      await reading;
      await sub.close();
      expect(got.map((e) => e.seq)).toEqual(Array.from({ length: 450 }, (_, i) => i + 1));
    });

    it('a named subscription resumes after its persisted checkpoint', async () => {
      await store.append(Array.from({ length: 10 }, () => ev('S', 'T')));
      const first = store.subscribe({ name: 'projector' });
      const seen: number[] = [];
      for await (const e of first) {
        seen.push(e.seq);
        if (e.seq === 4) break;
      }
      await first.close();
      expect(await store.getCheckpoint('projector')).toBeGreaterThanOrEqual(3);
      const second = store.subscribe({ name: 'projector' });
      const rest: number[] = [];
      for await (const e of second) {
        rest.push(e.seq);
        if (e.seq === 10) break;
      }
      await second.close();
      expect(rest[rest.length - 1]).toBe(10);
      expect(rest[0]).toBeLessThanOrEqual(5);
      expect(rest[0]).toBeGreaterThanOrEqual(4);
    });

    it('a subscription with a filter delivers only matching events', async () => {
      await store.append([ev('A', 'X'), ev('A', 'Y'), ev('B', 'X')]);
      const sub = store.subscribe({ filter: { types: ['X'] } });
      const got: number[] = [];
      for await (const e of sub) {
        got.push(e.seq);
        if (got.length === 2) break;
      }
      await sub.close();
      expect(got).toEqual([1, 3]);
    });

    it('data survives close and reopen', async () => {
      if (!reopen) return;
      const r = await store.append([ev('A', 'X', { data: { n: 1 } }), ev('B', 'Y')]);
      await store.setCheckpoint('cp', 2);
      await store.close();
      store = await reopen();
      expect(await store.readAll(1)).toEqual(r.events);
      expect(await store.getCheckpoint('cp')).toBe(2);
      const more = await store.append([ev('A', 'Z')]);
      expect(more.events[0]).toMatchObject({ seq: 3, version: 2 });
    });

    it('health is ok and carries per-operation latency percentiles and index-use counts', async () => {
      await store.append([ev('A', 'X'), ev('B', 'Y')]);
      await store.query({ types: ['X'] });
      await store.getEvent('missing');
      const h = await store.health();
      expect(h.status).toBe('ok');
      expect(h.lastSeq).toBe(2);
      expect(h.metrics.latency.append!.count).toBeGreaterThanOrEqual(1);
      expect(h.metrics.latency.query!.p99).toBeGreaterThanOrEqual(h.metrics.latency.query!.p50);
      expect(Object.keys(h.metrics.counters).some((k) => k.startsWith('index.'))).toBe(true);
    });

    it('histogram counts exactly the matching events per time bucket, bursts flagged', async () => {
      const base = Date.parse('2026-03-01T00:00:00.000Z');
      const evs = Array.from({ length: 240 }, (_, i) => {
        // A burst of 60 events inside one hour, the rest spread over 10 days, ms parts everywhere.
        const t = i < 60 ? base + 5 * 86_400_000 + i * 997 : base + ((i * 3_600_123) % (10 * 86_400_000));
        return ev(`S${i % 7}`, i % 3 ? 'A' : 'B', {
          tenant: i % 2 ? 't1' : 't2',
          time: new Date(t).toISOString(),
          data: { n: i, note: i % 5 ? 'plain' : 'Special' },
        });
      });
      for (let i = 0; i < evs.length; i += 40) await store.append(evs.slice(i, i + 40));
      const all = await store.readAll(1, 10_000);
      const filters = [
        {},
        { types: ['B'] },
        { tenant: 't1', types: ['A'] },
        { stream: 'S3' },
        { where: [{ path: 'n', op: 'gte' as const, value: 100 }] },
        { search: 'special' },
        {
          since: new Date(base + 86_400_000 + 123).toISOString(),
          until: new Date(base + 6 * 86_400_000 + 457).toISOString(),
        },
      ];
      for (const f of filters) {
        const h = await store.histogram(f, { buckets: 50 });
        const from = Date.parse(h.from);
        const expected = new Array(h.counts.length).fill(0);
        for (const e of all) {
          if (!matchesFilter(e, f)) continue;
          const b = Math.floor((Date.parse(e.time) - from) / h.bucketMs);
          if (b >= 0 && b < expected.length) expected[b]++;
        }
        expect(h.counts, JSON.stringify(f)).toEqual(expected);
        expect(h.total).toBe(expected.reduce((a: number, b: number) => a + b, 0));
        expect(h.bucketMs % 1000).toBe(0);
      }
      const whole = await store.histogram({}, { buckets: 240 });
      expect(whole.total).toBe(240);
      expect(whole.bursts.length).toBeGreaterThan(0);
      await expect(store.histogram({}, { buckets: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    it('a closed store refuses work with CLOSED', async () => {
      await store.close();
      await expect(store.append([ev('A', 'X')])).rejects.toMatchObject({ code: 'CLOSED' });
    });
  });
}
