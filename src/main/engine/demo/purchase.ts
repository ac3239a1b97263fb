import { duringHours, type ActivityCalendar, type Promo } from './calendar';
import type { TenantProfile } from './catalog';
import { CARD_BRANDS, DECLINE_REASONS, PAYMENT_METHODS, SUPPORT_AGENTS } from './catalog';
import { fulfil } from './fulfilment';
import type { Customer, Journey } from './journey';
import type { Rng } from './rng';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** What a purchase needs from the world around it: counters, the calendar, the planted bug. */
export interface PurchaseContext {
  readonly calendar: ActivityCalendar;
  readonly profile: TenantProfile;
  /** Next number for a stream kind (`Order-<n>`, ...). */
  next(kind: 'order' | 'payment' | 'shipment'): number;
  /** The order number that gets the double refund, and the duplicate's pre-drawn event id. */
  readonly planted: { readonly order: number; readonly eventId: string };
  /** From this time on OrderPlaced is written with schemaVersion 2 (adds `channel`). */
  readonly schemaV2From: number;
}

/** A cart at checkout: its lines and money. */
export interface CheckedOutCart {
  readonly cartId: string;
  readonly lines: { sku: string; name: string; qty: number; unitPrice: number }[];
  readonly subtotal: number;
  readonly discount: number;
  readonly promo?: Promo;
}

/** One order on its way through the shop; `t` and `last` advance as events are written. */
export interface OrderFlow {
  readonly ctx: PurchaseContext;
  readonly j: Journey;
  readonly rng: Rng;
  readonly customer: Customer;
  readonly user: string;
  readonly order: string;
  /** Set once the order passed screening. */
  payment: string;
  readonly cart: CheckedOutCart;
  readonly total: number;
  readonly currency: string;
  readonly shipTo: Customer['address'] & { name: string };
  /** True for the one order that gets the double refund. */
  readonly planted: boolean;
  /** Multiplies the long waits: the planted order moves fast, so its refunds fit short logs. */
  readonly pace: number;
  t: number;
  last: string;
}

/**
 * Order → fraud screening → payment (declines, provider timeouts, customer retries) → then
 * fulfilment. Order events carry the running `total`; only the planted order refunds twice.
 */
export function purchase(
  ctx: PurchaseContext,
  j: Journey,
  cart: CheckedOutCart,
  t: number,
  cause: string,
): void {
  const { rng } = j;
  const c = j.customer;
  const orderNo = ctx.next('order');
  const base = cart.subtotal - cart.discount;
  const shipping = base >= 5000 ? 0 : 499;
  const tax = Math.round(base * ctx.profile.taxRate);
  const planted = orderNo === ctx.planted.order;
  const f: OrderFlow = {
    ctx,
    j,
    rng,
    customer: c,
    user: `user:${c.n}`,
    order: `Order-${orderNo}`,
    payment: '',
    cart,
    total: base + shipping + tax,
    currency: ctx.profile.currency,
    shipTo: { name: c.name, ...c.address },
    planted,
    pace: planted ? 0.15 : 1,
    t: t + rng.int(40, 400),
    last: cause,
  };
  const v2 = f.t >= ctx.schemaV2From;
  const placed: Record<string, unknown> = { orderId: f.order, userId: `User-${c.n}`, cartId: cart.cartId };
  if (v2) placed.channel = c.channel;
  Object.assign(placed, {
    status: 'placed',
    lines: cart.lines,
    subtotal: cart.subtotal,
    discount: cart.discount,
  });
  Object.assign(placed, { shipping, tax, total: f.total, currency: f.currency, shipTo: f.shipTo });
  f.last = j.emit(f.t, f.order, 'OrderPlaced', 'system:orders', placed, cause, { schemaVersion: v2 ? 2 : 1 });

  if (!planted && !screen(f)) return;
  f.payment = `Payment-${ctx.next('payment')}`;
  if (pay(f)) fulfil(f);
}

/** Fraud screening: big baskets are sometimes held for a human. False if the order was rejected. */
function screen(f: OrderFlow): boolean {
  const { rng, j } = f;
  if (!(f.total > 40000 ? rng.chance(0.3) : rng.chance(0.01))) return true;
  const opts = { tags: ['fraud-check'] };
  f.t += rng.int(200, 2000);
  const flagged = { status: 'review', riskScore: rng.int(61, 97) };
  f.last = j.emit(f.t, f.order, 'OrderFlaggedForReview', 'system:fraud', flagged, f.last, opts);
  f.t = duringHours(rng, f.t + rng.skewed(10 * MIN, 8 * HOUR), f.ctx.profile.utcOffset, 8, 18);
  const agent = `support:${rng.pick(SUPPORT_AGENTS)}`;
  j.newTrace();
  if (rng.chance(0.15)) {
    const data = { status: 'cancelled', reason: 'fraud_suspected' };
    j.emit(f.t, f.order, 'OrderCancelled', agent, data, f.last, opts);
    return false;
  }
  const data = { status: 'placed', reviewedBy: agent };
  f.last = j.emit(f.t, f.order, 'OrderReviewApproved', agent, data, f.last, opts);
  return true;
}

/** Authorises the payment (up to three attempts); true once the order is confirmed and kept. */
function pay(f: OrderFlow): boolean {
  const { rng, j, order, payment } = f;
  const type = rng.pick(PAYMENT_METHODS);
  const method = type === 'card' ? { type, brand: rng.pick(CARD_BRANDS), last4: rng.digits(4) } : { type };
  let authorized = '';
  for (let attempt = 1; attempt <= 3 && !authorized; attempt++) {
    f.t += attempt === 1 ? rng.int(100, 900) : rng.skewed(MIN, 15 * MIN);
    if (attempt > 1) j.newTrace();
    const actor = attempt === 1 ? 'system:payments' : f.user;
    const data = {
      paymentId: payment,
      orderId: order,
      amount: f.total,
      currency: f.currency,
      method: { ...method }, // no object is shared between events
      attempt,
    };
    const init = j.emit(f.t, payment, 'PaymentInitiated', actor, data, f.last, { meta: { attempt } });
    f.t += rng.int(800, 4000);
    const outage = f.ctx.calendar.inOutage(f.t);
    if (f.planted || !rng.chance(outage ? 0.7 : 0.05)) {
      const ok = { status: 'authorized', authCode: rng.hex(6).toUpperCase(), amount: f.total };
      authorized = j.emit(f.t, payment, 'PaymentAuthorized', 'system:payments', ok, init);
      continue;
    }
    const failed = {
      status: 'failed',
      reason: outage ? 'provider_timeout' : rng.pick(DECLINE_REASONS),
      attempt,
    };
    f.last = j.emit(f.t, payment, 'PaymentFailed', 'system:payments', failed, init);
    if (attempt === 3 || !rng.chance(0.7)) {
      f.t += rng.skewed(20 * MIN, 2 * HOUR);
      const data = { status: 'cancelled', reason: 'payment_failed' };
      j.emit(f.t, order, 'OrderCancelled', 'system:orders', data, f.last);
      return false;
    }
  }
  f.t += rng.int(50, 300);
  const confirmed = { status: 'confirmed', paymentId: payment };
  f.last = j.emit(f.t, order, 'OrderConfirmed', 'system:orders', confirmed, authorized);

  if (!f.planted && rng.chance(0.03)) {
    f.t += rng.skewed(5 * MIN, 3 * HOUR);
    j.newTrace();
    const data = { status: 'cancelled', reason: 'changed_mind' };
    const cancel = j.emit(f.t, order, 'OrderCancelled', f.user, data, f.last);
    j.emit(
      f.t + rng.int(200, 2000),
      payment,
      'PaymentVoided',
      'system:payments',
      { status: 'voided' },
      cancel,
    );
    return false;
  }
  return true;
}
