import { describe, expect, it } from 'vitest';
import {
  EMPTY_FILTER,
  filterFromSearch,
  parseWhere,
  searchFromFilter,
  toEngineFilter,
} from '../../src/renderer/src/state/uiFilter';
import { appendLive, PAGE, rowAt, type RowSource } from '../../src/renderer/src/state/rows';
import { parseFilter } from '../../src/shared/query';
import type { StoredEvent } from '../../src/shared/event';

const ev = (seq: number): StoredEvent => ({
  seq,
  id: `e${seq}`,
  stream: 's',
  version: seq,
  type: 't',
  time: '2024-01-01T00:00:00.000Z',
  recordedAt: '2024-01-01T00:00:00.000Z',
  tenant: 'default',
  data: null,
});

describe('filter bar ↔ URL ↔ engine filter', () => {
  it('round-trips every field through the query string', () => {
    const f = { ...EMPTY_FILTER, type: 'A,B', stream: 'Order-*', where: 'total gt 100', q: 'berlin' };
    const search = searchFromFilter(f);
    expect(search).toBe('?type=A%2CB&stream=Order-*&where=total+gt+100&q=berlin');
    expect(filterFromSearch(search)).toEqual(f);
    expect(searchFromFilter(EMPTY_FILTER)).toBe('');
  });

  it('builds an engine filter the engine accepts', () => {
    const f = toEngineFilter({
      ...EMPTY_FILTER,
      type: 'A, B',
      stream: 'Order-*',
      tag: 'vip,eu',
      correlation: 'c-1',
      since: '2024-01-01T00:00',
      where: 'status = "paid"',
    });
    expect(f).toEqual({
      types: ['A', 'B'],
      streamPrefix: 'Order-',
      tags: ['vip', 'eu'],
      correlationId: 'c-1',
      since: '2024-01-01T00:00Z',
      where: [{ on: 'data', path: 'status', op: 'eq', value: 'paid' }],
    });
    expect(() => parseFilter(f)).not.toThrow();
  });

  it('reads JSON predicates in words or symbols and explains a bad one', () => {
    expect(parseWhere('total >= 10')).toEqual({ on: 'data', path: 'total', op: 'gte', value: 10 });
    expect(parseWhere('meta:source exists')).toEqual({ on: 'meta', path: 'source', op: 'exists' });
    expect(parseWhere('city eq Berlin')).toMatchObject({ value: 'Berlin' });
    expect(() => parseWhere('total like 3')).toThrow(/unknown operator/);
    expect(() => parseWhere('total gt')).toThrow(/needs a value/);
    expect(() => toEngineFilter({ ...EMPTY_FILTER, since: 'soon' })).toThrow(/since/);
  });
});

describe('windowed rows', () => {
  it('appends live events to the loaded tail page and counts them', () => {
    const src: RowSource = {
      mode: 'dense',
      firstSeq: 1,
      rowCount: 3,
      hasMore: false,
      pages: new Map([[0, [ev(1), ev(2), ev(3)]]]),
      cursors: [],
    };
    const next = appendLive(src, [ev(4), ev(5)]);
    expect(next.rowCount).toBe(5);
    expect(rowAt(next, 4)?.seq).toBe(5);
  });

  it('leaves a cursor view alone while more rows remain to page through', () => {
    const src: RowSource = {
      mode: 'cursor',
      firstSeq: 1,
      rowCount: PAGE,
      hasMore: true,
      pages: new Map(),
      cursors: [],
    };
    expect(appendLive(src, [ev(999)])).toBe(src);
  });
});
