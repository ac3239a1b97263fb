import type { StoredEvent } from '@shared/event';
import { memo, type CSSProperties } from 'react';
import { formatTime } from '../format';
import type { UiFilter } from '../state/uiFilter';

interface Props {
  index: number;
  event: StoredEvent | undefined;
  selected: boolean;
  /** Offset from the top of the list and row height: numbers, so memo skips rows that did not move. */
  top: number;
  height: number;
  onSelect(index: number): void;
  onFilter(next: Partial<UiFilter>): void;
}

/** A value the user can click to filter on it; the click does not also select the row. */
function Chip({ value, onClick }: { value: string | undefined; onClick(): void }) {
  if (!value) return <span className="cell muted">—</span>;
  return (
    <span className="cell">
      <button
        type="button"
        className="chip"
        title={`Filter on ${value}`}
        tabIndex={-1}
        onClick={(e) => {
          e.stopPropagation();
          onClick();
        }}
      >
        {value}
      </button>
    </span>
  );
}

/** One event in the list; event fields are rendered as text only (content is data, never markup). */
export const EventRow = memo(function EventRow({
  index,
  event,
  selected,
  top,
  height,
  onSelect,
  onFilter,
}: Props) {
  const style: CSSProperties = {
    position: 'absolute',
    top: 0,
    left: 0,
    right: 0,
    height,
    transform: `translateY(${top}px)`,
  };
  if (!event)
    return (
      <div className="row placeholder" style={style} aria-busy="true">
        <span className="cell seq">…</span>
      </div>
    );
  return (
    <div
      className={selected ? 'row selected' : 'row'}
      style={style}
      role="row"
      aria-selected={selected}
      data-seq={event.seq}
      onClick={() => onSelect(index)}
    >
      <span className="cell seq">{event.seq}</span>
      <span className="cell time">{formatTime(event.time)}</span>
      <Chip value={event.type} onClick={() => onFilter({ type: event.type })} />
      <Chip value={event.stream} onClick={() => onFilter({ stream: event.stream })} />
      <Chip value={event.actor} onClick={() => onFilter({ actor: event.actor ?? '' })} />
      <Chip value={event.tenant} onClick={() => onFilter({ tenant: event.tenant })} />
    </div>
  );
});
