import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChronoscopeError, isChronoscopeError } from '../../src/shared/errors';
import { isIsoTime, normaliseEvent } from '../../src/shared/event';
import { detectFileFormat, detectFormat, resolveFormat } from '../../src/main/engine/ingest/detect';
import {
  compileMapping,
  deriveCamelStream,
  mapCamel,
  mapCloudEvent,
  mapNative,
  mapperFor,
  mapSnake,
  parseFieldMapping,
  qualifyStream,
  toIsoTime,
  type JsonRecord,
  type Mapper,
} from '../../src/main/engine/ingest/formats';

const FIXTURES = join(import.meta.dirname, '../fixtures/import');
const records = (name: string): JsonRecord[] =>
  readFileSync(join(FIXTURES, name), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JsonRecord);

/** Runs fn, expecting a ChronoscopeError with this code; returns its message. */
function failure(fn: () => unknown, code: 'INVALID_EVENT' | 'INVALID_ARGUMENT'): string {
  try {
    fn();
  } catch (err) {
    expect(isChronoscopeError(err, code), String(err)).toBe(true);
    return (err as ChronoscopeError).message;
  }
  throw new Error('expected a failure');
}

describe('format mappers', () => {
  it.each([
    ['native.jsonl', mapNative],
    ['cloudevents.jsonl', mapCloudEvent],
    ['snake.jsonl', mapSnake],
    ['camel.jsonl', mapCamel],
  ] as [string, Mapper][])(
    'every record of %s maps to an envelope that normaliseEvent accepts',
    (file, map) => {
      for (const rec of records(file)) expect(() => normaliseEvent(map(rec))).not.toThrow();
    },
  );

  it('native: store-assigned seq, version and recordedAt are dropped; unknown keys are kept in meta.extra', () => {
    const [first] = records('native.jsonl');
    const e = mapNative({ ...first!, region: 'eu' });
    expect(e).not.toHaveProperty('seq');
    expect(e).not.toHaveProperty('version');
    expect(e).not.toHaveProperty('recordedAt');
    expect(e).toMatchObject({
      stream: 'Order-17',
      type: 'OrderPlaced',
      tenant: 'acme',
      tags: ['eu'],
      schemaVersion: 2,
    });
    expect(e.meta).toEqual({ ip: '10.0.0.1', extra: { region: 'eu' } });
    expect(mapNative({ stream: 's', type: 't', meta: { extra: 1 }, x: 2 }).meta).toEqual({
      extra: 1,
      _extra: { x: 2 },
    });
  });

  it('cloudevents: subject is the stream, else source; attributes and extensions are kept in meta', () => {
    const [placed, captured, image] = records('cloudevents.jsonl').map(mapCloudEvent);
    expect(placed).toMatchObject({ id: 'ce-1', stream: 'Order-17', type: 'com.example.order.placed' });
    expect(placed).toMatchObject({ correlationId: 'corr-1', actor: 'user-1', tenant: 'acme' });
    expect(placed!.meta).toEqual({
      specversion: '1.0',
      source: '/shop/orders',
      datacontenttype: 'application/json',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(captured).toMatchObject({ stream: '/shop/payments', time: '2024-05-01T08:05:00.000Z' });
    expect(captured!.correlationId).toBe('4bf92f3577b34da6a3ce929d0e0e4736'); // traceparent's trace id
    expect(image!.data).toEqual({ base64: 'iVBORw0KGgo=' });
    expect(image!.meta).toMatchObject({ datacontenttype: 'image/png', region: 'eu-west-1' });
    const nested = mapCloudEvent({
      specversion: '1.0',
      id: 'x',
      source: 's',
      type: 't',
      extensions: { causationid: 'c' },
    });
    expect(nested.causationId).toBe('c');
    expect(
      failure(() => mapCloudEvent({ specversion: '0.3', id: 'x', source: 's', type: 't' }), 'INVALID_EVENT'),
    ).toMatch(/specversion/);
  });

  it('snake: aggregate type qualifies the stream, versions go to meta, JSON text columns are parsed', () => {
    const [placed, paid, third] = records('snake.jsonl').map(mapSnake);
    expect(placed).toMatchObject({ stream: 'Order-17', actor: 'user-1', correlationId: 'corr-1' });
    expect(placed!.time).toBe('2024-05-01T10:00:00.123Z'); // SQL-style "…10:00:00.123+00"
    expect(paid).toMatchObject({
      data: { amount: 42 },
      tenant: 'acme',
      actor: 'user-2',
      time: '2024-05-01T10:05:00.000Z',
    });
    expect(paid!.causationId).toBe('5b1c7a6e-0000-4000-8000-000000000001'); // from the metadata text
    expect(paid!.meta).toMatchObject({ aggregateVersion: 2 });
    expect(third!.stream).toBe('Order-18'); // already qualified: not "Order-Order-18"
    expect(third!.meta).toEqual({ aggregateVersion: 1, extra: { position: 991 } });
  });

  it('camel: streams are derived from stream fields, metadata, then payload ids named by the event type', () => {
    expect(records('camel.jsonl').map((r) => mapCamel(r).stream)).toEqual([
      'Order-17',
      'Payment-p-5',
      'Shipment-3',
      'InventoryRecounted',
    ]);
    const derive = (rec: JsonRecord, type: string) => deriveCamelStream(rec, rec.metadata, rec.payload, type);
    expect(derive({ streamId: 'S-1', aggregateId: 'A' }, 'X')).toBe('S-1');
    expect(derive({ aggregateId: '9', aggregateType: 'Cart' }, 'X')).toBe('Cart-9');
    expect(derive({ metadata: { aggregateId: '9' } }, 'X')).toBe('9');
    expect(derive({ payload: { shoppingCartId: 'c1', itemId: 'i1' } }, 'ShoppingCartItemAdded')).toBe(
      'ShoppingCart-c1',
    );
    expect(derive({ payload: { orderId: 5, itemId: 3 } }, 'ORDER_ITEM_ADDED')).toBe('Order-5');
    expect(derive({ payload: { invoiceId: 'inv-7', amount: 1 } }, 'PaymentFailed')).toBe('Invoice-inv-7'); // the only id
    expect(derive({ payload: { aId: 1, bId: 2 } }, 'SomethingHappened')).toBe('SomethingHappened'); // ambiguous
  });

  it('a record without a type or stream is rejected with INVALID_EVENT naming the field', () => {
    expect(failure(() => mapCamel({ eventId: 'x', payload: {} }), 'INVALID_EVENT')).toMatch(
      /eventType \(→ type\): missing/,
    );
    expect(failure(() => mapSnake({ event_type: 'T' }), 'INVALID_EVENT')).toMatch(
      /aggregate_id \(→ stream\)/,
    );
    expect(failure(() => mapNative({ stream: 's', type: '' }), 'INVALID_EVENT')).toMatch(/field type/);
    expect(failure(() => mapCamel({ eventType: 'T', timestamp: 'soon' }), 'INVALID_EVENT')).toMatch(
      /timestamp \(→ time\).*not an ISO-8601/,
    );
  });

  it('qualifyStream prefixes an entity name unless the id already carries it', () => {
    expect(qualifyStream('Order', '17')).toBe('Order-17');
    expect(qualifyStream('Order', 'order:17')).toBe('order:17');
    expect(qualifyStream('Order', 'Orders-17')).toBe('Order-Orders-17');
  });
});

describe('times', () => {
  it.each([
    ['2024-05-01T10:00:00Z', '2024-05-01T10:00:00.000Z'],
    ['2024-02-29T23:59:59.999Z', '2024-02-29T23:59:59.999Z'],
    ['2024-05-01T12:00:00.5+02:00', '2024-05-01T10:00:00.500Z'],
    ['2024-05-01 10:00:00.123456+00', '2024-05-01T10:00:00.123Z'],
    ['2024-05-01 15:30:00+0530', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01T10:00:00', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01', '2024-05-01T00:00:00.000Z'],
    [1714557600000, '2024-05-01T10:00:00.000Z'],
    [1714557600, '2024-05-01T10:00:00.000Z'],
    ['1714557600', '2024-05-01T10:00:00.000Z'],
    [1714557600.25, '2024-05-01T10:00:00.250Z'],
  ])('%j is read as %s', (input, expected) => {
    expect(toIsoTime(input)).toBe(expected);
  });

  it.each([
    ['yesterday'],
    ['2024-02-30T00:00:00Z'],
    ['2023-02-29T00:00:00.000Z'],
    ['2024-04-31T00:00:00.000Z'],
    [true],
    [null],
    [1e20],
    ['2024-13-01'],
  ])('%j is not a time', (v) => {
    expect(failure(() => toIsoTime(v, 'created_at'), 'INVALID_EVENT')).toMatch(/^field created_at: /);
  });

  it('numbers below 1e11 are epoch seconds, others epoch milliseconds (property)', () => {
    const ms = fc.integer({ min: 1e11, max: Date.UTC(9999, 0) });
    fc.assert(fc.property(ms, (n) => Date.parse(toIsoTime(n)) === n && isIsoTime(toIsoTime(n))));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e11 - 1 }), (s) => Date.parse(toIsoTime(s)) === s * 1000),
    );
  });
});

describe('field mappings', () => {
  it('maps dotted paths and templates; data defaults to the whole record', () => {
    const map = compileMapping({
      type: 'kind',
      stream: '{entity.type}-{entity.id}',
      time: 'ts',
      actor: 'by',
    });
    const [rec] = records('mapping.jsonl');
    const e = map(rec!);
    expect(e).toEqual({
      type: 'order-placed',
      stream: 'Order-17',
      time: '2024-05-01T10:00:00.000Z',
      actor: 'user-1',
      data: rec,
    });
    expect(
      compileMapping({ type: 'kind', stream: 'entity.id', data: 'body', tags: 'kind' })(rec!),
    ).toMatchObject({
      stream: '17',
      data: { total: 42 },
      tags: ['order-placed'],
    });
    expect(compileMapping({ type: 'a.0.t', stream: '$.a.0.s' })({ a: [{ t: 'T', s: 'S' }] })).toMatchObject({
      type: 'T',
      stream: 'S',
    });
  });

  it('a record missing a mapped type or stream names the mapping path', () => {
    const map = compileMapping({ type: 'kind', stream: 'Order-{entity.id}' });
    expect(failure(() => map({ kind: 'k' }), 'INVALID_EVENT')).toBe(
      'field stream (from "Order-{entity.id}"): missing',
    );
    expect(failure(() => map({ entity: { id: 1 } }), 'INVALID_EVENT')).toMatch(/field type \(from "kind"\)/);
  });

  it.each([
    [{ stream: 'x' }, 'mapping.type: is required'],
    [{ type: 'a', stream: 'b', kind: 'c' }, 'mapping.kind: not an event field'],
    [{ type: 'a b', stream: 'b' }, 'mapping.type: must be a dotted path'],
    [{ type: 't', stream: 'Order-{id' }, 'mapping.stream: must be a dotted path'],
    [{ type: 't', stream: 's', time: '{ts}' }, 'mapping.time: must be a dotted path'],
    [{ type: 5, stream: 's' }, 'mapping.type: Invalid input'],
    ['kind', 'mapping: must be an object'],
  ])('a bad mapping %j names the key and why', (mapping, message) => {
    expect(failure(() => parseFieldMapping(mapping), 'INVALID_ARGUMENT')).toContain(message);
    expect(() => mapperFor('mapping', mapping)).toThrow(ChronoscopeError);
  });

  it("format 'mapping' without a mapping is an INVALID_ARGUMENT", () => {
    expect(failure(() => mapperFor('mapping'), 'INVALID_ARGUMENT')).toMatch(/needs a field mapping/);
  });
});

describe('format detection', () => {
  it.each([
    ['native.jsonl', 'native'],
    ['cloudevents.jsonl', 'cloudevents'],
    ['snake.jsonl', 'snake'],
    ['camel.jsonl', 'camel'],
  ])('%s is detected as %s', async (file, format) => {
    const d = await detectFileFormat(join(FIXTURES, file));
    expect(d).toMatchObject({ format, confidence: 1 });
    expect(d!.reason).toMatch(new RegExp(`^${format}: \\d+ of \\d+ sampled records`));
  });

  it('camelCase envelope is detected automatically even with some odd lines in the sample', async () => {
    const d = await detectFileFormat(join(FIXTURES, 'mixed-bad.jsonl'));
    expect(d).toMatchObject({ format: 'camel', confidence: 0.75 }); // 3 of 4 objects have eventType
  });

  it('the majority wins, and the reason mentions the runner-up', () => {
    const d = detectFormat([
      { eventType: 'A', payload: {} },
      { eventType: 'B', payload: {} },
      { stream: 's', type: 't' },
    ]);
    expect(d.format).toBe('camel');
    expect(d.reason).toContain('1 also match native');
  });

  it('an unknown shape fails with the keys it saw, and an explicit format overrides detection', async () => {
    const msg = failure(() => detectFormat([{ kind: 'x', ts: 1 }]), 'INVALID_ARGUMENT');
    expect(msg).toContain('keys seen: kind, ts');
    expect(await resolveFormat(join(FIXTURES, 'camel.jsonl'), 'native')).toMatchObject({
      format: 'native',
      confidence: 1,
    });
  });
});
