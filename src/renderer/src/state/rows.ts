import type { StoredEvent } from '@shared/event';

/** Rows per fetched page: small enough to arrive fast, big enough that scrolling rarely waits. */
export const PAGE = 200;
/** Loaded pages kept when scrolling far through a big store; the rest are dropped and refetched. */
export const MAX_PAGES = 60;

/**
 * How rows map onto the store. `dense`: no filter and seqs without gaps, so row i is seq firstSeq+i and
 * any page can be fetched directly (the scrollbar spans every event). `cursor`: a filter is set, so
 * pages are read in order by cursor and the list grows as the user scrolls toward its end.
 */
export interface RowSource {
  mode: 'dense' | 'cursor';
  firstSeq: number;
  /** Known rows: every event (dense) or those reached so far (cursor). */
  rowCount: number;
  /** Cursor mode: more rows follow the known ones. */
  hasMore: boolean;
  pages: ReadonlyMap<number, StoredEvent[]>;
  /** Cursor mode: the cursor that loads page k (page 0 needs none). Kept when a page is evicted. */
  cursors: (string | undefined)[];
}

export function rowAt(src: RowSource, index: number): StoredEvent | undefined {
  return src.pages.get(Math.floor(index / PAGE))?.[index % PAGE];
}

/** Whether page k can be requested now (cursor mode needs the previous page's cursor). */
export function canLoad(src: RowSource, k: number): boolean {
  if (src.mode === 'dense') return k * PAGE < src.rowCount;
  return k === 0 || src.cursors[k] !== undefined;
}

/** Keeps the pages nearest to the visible one, dropping the rest once over budget. */
export function evict(pages: Map<number, StoredEvent[]>, around: number): void {
  if (pages.size <= MAX_PAGES) return;
  const far = [...pages.keys()].sort((a, b) => Math.abs(b - around) - Math.abs(a - around));
  for (const k of far.slice(0, pages.size - MAX_PAGES)) pages.delete(k);
}

/** Adds live events at the end when they belong there; returns the new source (or the same one). */
export function appendLive(src: RowSource, events: StoredEvent[]): RowSource {
  if (src.mode === 'cursor' && src.hasMore) return src; // the user will reach them by paging
  const pages = new Map(src.pages);
  let rowCount = src.rowCount;
  for (const e of events) {
    const index = src.mode === 'dense' ? e.seq - src.firstSeq : rowCount;
    if (index < rowCount && src.mode === 'dense') continue; // already counted
    const k = Math.floor(index / PAGE);
    const page = pages.get(k);
    if (page && page.length === index % PAGE) pages.set(k, [...page, e]);
    else if (!page && index % PAGE === 0 && (k === 0 || pages.has(k - 1))) pages.set(k, [e]);
    else pages.delete(k); // a gap: refetch this page when it is shown
    rowCount = Math.max(rowCount, index + 1);
  }
  return { ...src, pages, rowCount };
}
