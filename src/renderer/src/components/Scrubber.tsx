import { formatTime } from '../format';
import { useBrowser } from '../state/useBrowser';
import { useTimeTravel } from '../state/useTimeTravel';

/**
 * The time-travel cursor: a slider over the rows of the event list (the same rows, the same
 * selection), with step buttons. Moving it selects the row; selecting a row moves it.
 */
export function Scrubber() {
  const rows = useBrowser((s) => s.rows);
  const selected = useBrowser((s) => s.selected);
  const select = useBrowser((s) => s.select);
  const cursor = useTimeTravel((s) => s.cursor);
  const max = Math.max(0, rows.rowCount - 1);
  const more = rows.mode === 'cursor' && rows.hasMore;
  return (
    <div className="scrubber">
      <button
        type="button"
        aria-label="Step back (k)"
        disabled={selected <= 0}
        onClick={() => select(selected - 1)}
      >
        ◀
      </button>
      <input
        type="range"
        min={0}
        max={max}
        value={Math.max(0, selected)}
        aria-label="Position in the event list"
        data-testid="scrubber"
        onChange={(e) => select(Number(e.target.value))}
      />
      <button
        type="button"
        aria-label="Step forward (j)"
        disabled={selected >= max}
        onClick={() => select(selected + 1)}
      >
        ▶
      </button>
      <span className="scrubber-label" data-testid="cursor">
        {cursor
          ? `after #${cursor.seq} ${cursor.type} · ${cursor.stream} v${cursor.version} · ${formatTime(cursor.time)}`
          : 'at the head (select an event to move back in time)'}
        {more ? ' · scroll the list to reach later rows' : ''}
      </span>
    </div>
  );
}
