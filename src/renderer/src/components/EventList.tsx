import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useRef } from 'react';
import { PAGE, rowAt } from '../state/rows';
import { useBrowser } from '../state/useBrowser';
import type { UiFilter } from '../state/uiFilter';
import { EventRow } from './EventRow';

const ROW_HEIGHT = 28;
/** Rows fetched beyond each edge of the window. */
const READ_AHEAD = PAGE;

/** The windowed list: only visible rows are rendered, and only their pages are fetched (by cursor or seq). */
export function EventList() {
  const rows = useBrowser((s) => s.rows);
  const selected = useBrowser((s) => s.selected);
  const liveTail = useBrowser((s) => s.liveTail);
  const ready = useBrowser((s) => s.ready);
  const loadRange = useBrowser((s) => s.loadRange);
  const setFilter = useBrowser((s) => s.setFilter);
  const scrollRef = useRef<HTMLDivElement>(null);
  const count = rows.rowCount + (rows.mode === 'cursor' && rows.hasMore ? 1 : 0);

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 2,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;

  useEffect(() => {
    // A page either side too: rows scrolled into view are then usually there already, instead of
    // rendering as placeholders and again a moment later when their page arrives.
    if (count > 0) loadRange(Math.max(0, first - READ_AHEAD), Math.min(count - 1, last + READ_AHEAD));
  }, [first, last, count, rows.pages, loadRange]);

  useEffect(() => {
    if (selected >= 0) virtualizer.scrollToIndex(selected, { align: 'auto' });
  }, [selected, virtualizer]);

  useEffect(() => {
    if (liveTail && rows.rowCount > 0) virtualizer.scrollToIndex(rows.rowCount - 1, { align: 'end' });
  }, [liveTail, rows.rowCount, virtualizer]);

  const onSelect = useCallback((i: number) => {
    const s = useBrowser.getState();
    s.select(i);
    s.openDetail();
  }, []);
  const onFilter = useCallback((next: Partial<UiFilter>) => setFilter(next), [setFilter]);

  return (
    <section className="list" aria-label="Events">
      <div className="row head" role="row">
        <span className="cell seq">seq</span>
        <span className="cell">time (UTC)</span>
        <span className="cell">type</span>
        <span className="cell">stream</span>
        <span className="cell">actor</span>
        <span className="cell">tenant</span>
      </div>
      <div className="scroller" ref={scrollRef} data-testid="event-list" role="grid" aria-rowcount={count}>
        {ready && count === 0 && <div className="empty">No events match this filter.</div>}
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((item) => (
            <EventRow
              key={item.index % items.length}
              index={item.index}
              event={rowAt(rows, item.index)}
              selected={item.index === selected}
              onSelect={onSelect}
              onFilter={onFilter}
              top={item.start}
              height={ROW_HEIGHT}
            />
          ))}
        </div>
      </div>
    </section>
  );
}
