import { useEffect, useState, type FormEvent } from 'react';
import { useBrowser } from '../state/useBrowser';
import { EMPTY_FILTER, type UiFilter } from '../state/uiFilter';

interface Field {
  key: keyof UiFilter;
  label: string;
  placeholder: string;
  wide?: boolean;
  type?: string;
}

const FIELDS: Field[] = [
  { key: 'q', label: 'Search', placeholder: 'text in data  ( / )', wide: true },
  { key: 'type', label: 'Type', placeholder: 'OrderPlaced, OrderPaid' },
  { key: 'stream', label: 'Stream', placeholder: 'Order-17 or Order-*' },
  { key: 'tenant', label: 'Tenant', placeholder: 'tenant' },
  { key: 'actor', label: 'Actor', placeholder: 'actor' },
  { key: 'correlation', label: 'Correlation', placeholder: 'correlation id' },
  { key: 'tag', label: 'Tags', placeholder: 'tag, tag' },
  { key: 'since', label: 'Since (UTC)', placeholder: '2024-01-01T00:00' },
  { key: 'until', label: 'Until (UTC)', placeholder: '2024-02-01T00:00' },
  { key: 'where', label: 'JSON predicate', placeholder: 'total gt 100', wide: true },
];

/** Every engine filter as a field; Enter applies them all, and the applied filter goes to the URL. */
export function FilterBar() {
  const applied = useBrowser((s) => s.filter);
  const setFilter = useBrowser((s) => s.setFilter);
  const liveTail = useBrowser((s) => s.liveTail);
  const setLiveTail = useBrowser((s) => s.setLiveTail);
  const rows = useBrowser((s) => s.rows);
  const [draft, setDraft] = useState<UiFilter>(applied);

  useEffect(() => setDraft(applied), [applied]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFilter(draft, true);
  };
  const active = Object.values(applied).some((v) => v.trim() !== '');

  return (
    <form className="filters" onSubmit={submit} role="search" aria-label="Filter events">
      <div className="filter-fields">
        {FIELDS.map((f) => (
          <label key={f.key} className={f.wide ? 'field wide' : 'field'}>
            <span>{f.label}</span>
            <input
              id={`filter-${f.key}`}
              name={f.key}
              type="text"
              autoComplete="off"
              spellCheck={false}
              placeholder={f.placeholder}
              value={draft[f.key]}
              onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}
            />
          </label>
        ))}
      </div>
      <div className="filter-actions">
        <button type="submit" className="primary">
          Apply
        </button>
        <button type="button" disabled={!active} onClick={() => setFilter(EMPTY_FILTER, true)}>
          Clear
        </button>
        <label className="toggle" title="Follow new events as they are appended">
          <input type="checkbox" checked={liveTail} onChange={(e) => setLiveTail(e.target.checked)} />
          <span>Live tail</span>
        </label>
        <span className="row-info" data-testid="row-info">
          {rows.mode === 'dense'
            ? `${rows.rowCount.toLocaleString('en-US')} events`
            : `${rows.rowCount.toLocaleString('en-US')}${rows.hasMore ? '+' : ''} matching`}
        </span>
      </div>
    </form>
  );
}
