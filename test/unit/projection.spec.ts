import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/shared/event';
import {
  deepMerge,
  diffJson,
  globalReducer,
  parseStatePredicate,
  renderDiff,
  streamReducer,
} from '../../src/shared/projection';

let seq = 0;
const ev = (stream: string, version: number, type: string, data: unknown, tenant = 'acme'): StoredEvent => ({
  seq: ++seq,
  id: `e${seq}`,
  stream,
  version,
  type,
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
  recordedAt: '2026-01-01T00:00:00.000Z',
  tenant,
  data: data as StoredEvent['data'],
});

describe('streamReducer', () => {
  it('deep-merges data: objects recursively, arrays replaced, null sets null, plus counts and position', () => {
    const events = [
      ev('Order-1', 1, 'OrderPlaced', {
        total: 100,
        items: [{ sku: 'A' }, { sku: 'B' }],
        addr: { city: 'X', zip: '1' },
      }),
      ev('Order-1', 2, 'AddressChanged', { items: [{ sku: 'C' }], addr: { city: 'Y' }, coupon: 'SAVE' }),
      ev('Order-1', 3, 'RefundIssued', { total: -5, coupon: null }),
    ];
    const s = events.reduce(streamReducer.apply, streamReducer.init());
    expect(s).toEqual({
      total: -5,
      items: [{ sku: 'C' }],
      addr: { city: 'Y', zip: '1' },
      coupon: null,
      $counts: { OrderPlaced: 1, AddressChanged: 1, RefundIssued: 1 },
      $version: 3,
      $lastSeq: events[2]!.seq,
      $lastType: 'RefundIssued',
      $lastTime: events[2]!.time,
    });
  });

  it('never mutates the state it is given', () => {
    const s0 = streamReducer.apply(streamReducer.init(), ev('S', 1, 'A', { a: { b: 1 } }));
    const frozen = JSON.stringify(s0);
    streamReducer.apply(s0, ev('S', 2, 'A', { a: { b: 2, c: 3 } }));
    expect(JSON.stringify(s0)).toBe(frozen);
  });

  it('keeps non-object data under $data and __proto__ keys as plain keys', () => {
    const s = streamReducer.apply(streamReducer.init(), ev('S', 1, 'A', [1, 2]));
    expect(s.$data).toEqual([1, 2]);
    const evil = JSON.parse('{"__proto__": {"polluted": true}}');
    const t = deepMerge({}, evil) as Record<string, unknown>;
    expect(Object.prototype.hasOwnProperty.call(t, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(t)).toBe(Object.prototype);
  });
});

describe('globalReducer', () => {
  it('counts events per type and tenant, streams started and live, first/last seq and time', () => {
    const events = [
      ev('Cart-1', 1, 'CartCreated', {}, 'acme'),
      ev('Cart-2', 1, 'CartCreated', {}, 'globex'),
      ev('Cart-1', 2, 'CartAbandoned', {}, 'acme'),
    ];
    const g = events.reduce(globalReducer.apply, globalReducer.init());
    expect(g).toEqual({
      events: 3,
      counts: { CartCreated: 2, CartAbandoned: 1 },
      tenants: { acme: 2, globex: 1 },
      streams: 2,
      liveStreams: 1,
      firstSeq: events[0]!.seq,
      lastSeq: events[2]!.seq,
      firstTime: events[0]!.time,
      lastTime: events[2]!.time,
    });
  });

  it('stays the same size however many streams it sees (no per-stream state)', () => {
    let g = globalReducer.init();
    for (let i = 1; i <= 2000; i++) g = globalReducer.apply(g, ev(`S-${i}`, 1, 'Created', {}));
    expect(g.streams).toBe(2000);
    expect(JSON.stringify(g).length).toBeLessThan(400);
  });
});

describe('diffJson', () => {
  it('reports nested added / removed / changed with paths', () => {
    const d = diffJson({ a: 1, b: { c: 2, d: 3 }, gone: true }, { a: 2, b: { c: 2, e: 4 }, fresh: 'x' });
    expect(d).toEqual([
      { path: ['a'], kind: 'changed', before: 1, after: 2 },
      { path: ['b', 'd'], kind: 'removed', before: 3 },
      { path: ['b', 'e'], kind: 'added', after: 4 },
      { path: ['gone'], kind: 'removed', before: true },
      { path: ['fresh'], kind: 'added', after: 'x' },
    ]);
  });

  it('compares arrays index by index and reports added or removed tails', () => {
    expect(diffJson({ xs: [1, { q: 1 }, 3] }, { xs: [1, { q: 2 }] })).toEqual([
      { path: ['xs', '1', 'q'], kind: 'changed', before: 1, after: 2 },
      { path: ['xs', '2'], kind: 'removed', before: 3 },
    ]);
    expect(diffJson([], [7])).toEqual([{ path: ['0'], kind: 'added', after: 7 }]);
  });

  it('treats a change of kind (object to array, scalar to object) as one change', () => {
    expect(diffJson({ v: { a: 1 } }, { v: [1] })).toEqual([
      { path: ['v'], kind: 'changed', before: { a: 1 }, after: [1] },
    ]);
    expect(diffJson(1, 1)).toEqual([]);
  });

  it('treats __proto__ as a plain key', () => {
    const a = JSON.parse('{"__proto__": {"x": 1}}');
    const b = JSON.parse('{"__proto__": {"x": 2}}');
    expect(diffJson(a, b)).toEqual([{ path: ['__proto__', 'x'], kind: 'changed', before: 1, after: 2 }]);
    expect(diffJson({}, a)).toEqual([{ path: ['__proto__'], kind: 'added', after: { x: 1 } }]);
  });

  it('renders a tree with shared parents once, colours only when asked', () => {
    const d = diffJson({ o: { a: 1, b: 1 }, t: 5 }, { o: { a: 2, b: 1, c: 3 }, t: -1 });
    expect(renderDiff(d)).toBe(['  o:', '  ~ a: 1 → 2', '  + c: 3', '~ t: 5 → -1'].join('\n'));
    expect(renderDiff(d)).not.toContain('\x1b[');
    expect(renderDiff(d, { color: true })).toContain('\x1b[32m');
    expect(renderDiff([])).toBe('(no differences)');
  });
});

describe('parseStatePredicate', () => {
  const state = {
    total: -5,
    status: 'paid',
    items: [{ qty: 2 }],
    coupon: 'X',
    $counts: { RefundIssued: 2 },
  };
  it.each([
    ['total < 0', true],
    ['total >= 0', false],
    ['status == "paid"', true],
    ['status = paid', true],
    ['status != "paid"', false],
    ['items.0.qty >= 2', true],
    ['$counts.RefundIssued > 1', true],
    ['exists(coupon)', true],
    ['!exists(coupon)', false],
    ['missing(gift)', true],
    ['status in ["paid","shipped"]', true],
    ['status ^= "pa"', true],
    ['total < 0 && status == "paid"', true],
    ['total < 0 && exists(gift)', false],
    ['status == "a&&b"', false],
    ['total < "0"', false],
  ])('%s → %s', (expr, want) => {
    expect(parseStatePredicate(expr).test(state)).toBe(want);
  });

  it.each([
    ['', /empty/],
    ['total <', /missing a value/],
    ['< 0', /missing a path/],
    ['total 0', /expected "path OP value"/],
    ['total < 0x', /not JSON/],
    ['status in "paid"', /needs a JSON array/],
    ['exists(a b)', /not a path/],
    ['total < 0 &&', /empty condition/],
  ])('rejects %j naming the problem', (expr, why) => {
    expect(() => parseStatePredicate(expr)).toThrow(why);
  });
});
