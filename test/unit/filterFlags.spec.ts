import { describe, expect, it } from 'vitest';
import { filterFromFlags, parseTimeFlag, parseWhere } from '../../src/main/cli/filterFlags';

describe('CLI filter flags', () => {
  it('--where understands every operator, meta paths and JSON values', () => {
    expect(parseWhere('total<0')).toEqual({ on: 'data', path: 'total', op: 'lt', value: 0 });
    expect(parseWhere('data.total>=10.5')).toEqual({ on: 'data', path: 'total', op: 'gte', value: 10.5 });
    expect(parseWhere('status=paid')).toEqual({ on: 'data', path: 'status', op: 'eq', value: 'paid' });
    expect(parseWhere('status!="paid"')).toEqual({ on: 'data', path: 'status', op: 'ne', value: 'paid' });
    expect(parseWhere('meta.source=api')).toEqual({ on: 'meta', path: 'source', op: 'eq', value: 'api' });
    expect(parseWhere('note~gift')).toEqual({ on: 'data', path: 'note', op: 'contains', value: 'gift' });
    expect(parseWhere('sku^=SKU-')).toEqual({ on: 'data', path: 'sku', op: 'prefix', value: 'SKU-' });
    expect(parseWhere('coupon?')).toEqual({ on: 'data', path: 'coupon', op: 'exists' });
    expect(parseWhere('!coupon?')).toEqual({ on: 'data', path: 'coupon', op: 'missing' });
    expect(parseWhere('status in ["a","b"]')).toEqual({
      on: 'data',
      path: 'status',
      op: 'in',
      value: ['a', 'b'],
    });
    expect(parseWhere('items.0.qty<=2')).toEqual({ on: 'data', path: 'items.0.qty', op: 'lte', value: 2 });
    expect(parseWhere('url=http://x?a=b')).toMatchObject({ path: 'url', op: 'eq', value: 'http://x?a=b' });
  });

  it('--where without an operator is refused with a hint', () => {
    expect(() => parseWhere('total')).toThrow(/expected path=value/);
  });

  it('--since accepts ISO times and durations ago', () => {
    const now = Date.parse('2026-01-10T00:00:00Z');
    expect(parseTimeFlag('2h', '--since', now)).toBe('2026-01-09T22:00:00.000Z');
    expect(parseTimeFlag('3d', '--since', now)).toBe('2026-01-07T00:00:00.000Z');
    expect(parseTimeFlag('2026-01-01T05:00:00+01:00', '--since', now)).toBe('2026-01-01T04:00:00.000Z');
    expect(() => parseTimeFlag('soon', '--since', now)).toThrow(/--since "soon"/);
  });

  it('flags become one EventFilter; a trailing * on --stream means a prefix', () => {
    expect(
      filterFromFlags({
        type: ['A,B', 'C'],
        stream: 'Order-*',
        tenant: 't',
        tag: ['x', 'y'],
        fromSeq: '5',
        where: ['n=1'],
        search: 'hi',
      }),
    ).toEqual({
      types: ['A', 'B', 'C'],
      streamPrefix: 'Order-',
      tenant: 't',
      tags: ['x', 'y'],
      fromSeq: 5,
      where: [{ on: 'data', path: 'n', op: 'eq', value: 1 }],
      search: 'hi',
    });
    expect(() => filterFromFlags({ fromSeq: '-1' })).toThrow(/--from-seq/);
  });
});
