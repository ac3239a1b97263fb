import { RETURN_REASONS, SUPPORT_AGENTS, WAREHOUSES } from './catalog';
import { duringHours } from './calendar';
import type { OrderFlow } from './purchase';
import type { Rng } from './rng';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** A tracking number in the carrier's usual shape. */
function trackingNumber(rng: Rng, carrier: string): string {
  if (carrier === 'UPS') return `1Z${rng.hex(6).toUpperCase()}${rng.digits(10)}`;
  if (carrier === 'USPS') return `9400${rng.digits(18)}`;
  if (carrier === 'Royal Mail') return `RM${rng.digits(9)}GB`;
  return rng.digits(12);
}

/**
 * Ship, capture on shipment, carrier scans (their webhooks are sometimes retried, harmlessly),
 * delivery, completion, loyalty; then sometimes a return or a goodwill refund.
 */
export function fulfil(f: OrderFlow): void {
  const { rng, j, order, payment, pace } = f;
  const profile = f.ctx.profile;
  j.newTrace();
  f.t += rng.skewed(20 * MIN, 8 * HOUR * pace);
  const shipment = `Shipment-${f.ctx.next('shipment')}`;
  const carrier = rng.pick(profile.carriers);
  const parcel = { warehouse: rng.pick(WAREHOUSES), carrier, parcels: 1, weightGrams: rng.int(150, 9000) };
  const createdData = { shipmentId: shipment, orderId: order, ...parcel, address: { ...f.shipTo } };
  const created = j.emit(f.t, shipment, 'ShipmentCreated', 'system:fulfillment', createdData, f.last);
  f.t += rng.int(200, 2000);
  const capture = { status: 'captured', captureId: `cap_${rng.hex(12)}`, amount: f.total };
  j.emit(f.t, payment, 'PaymentCaptured', 'system:payments', capture, created);

  f.t = duringHours(rng, f.t + rng.skewed(HOUR, 30 * HOUR * pace), profile.utcOffset, 6, 22);
  const trackingNo = trackingNumber(rng, carrier);
  const service = rng.pick(['standard', 'express']);
  const dispatch = { status: 'dispatched', trackingNumber: trackingNo, carrier, service };
  let ship = j.emit(f.t, shipment, 'ShipmentDispatched', 'system:warehouse', dispatch, created);
  f.t += rng.int(100, 1500);
  const shipped = { status: 'shipped', shipmentId: shipment, carrier, trackingNumber: trackingNo };
  j.emit(f.t, order, 'OrderShipped', 'system:orders', shipped, ship);

  const scans = f.planted ? 1 : rng.int(1, 3);
  for (let i = 0; i < scans; i++) {
    f.t += rng.skewed(3 * HOUR, 30 * HOUR * pace);
    const lastScan = {
      location: rng.pick(profile.cities),
      code: i === scans - 1 ? 'OUT_FOR_DELIVERY' : 'IN_TRANSIT',
    };
    const data = { status: 'in_transit', lastScan };
    const cause = ship;
    const deliveryId = `whd_${rng.hex(12)}`;
    ship = j.emit(f.t, shipment, 'ShipmentInTransit', 'system:carrier-webhook', data, cause, {
      meta: { deliveryId },
    });
    if (rng.chance(0.04)) {
      f.t += rng.int(5 * SEC, 2 * MIN);
      const meta = { deliveryId, retry: true };
      const again = { ...data, lastScan: { ...lastScan } }; // no object is shared between events
      j.emit(f.t, shipment, 'ShipmentInTransit', 'system:carrier-webhook', again, cause, { meta });
    }
  }
  if (rng.chance(0.05)) {
    f.t = duringHours(rng, f.t + rng.skewed(HOUR, 8 * HOUR), profile.utcOffset, 8, 21);
    const data = { status: 'delivery_failed', reason: 'no_one_home', attempt: 1 };
    ship = j.emit(f.t, shipment, 'ShipmentDeliveryFailed', 'system:carrier-webhook', data, ship);
    f.t += rng.between(20 * HOUR, 28 * HOUR);
  }
  f.t = duringHours(rng, f.t + rng.skewed(HOUR, 10 * HOUR), profile.utcOffset, 8, 21);
  const proof = rng.chance(0.7) ? { proof: 'photo' } : { signedBy: f.customer.name.split(' ')[1]! };
  const delivered = { status: 'delivered', ...proof };
  ship = j.emit(f.t, shipment, 'ShipmentDelivered', 'system:carrier-webhook', delivered, ship);
  f.t += rng.int(100, 2000);
  f.last = j.emit(f.t, order, 'OrderCompleted', 'system:orders', { status: 'completed' }, ship);

  const c = f.customer;
  if (++c.orders === 5 && !c.vip) {
    c.vip = true;
    const data = { tier: 'vip', reason: 'five_orders' };
    j.emit(f.t + rng.int(1000, 5000), `User-${c.n}`, 'UserTierChanged', 'system:loyalty', data, f.last, {
      tags: ['vip'],
    });
  }
  refund(f);
}

/** Returns and refunds. Every refund leaves total >= 0, except the planted retried webhook. */
function refund(f: OrderFlow): void {
  const { rng, j, order, pace, total, cart } = f;
  const profile = f.ctx.profile;
  const goodwill = !f.planted && rng.chance(0.02);
  if (!f.planted && !goodwill && !rng.chance(0.06)) return;
  let cause = f.last;
  let refundAmount = Math.max(1, Math.round(total * 0.1));
  let reason = 'goodwill_late_delivery';
  let full = false;
  if (goodwill) {
    f.t = duringHours(rng, f.t + rng.skewed(HOUR, 2 * DAY), profile.utcOffset, 8, 18);
  } else {
    f.t += rng.skewed(DAY * pace, 10 * DAY * pace);
    j.newTrace();
    const returned =
      f.planted || cart.lines.length === 1 || rng.chance(0.5) ? cart.lines : [rng.pick(cart.lines)];
    full = returned === cart.lines;
    reason = f.planted ? 'damaged' : rng.pick(RETURN_REASONS);
    const data = { status: 'return_requested', returnReason: reason, skus: returned.map((l) => l.sku) };
    cause = j.emit(f.t, order, 'ReturnRequested', f.user, data, f.last);
    const lineValue = returned.reduce((s, l) => s + l.qty * l.unitPrice, 0);
    refundAmount = full ? total : Math.min(total, lineValue);
    f.t += rng.skewed(4 * HOUR, 3 * DAY * pace);
  }
  const actor = goodwill ? `support:${rng.pick(SUPPORT_AGENTS)}` : 'system:payments-webhook';
  const refundId = `re_${rng.hex(14)}`;
  const data = {
    refundId,
    paymentId: f.payment,
    refundAmount,
    total: total - refundAmount,
    currency: f.currency,
    reason,
  };
  const webhook = { webhook: 'payments', deliveryId: `whd_${rng.hex(12)}` };
  const issued = j.emit(
    f.t,
    order,
    'RefundIssued',
    actor,
    data,
    cause,
    goodwill ? { tags: ['goodwill'] } : { meta: webhook },
  );
  const status = full ? 'refunded' : 'partially_refunded';
  f.t += rng.int(300, 3000);
  const paid = { status, refundId, refundedAmount: refundAmount };
  j.emit(f.t, f.payment, 'PaymentRefunded', 'system:payments', paid, issued);
  f.t += rng.int(50, 500);
  j.emit(f.t, order, 'OrderRefunded', 'system:orders', { status, refundedAmount: refundAmount }, issued);
  if (f.planted) {
    // The planted bug: the provider retried the webhook, and nobody checked the refundId.
    f.t += rng.int(40 * SEC, 3 * MIN);
    const dup = { ...data, total: total - 2 * refundAmount };
    const meta = { ...webhook, retry: true, attempt: 2 };
    j.emit(f.t, order, 'RefundIssued', actor, dup, cause, { meta, id: f.ctx.planted.eventId });
  }
}
