import type { ActivityCalendar } from './calendar';
import type { TenantProfile } from './catalog';
import { FIRST_NAMES, LAST_NAMES, MAIL_DOMAINS, STREETS, SUPPORT_AGENTS, USER_AGENTS } from './catalog';
import { Journey, type Customer, type PendingEvent } from './journey';
import { purchase, type CheckedOutCart, type PurchaseContext } from './purchase';
import { WeightedPicker, type Rng } from './rng';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

const CHANNELS = new WeightedPicker(['web', 'mobile', 'api'] as const, [55, 40, 5]);
const ITEM_COUNT = new WeightedPicker([1, 2, 3, 4, 5], [35, 30, 18, 10, 7]);
const REFERRERS = ['search', 'social', 'direct', 'newsletter', 'partner'];
const IP_PREFIXES = ['192.0.2', '198.51.100', '203.0.113'];

/**
 * The simulated shop: customers per tenant and stream counters. `journey` writes one user
 * journey (registration, profile edit or a shopping session) into a buffer, all of it at once.
 */
export class ShopWorld {
  readonly #customers: Customer[][];
  readonly #counters = { user: 0, cart: 0, order: 0, payment: 0, shipment: 0 };

  constructor(
    readonly rng: Rng,
    readonly profiles: readonly TenantProfile[],
    readonly calendar: ActivityCalendar,
    readonly planted: { readonly order: number; readonly eventId: string },
    readonly schemaV2From: number,
  ) {
    this.#customers = profiles.map(() => []);
  }

  /** Generates one journey of tenant `tenant` starting at `t` and appends its events to `out`. */
  journey(t: number, tenant: number, out: PendingEvent[]): void {
    const { rng } = this;
    const known = this.#customers[tenant]!;
    const registering = known.length < 20 || rng.chance(0.16);
    const customer = registering
      ? this.#newCustomer(tenant)
      : known[Math.floor(rng.skewed(0, known.length))]!;
    const j = new Journey(rng, this.profiles[tenant]!.name, customer, out);
    if (customer.vip) j.tags.push('vip');
    if (registering) {
      const registered = this.#register(j, t);
      if (rng.chance(0.5)) this.#shop(j, registered + rng.skewed(MIN, 30 * MIN));
    } else if (rng.chance(0.08)) {
      this.#editProfile(j, t);
    } else {
      this.#shop(j, t);
    }
  }

  #newCustomer(tenant: number): Customer {
    const { rng } = this;
    const n = ++this.#counters.user;
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const channel = CHANNELS.pick(rng);
    const c: Customer = {
      n,
      tenant,
      name: `${first} ${last}`,
      email: `${first}.${last}${n}@${rng.pick(MAIL_DOMAINS)}`.toLowerCase(),
      address: this.#address(tenant),
      channel,
      ip: `${rng.pick(IP_PREFIXES)}.${rng.int(1, 254)}`,
      userAgent: rng.pick(USER_AGENTS[channel]),
      vip: false,
      orders: 0,
    };
    this.#customers[tenant]!.push(c);
    return c;
  }

  #address(tenant: number): Customer['address'] {
    const { rng } = this;
    const p = this.profiles[tenant]!;
    const zip =
      p.country === 'GB'
        ? `${rng.pick(['LS', 'BS', 'M', 'SW'])}${rng.int(1, 20)} ${rng.digits(1)}AB`
        : rng.digits(5);
    return {
      line1: `${rng.int(1, 250)} ${rng.pick(STREETS)}`,
      city: rng.pick(p.cities),
      zip,
      country: p.country,
    };
  }

  /** Writes UserRegistered (and usually UserEmailVerified); returns the time of the last one. */
  #register(j: Journey, t: number): number {
    const { rng } = this;
    const c = j.customer;
    const stream = `User-${c.n}`;
    const data = {
      userId: stream,
      email: c.email,
      name: c.name,
      country: c.address.country,
      marketingOptIn: rng.chance(0.4),
      referrer: rng.pick(REFERRERS),
    };
    const id = j.emit(t, stream, 'UserRegistered', `user:${c.n}`, data, undefined, {
      tags: ['pii'],
      schemaVersion: 2,
    });
    if (rng.chance(0.85)) {
      t += rng.skewed(30 * SEC, 2 * HOUR);
      j.newTrace();
      j.emit(t, stream, 'UserEmailVerified', `user:${c.n}`, { emailVerified: true }, id);
    }
    return t;
  }

  #editProfile(j: Journey, t: number): void {
    const { rng } = this;
    const c = j.customer;
    const stream = `User-${c.n}`;
    const kind = rng.int(0, 3);
    if (kind === 0) {
      const address = this.#address(c.tenant);
      j.emit(t, stream, 'UserProfileUpdated', `user:${c.n}`, { profile: { address } }, undefined, {
        tags: ['pii'],
      });
    } else if (kind === 1) {
      const phone = `+1 555 01${rng.digits(2)}`;
      j.emit(t, stream, 'UserProfileUpdated', `user:${c.n}`, { profile: { phone } }, undefined, {
        tags: ['pii'],
      });
    } else if (kind === 2) {
      const preferences = { newsletter: rng.chance(0.5), language: rng.pick(['en', 'de', 'fr', 'es']) };
      j.emit(t, stream, 'UserProfileUpdated', `user:${c.n}`, { preferences });
    } else {
      const agent = `support:${rng.pick(SUPPORT_AGENTS)}`;
      const data = { profile: { email: c.email.replace('@', '+shop@') }, ticket: `T-${rng.digits(6)}` };
      j.emit(t, stream, 'UserProfileUpdated', agent, data, undefined, { tags: ['pii'] });
    }
  }

  /** A shopping session: a cart filled, sometimes trimmed, then checked out or abandoned. */
  #shop(j: Journey, t: number): void {
    const { rng } = this;
    const c = j.customer;
    const tenant = c.tenant;
    const profile = this.profiles[tenant]!;
    const user = `user:${c.n}`;
    const cartId = `Cart-${++this.#counters.cart}`;
    const promo = this.calendar.promoAt(tenant, t);
    if (promo) j.tags.push('promo');
    const currency = profile.currency;
    let last = j.emit(t, cartId, 'CartCreated', user, { cartId, userId: `User-${c.n}`, currency });
    const lines: CheckedOutCart['lines'] = [];
    const subtotalOf = (): number => lines.reduce((s, l) => s + l.qty * l.unitPrice, 0);
    const items = ITEM_COUNT.pick(rng) + (promo ? 1 : 0);
    for (let i = 0; i < items; i++) {
      t += rng.skewed(15 * SEC, 6 * MIN);
      const product = rng.pick(profile.products);
      let line = lines.find((l) => l.sku === product.sku);
      if (!line) lines.push((line = { ...product, qty: 0 }));
      line.qty += rng.chance(0.8) ? 1 : rng.int(2, 3);
      const item = { [line.sku]: { name: line.name, qty: line.qty, unitPrice: line.unitPrice } };
      const data = { items: item, itemCount: lines.length, subtotal: subtotalOf() };
      last = j.emit(t, cartId, 'ItemAddedToCart', user, data, last);
    }
    if (lines.length > 1 && rng.chance(0.15)) {
      t += rng.skewed(10 * SEC, 3 * MIN);
      const [gone] = lines.splice(rng.int(0, lines.length - 1), 1);
      const data = { items: { [gone!.sku]: { qty: 0 } }, removedSku: gone!.sku, itemCount: lines.length };
      last = j.emit(t, cartId, 'ItemRemovedFromCart', user, { ...data, subtotal: subtotalOf() }, last);
    }
    const subtotal = subtotalOf();
    let discount = 0;
    if (promo && rng.chance(0.8)) {
      t += rng.skewed(20 * SEC, 2 * MIN);
      discount = Math.round((subtotal * promo.discountPct) / 100);
      const data = { promoCode: promo.code, discountPct: promo.discountPct, discount };
      last = j.emit(t, cartId, 'PromoCodeApplied', user, data, last);
    }

    if (!rng.chance(promo ? 0.72 : c.vip ? 0.62 : 0.5)) {
      if (rng.chance(0.5)) {
        t += rng.between(4 * HOUR, 8 * HOUR);
        const data = { channel: 'email', template: 'abandoned-cart' };
        last = j.emit(t, cartId, 'CartReminderSent', 'system:notifications', data, last);
        if (rng.chance(0.3)) {
          t += rng.skewed(10 * MIN, 20 * HOUR);
          j.newTrace();
          this.#checkout(j, { cartId, lines, subtotal, discount, promo }, t, last);
          return;
        }
      }
      t += rng.between(24 * HOUR, 72 * HOUR);
      const data = { status: 'abandoned', itemCount: lines.length, subtotal };
      j.emit(t, cartId, 'CartAbandoned', 'system:cart-reaper', data, last);
      return;
    }
    t += rng.skewed(30 * SEC, 5 * MIN);
    this.#checkout(j, { cartId, lines, subtotal, discount, promo }, t, last);
  }

  #checkout(j: Journey, cart: CheckedOutCart, t: number, cause: string): void {
    const c = j.customer;
    const data = {
      status: 'checked_out',
      itemCount: cart.lines.length,
      subtotal: cart.subtotal,
      discount: cart.discount,
    };
    const id = j.emit(t, cart.cartId, 'CartCheckedOut', `user:${c.n}`, data, cause);
    const ctx: PurchaseContext = {
      calendar: this.calendar,
      profile: this.profiles[c.tenant]!,
      next: (kind) => ++this.#counters[kind],
      planted: this.planted,
      schemaV2From: this.schemaV2From,
    };
    purchase(ctx, j, cart, t, id);
  }
}
