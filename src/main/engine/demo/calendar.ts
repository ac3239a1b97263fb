import type { TenantProfile } from './catalog';
import type { Rng } from './rng';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Relative activity per local hour of day: quiet nights, a lunch bump, an evening peak. */
const DAILY = [
  0.25, 0.15, 0.1, 0.08, 0.08, 0.12, 0.25, 0.45, 0.65, 0.8, 0.9, 1.0, 1.1, 1.05, 0.95, 0.95, 1.0, 1.1, 1.3,
  1.5, 1.6, 1.5, 1.1, 0.6,
];
/** Relative activity per local weekday (0 = Sunday): weekends shop more. */
const WEEKLY = [1.25, 0.95, 0.9, 0.9, 0.95, 1.05, 1.2];

/** A sale window: more journeys, more checkouts, a discount code, the `promo` tag. */
export interface Promo {
  readonly name: string;
  readonly code: string;
  /** Index into the tenant list, or -1 for every tenant. */
  readonly tenant: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly boost: number;
  readonly discountPct: number;
}

/**
 * When the shop is busy: hourly weights per tenant (daily and weekly cycles, slow growth, promo
 * bursts) and the incident window in which the payment provider times out.
 */
export class ActivityCalendar {
  readonly hours: number;
  readonly promos: readonly Promo[];
  /** [start, end) of the payment-provider outage, in epoch ms. */
  readonly outage: readonly [number, number];
  /** Running sum of hourly weights; `cumulative[h]` covers hours before h. */
  readonly cumulative: Float64Array;
  readonly #tenantWeights: Float64Array;
  readonly #tenants: number;

  constructor(
    profiles: readonly TenantProfile[],
    readonly startMs: number,
    days: number,
  ) {
    this.hours = Math.max(1, Math.round(days * 24));
    this.#tenants = profiles.length;
    const dayAt = (f: number): number => startMs + Math.floor(days * f) * DAY;
    const local = (ms: number, t: number): number => ms - profiles[t]!.utcOffset * HOUR;
    const flash = local(dayAt(0.3) + 18 * HOUR, 0);
    this.promos = [
      {
        name: 'Flash sale',
        code: 'FLASH30',
        tenant: 0,
        startMs: flash,
        endMs: flash + 4 * HOUR,
        boost: 6,
        discountPct: 30,
      },
      ...profiles.map((_, t) => {
        const s = local(dayAt(0.75) + 9 * HOUR, t);
        return {
          name: 'Summer sale',
          code: 'SUMMER15',
          tenant: t,
          startMs: s,
          endMs: s + 48 * HOUR,
          boost: 2.5,
          discountPct: 15,
        };
      }),
    ];
    const outageStart = dayAt(0.45) + 14 * HOUR;
    this.outage = [outageStart, outageStart + 1.5 * HOUR];

    this.#tenantWeights = new Float64Array(this.hours * this.#tenants);
    this.cumulative = new Float64Array(this.hours + 1);
    for (let h = 0; h < this.hours; h++) {
      const ms = startMs + h * HOUR;
      const growth = 1 + (0.3 * h) / this.hours;
      let total = 0;
      for (let t = 0; t < this.#tenants; t++) {
        const localMs = ms + profiles[t]!.utcOffset * HOUR;
        const hourOfDay = Math.floor(localMs / HOUR) % 24;
        const weekday = (Math.floor(localMs / DAY) + 4) % 7; // 1970-01-01 was a Thursday
        let w = profiles[t]!.share * DAILY[(hourOfDay + 24) % 24]! * WEEKLY[(weekday + 7) % 7]! * growth;
        const promo = this.promoAt(t, ms);
        if (promo) w *= ms - promo.startMs < 3 * HOUR ? promo.boost * 2 : promo.boost;
        this.#tenantWeights[h * this.#tenants + t] = w;
        total += w;
      }
      this.cumulative[h + 1] = this.cumulative[h]! + total;
    }
  }

  /** Total weight of all hours, the denominator for spreading a target event count. */
  get totalWeight(): number {
    return this.cumulative[this.hours]!;
  }

  /** Weight of tenant `t` in hour `h`, for choosing which shop a new journey belongs to. */
  tenantWeight(h: number, t: number): number {
    return this.#tenantWeights[h * this.#tenants + t]!;
  }

  /** The sale running for tenant `t` at `ms`, if any. */
  promoAt(t: number, ms: number): Promo | undefined {
    for (const p of this.promos)
      if ((p.tenant === t || p.tenant === -1) && ms >= p.startMs && ms < p.endMs) return p;
    return undefined;
  }

  /** True while the payment provider is timing out (a burst of PaymentFailed). */
  inOutage(ms: number): boolean {
    return ms >= this.outage[0] && ms < this.outage[1];
  }
}

/** Moves `t` forward into local working hours [from, to): carriers do not deliver at 3 am. */
export function duringHours(rng: Rng, t: number, utcOffset: number, from: number, to: number): number {
  const local = t + utcOffset * HOUR;
  const hour = Math.floor(local / HOUR) % 24;
  if (hour >= from && hour < to) return t;
  const midnight = local - (local % DAY) + (hour < from ? 0 : DAY);
  return midnight + from * HOUR - utcOffset * HOUR + rng.skewed(0, 3 * HOUR);
}
