import { describe, expect, it } from 'vitest';
import { createShop, generateShop } from '../../src/main/engine/demo/shop';
import { normaliseEvent, type EventInput } from '../../src/shared/event';

const TARGET = 30_000;
const shop = createShop({ seed: 7, events: TARGET });
const events: EventInput[] = [...shop.events];

const take = (it: Iterable<EventInput>, n: number): string[] => {
  const out: string[] = [];
  for (const e of it) {
    out.push(JSON.stringify(e));
    if (out.length === n) break;
  }
  return out;
};

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
/** The generic reducer's fold: deep merge of `data`, arrays and scalars replaced. */
function merge(a: Json, b: Json): Json {
  if (!isObject(a) || !isObject(b)) return b;
  const out: Record<string, Json> = { ...a };
  for (const k of Object.keys(b)) out[k] = merge(a[k], b[k]);
  return out;
}

/** Streams whose folded `data.total` ever goes negative, with the event where it first does. */
function negativeTotals(log: Iterable<EventInput>): Map<string, EventInput> {
  const state = new Map<string, Json>();
  const flips = new Map<string, EventInput>();
  for (const e of log) {
    const s = merge(state.get(e.stream) ?? {}, e.data) as Record<string, Json>;
    state.set(e.stream, s);
    if (typeof s.total === 'number' && s.total < 0 && !flips.has(e.stream)) flips.set(e.stream, e);
  }
  return flips;
}

describe('demo shop generator', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = take(generateShop({ seed: 42, events: TARGET }), 1000);
    const b = take(generateShop({ seed: 42, events: TARGET }), 1000);
    const c = take(generateShop({ seed: 43, events: TARGET }), 1000);
    expect(a).toHaveLength(1000);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(createShop({ seed: 42, events: TARGET }).plantedBug).toEqual(
      createShop({ seed: 42, events: TARGET }).plantedBug,
    );
  });

  it('yields about the target count, in time order, each a valid envelope with a unique id', () => {
    expect(Math.abs(events.length - TARGET)).toBeLessThan(TARGET * 0.01);
    const ids = new Set<string>();
    const problems: string[] = [];
    let last = '';
    for (const [i, e] of events.entries()) {
      const n = normaliseEvent(e, () => 'unused', `event ${i}`);
      if (n.time !== e.time) problems.push(`${i}: time not canonical`);
      if (n.time < last) problems.push(`${i}: time goes backwards`);
      last = n.time;
      ids.add(n.id);
    }
    expect(problems).toEqual([]);
    expect(ids.size).toBe(events.length);
    expect(events[0]!.time! >= '2026-06-01T00:00:00.000Z').toBe(true);
    expect(last < '2026-09-29T00:00:00.000Z').toBe(true);
  });

  it('uses the documented stream, actor and envelope shapes', () => {
    const tenants = new Map<string, number>();
    const problems: string[] = [];
    let bytes = 0;
    for (const e of events) {
      if (!/^(User|Cart|Order|Payment|Shipment)-\d+$/.test(e.stream)) problems.push(`stream ${e.stream}`);
      if (!/^(user:\d+|system:[a-z-]+|support:[a-z]+)$/.test(e.actor ?? ''))
        problems.push(`actor ${e.actor}`);
      if (!e.correlationId || !(e.schemaVersion! >= 1)) problems.push(`envelope of ${e.id}`);
      if (!/^(web|mobile|api)$/.test(String(e.meta?.source))) problems.push(`meta.source of ${e.id}`);
      tenants.set(e.tenant!, (tenants.get(e.tenant!) ?? 0) + 1);
      bytes += JSON.stringify(e).length;
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect([...tenants.keys()].sort()).toEqual(['acme', 'globex', 'initech', 'umbrella']);
    for (const n of tenants.values()) expect(n).toBeGreaterThan(events.length * 0.05);
    const avg = bytes / events.length;
    expect(avg).toBeGreaterThan(200);
    expect(avg).toBeLessThan(600);
    const tags = new Set(events.flatMap((e) => e.tags ?? []));
    for (const t of ['vip', 'promo', 'fraud-check', 'pii']) expect(tags).toContain(t);
    const types = new Set(events.map((e) => e.type));
    for (const t of ['PaymentFailed', 'OrderCancelled', 'RefundIssued', 'CartAbandoned', 'ShipmentDelivered'])
      expect(types).toContain(t);
  });

  it('chains causes to earlier events of the same journey, across streams', () => {
    const seen = new Map<string, EventInput>();
    const kinds = new Map<string, Set<string>>();
    const problems: string[] = [];
    for (const e of events) {
      if (e.causationId !== undefined) {
        const cause = seen.get(e.causationId);
        if (!cause) problems.push(`cause of ${e.id} is not earlier`);
        else if (cause.correlationId !== e.correlationId || cause.tenant !== e.tenant)
          problems.push(`cause of ${e.id} is in another journey`);
      }
      seen.set(e.id!, e);
      const k = kinds.get(e.correlationId!) ?? new Set<string>();
      k.add(e.stream.split('-')[0]!);
      kinds.set(e.correlationId!, k);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    const purchases = [...kinds.values()].filter((k) =>
      ['Cart', 'Order', 'Payment', 'Shipment'].every((s) => k.has(s)),
    );
    expect(purchases.length).toBeGreaterThan(100);
    expect([...kinds.values()].some((k) => k.size === 5)).toBe(true);
  });

  it('has daily cycles and a promo burst the histogram can show', () => {
    const perHour = new Map<string, number>();
    for (const e of events) perHour.set(e.time!.slice(0, 13), (perHour.get(e.time!.slice(0, 13)) ?? 0) + 1);
    const counts = [...perHour.values()].sort((a, b) => a - b);
    const median = counts[Math.floor(counts.length / 2)]!;
    expect(counts[counts.length - 1]!).toBeGreaterThan(median * 3);
  });

  it('plants exactly one negative order total, at the reported event', () => {
    const flips = negativeTotals(events);
    expect([...flips.keys()]).toEqual([shop.plantedBug.stream]);
    const flip = flips.get(shop.plantedBug.stream)!;
    expect(flip.id).toBe(shop.plantedBug.eventId);
    expect(flip.type).toBe(shop.plantedBug.eventType);
    expect(flip.meta?.retry).toBe(true);
    const refunds = events.filter((e) => e.stream === flip.stream && e.type === 'RefundIssued');
    expect(refunds).toHaveLength(2);
    expect(refunds[0]!.causationId).toBe(flip.causationId);
    const at = events.indexOf(flip) / events.length;
    expect(at).toBeGreaterThan(0.4);
    expect(at).toBeLessThan(0.8);
  });

  it('plants the bug, and only it, for other seeds and sizes too', () => {
    for (const [seed, n] of [
      [1, 5000],
      [99, 12_000],
    ] as const) {
      const s = createShop({ seed, events: n });
      const flips = negativeTotals(s.events);
      expect([...flips.keys()]).toEqual([s.plantedBug.stream]);
      expect(flips.get(s.plantedBug.stream)!.id).toBe(s.plantedBug.eventId);
    }
  });

  it('rejects nonsense options', () => {
    expect(() => createShop({ events: 0 })).toThrow(/events/);
    expect(() => createShop({ start: 'yesterday' })).toThrow(/start/);
    expect(() => createShop({ tenants: [] })).toThrow(/tenants/);
  });
});
