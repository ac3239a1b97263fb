/**
 * The demo log is a simulated online shop. By default four tenants (acme, globex, initech,
 * umbrella) in different time zones have customers who register, edit their profiles, fill carts
 * and abandon or check them out, pay (with card declines, customer retries and a 90-minute
 * payment-provider outage 45% of the way in), have parcels shipped, scanned and delivered, and
 * sometimes send them back for a refund. Traffic follows daily and weekly cycles with slow growth,
 * plus two bursts: a 4-hour flash sale at the first shop 30% of the way in and a 48-hour summer
 * sale at every shop at 75%. A purchase shares one correlationId across its Cart-, Order-,
 * Payment- and Shipment- streams, and every causationId points at the event that caused it. The
 * same seed always gives byte-identical output. One bug is planted for time travel to find: about
 * 60% of the way in, the payment provider delivers one order's refund webhook twice, and the
 * duplicate RefundIssued (meta.retry = true, same causationId as the first) drives that order's
 * running data.total below zero. To find it, fold the Order streams with the generic reducer and
 * bisect for the first position where `total < 0` (or filter RefundIssued events by
 * meta.retry = true). createShop() reports the stream and event id, so tests can check the answer.
 */
import { isIsoTime, type EventInput } from '../../../shared/event';
import { ChronoscopeError } from '../../../shared/errors';
import { ActivityCalendar } from './calendar';
import { DEFAULT_TENANTS, tenantProfiles } from './catalog';
import { EventHeap } from './heap';
import type { PendingEvent } from './journey';
import { Rng } from './rng';
import { ShopWorld } from './world';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Orders per generated event up to the 60% mark, measured on this model (places the bug). */
const ORDERS_PER_EVENT = 0.0487;
/** Days from the planted order's placement to its double refund (its journey runs at a fast pace). */
const PLANTED_LEAD_DAYS = 1.2;
/** Mean hours from a journey's start to its events, measured: sizes the in-flight tail at the end. */
const TAIL_HOURS = 13;

/** Knobs of the demo shop; every field has a sensible default. */
export interface ShopOptions {
  /** PRNG seed; the same seed always gives the same log. Default 1. */
  seed?: number;
  /** Target number of events, default 300,000; the log may end ≤ ~1% short (journeys in flight are cut). */
  events?: number;
  /** ISO time of the first possible event. Default 2026-06-01T00:00:00.000Z. */
  start?: string;
  /** Length of the simulated period in days, default 120; the planted bug needs at least ~3. */
  days?: number;
  /** Tenant (shop) names. Default acme, globex, initech, umbrella. */
  tenants?: string[];
}

/** Where the planted double refund is, so tests and the UI tour can check the answer. */
export interface PlantedBug {
  stream: string;
  eventId: string;
  eventType: 'RefundIssued';
  description: string;
}

/** A lazily generated demo log together with the answer to its planted bug. */
export interface Shop {
  events: Generator<EventInput, void, undefined>;
  plantedBug: PlantedBug;
}

/** Builds the demo shop: a time-ordered event generator plus where its planted bug is. */
export function createShop(options: ShopOptions = {}): Shop {
  const seed = options.seed ?? 1;
  const target = options.events ?? 300_000;
  const start = options.start ?? '2026-06-01T00:00:00.000Z';
  const days = options.days ?? 120;
  const tenants = options.tenants ?? [...DEFAULT_TENANTS];
  const startMs = Date.parse(start);
  const bad = (field: string, why: string): never => {
    throw new ChronoscopeError('INVALID_ARGUMENT', `demo shop: ${field} ${why}`, { field });
  };
  if (!Number.isSafeInteger(seed)) bad('seed', 'must be an integer');
  if (!Number.isSafeInteger(target) || target < 1) bad('events', 'must be a positive integer');
  if (!isIsoTime(start)) bad('start', 'must be an ISO-8601 date-time');
  if (!(days > 0 && days <= 3650)) bad('days', 'must be between 0 and 3650');
  if (tenants.length === 0 || new Set(tenants).size !== tenants.length)
    bad('tenants', 'must be distinct, non-empty');

  const calendar = new ActivityCalendar(tenantProfiles(tenants), startMs, days);
  // The bug's order is placed so that its double refund, ~2 days later, lands ~60% of the way in.
  const bugRng = new Rng(seed ^ 0x5bd1e995);
  const orderFraction = Math.max(0.05, bugRng.between(0.57, 0.62) - PLANTED_LEAD_DAYS / days);
  const orderAt = calendar.cumulative[Math.floor(calendar.hours * orderFraction)]!;
  const order = Math.max(1, Math.round((ORDERS_PER_EVENT * target * orderAt) / calendar.totalWeight));
  const eventId = bugRng.uuid();
  const stream = `Order-${order}`;
  const plantedBug: PlantedBug = {
    stream,
    eventId,
    eventType: 'RefundIssued',
    description:
      `${stream} is refunded twice: the payment provider retried its refund webhook and the duplicate ` +
      `RefundIssued ${eventId} (meta.retry = true, same causationId as the first) was applied again, ` +
      `so the order's data.total goes below zero at that event.`,
  };
  const world = new ShopWorld(
    new Rng(seed),
    tenantProfiles(tenants),
    calendar,
    { order, eventId },
    startMs + days * DAY * 0.4,
  );
  return { events: run(world, calendar, target, startMs), plantedBug };
}

/** The demo log alone, for callers that do not need the planted bug's location. */
export function generateShop(options: ShopOptions = {}): Generator<EventInput, void, undefined> {
  return createShop(options).events;
}

/**
 * Spawns journeys hour by hour so that the cumulative event count follows the calendar's
 * weights, and yields queued events once no later-spawned journey can precede them.
 */
function* run(
  world: ShopWorld,
  calendar: ActivityCalendar,
  target: number,
  startMs: number,
): Generator<EventInput, void, undefined> {
  const endMs = startMs + calendar.hours * HOUR;
  const heap = new EventHeap();
  const buffer: PendingEvent[] = [];
  const tenants = world.profiles.length;
  // Journeys count all their events, even those still in flight when the log ends (dropped), so
  // the activity keeps the calendar's shape up to the end; the goal is raised by the expected tail.
  const lastDay =
    calendar.cumulative[calendar.hours]! - calendar.cumulative[Math.max(0, calendar.hours - 24)]!;
  const tail = Math.min(0.5, (TAIL_HOURS * lastDay) / Math.min(24, calendar.hours) / calendar.totalWeight);
  const perWeight = target / (1 - tail) / calendar.totalWeight;
  let scheduled = 0;
  let yielded = 0;
  for (let h = 0; h < calendar.hours; h++) {
    const hourStart = startMs + h * HOUR;
    const goal = perWeight * calendar.cumulative[h + 1]!;
    while (scheduled < goal) {
      let x = world.rng.next() * (calendar.cumulative[h + 1]! - calendar.cumulative[h]!);
      let tenant = 0;
      while (tenant < tenants - 1 && (x -= calendar.tenantWeight(h, tenant)) >= 0) tenant++;
      buffer.length = 0;
      world.journey(hourStart + Math.floor(world.rng.next() * HOUR), tenant, buffer);
      scheduled += buffer.length;
      for (const p of buffer) if (p.t < endMs) heap.push(p); // later ones are still in flight at the end
    }
    while (heap.peekTime() < hourStart + HOUR) {
      yield heap.pop()!.ev;
      if (++yielded >= target) return;
    }
  }
  while (heap.size > 0 && yielded++ < target) yield heap.pop()!.ev;
}
