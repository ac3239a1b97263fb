import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { BenchRng, mixSeed, uuidV4 } from './rng';

/** One W1M event as handed to `append`: every writer field a foreign log would carry. */
export interface BenchEvent {
  id: string;
  stream: string;
  type: string;
  time: string;
  tenant: string;
  actor: string;
  correlationId: string;
  data: { amount: number; currency: string; sku: string; qty: number; status: string; note: string };
}

/** The sizes of W1M, scaled by `--events` so a smoke run keeps the same proportions. */
export interface WorkloadShape {
  events: number;
  streams: number;
  actors: number;
  correlations: number;
  seed: number;
}

export const TYPES = [
  'OrderPlaced',
  'OrderPaid',
  'OrderShipped',
  'OrderDelivered',
  'OrderCancelled',
  'ItemAdded',
  'ItemRemoved',
  'CustomerUpdated',
] as const;
export const TENANTS = ['acme', 'globex', 'initech', 'umbrella'] as const;
const KINDS = ['Order', 'Cart', 'Customer', 'Shipment'];
const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF'];
const STATUSES = ['new', 'pending', 'paid', 'packed', 'sent', 'done'];
const WORDS = (
  'amber brisk cedar delta ember fjord grove harbor island jasper kettle lantern meadow nectar ' +
  'orchard pebble quartz river saddle timber umber velvet willow yonder anchor basket candle ' +
  'dapple engine falcon garnet hollow indigo juniper kernel lumber marble nimbus oyster pepper ' +
  'quiver ribbon silver thistle useful valley wander'
).split(' ');
/** The full-text needle: in about 0.1 % of events, and in no other word or id. */
export const SEARCH_WORD = 'zyzzyva';
const DAY_MS = 86_400_000;
const SPAN_MS = 90 * DAY_MS;
const START_MS = Date.parse('2025-01-01T00:00:00.000Z');

/** W1M's proportions (1M events: 50k streams, 5k actors, 200k correlations) for any event count. */
export function shapeFor(events: number, seed = 1): WorkloadShape {
  return {
    events,
    streams: Math.max(1, Math.round(events / 20)),
    actors: Math.max(1, Math.round(events / 200)),
    correlations: Math.max(1, Math.round(events / 5)),
    seed,
  };
}

/** The deterministic, seeded W1M workload: event i is a pure function of (seed, i), so nothing is held in memory. */
export class Workload {
  constructor(readonly shape: WorkloadShape) {}

  /** Event number i (0-based); times strictly increase with i over 90 days. */
  event(i: number): BenchEvent {
    const r = new BenchRng(mixSeed(this.shape.seed, i));
    const k = r.below(this.shape.streams);
    const words: string[] = [];
    for (let w = 3 + r.below(4); w > 0; w--) words.push(r.pick(WORDS));
    if (r.below(1000) === 0) words.splice(r.below(words.length + 1), 0, SEARCH_WORD);
    return {
      id: uuidV4(this.shape.seed, i),
      stream: this.streamName(k),
      type: r.pick(TYPES),
      time: new Date(this.timeMs(i)).toISOString(),
      tenant: r.pick(TENANTS),
      actor: this.actorName(r.below(this.shape.actors)),
      correlationId: this.correlationId(r.below(this.shape.correlations)),
      data: {
        amount: r.below(100_000) / 100,
        currency: r.pick(CURRENCIES),
        sku: `SKU-${String(r.below(20_000)).padStart(5, '0')}`,
        qty: 1 + r.below(9),
        status: r.pick(STATUSES),
        note: words.join(' '),
      },
    };
  }

  timeMs(i: number): number {
    return START_MS + Math.floor((i * SPAN_MS) / this.shape.events);
  }
  streamName(k: number): string {
    return `${KINDS[k % KINDS.length]}-${k}`;
  }
  actorName(k: number): string {
    return `actor-${String(k).padStart(5, '0')}`;
  }
  correlationId(k: number): string {
    return uuidV4(this.shape.seed ^ 0x5bd1e995, k);
  }

  /** Consecutive batches of `size` events, generated lazily. */
  *batches(size = 1000, from = 0, to = this.shape.events): Generator<BenchEvent[]> {
    for (let i = from; i < to; i += size) {
      const b: BenchEvent[] = [];
      for (let j = i; j < Math.min(i + size, to); j++) b.push(this.event(j));
      yield b;
    }
  }

  /** A one-hour-or-wider window expected to hold about 500 events, so a page of 100 fills. */
  timeWindow(r: BenchRng): { since: string; until: string } {
    const width = Math.max(3_600_000, Math.ceil((500 * SPAN_MS) / this.shape.events));
    const lo = START_MS + r.below(Math.max(1, SPAN_MS - width));
    return { since: new Date(lo).toISOString(), until: new Date(lo + width).toISOString() };
  }

  /** Writes the same events as a gzip JSONL foreign log in the common camelCase envelope. */
  async writeForeignLog(path: string): Promise<{ lines: number }> {
    const chunks = function* (w: Workload): Generator<string> {
      for (const b of w.batches(1000)) yield b.map((e) => JSON.stringify(toCamel(e))).join('\n') + '\n';
    };
    await pipeline(Readable.from(chunks(this)), createGzip({ level: 6 }), createWriteStream(path));
    return { lines: this.shape.events };
  }
}

/** The camelCase foreign record of one event; metadata.streamId maps the stream back. */
export function toCamel(e: BenchEvent): Record<string, unknown> {
  return {
    eventId: e.id,
    eventType: e.type,
    timestamp: e.time,
    actorId: e.actor,
    correlationId: e.correlationId,
    payload: e.data,
    metadata: { streamId: e.stream, tenantId: e.tenant },
  };
}
