import { useEffect, useState } from 'react';
import { formatCount } from '../format';
import { rowAt } from '../state/rows';
import { useBrowser } from '../state/useBrowser';
import { useTimeTravel } from '../state/useTimeTravel';
import { BisectDialog } from './BisectDialog';
import { DiffView } from './DiffView';
import { JobProgress } from './JobProgress';
import { JsonTree } from './JsonTree';
import { ReplayPanel } from './ReplayPanel';
import { Scrubber } from './Scrubber';

const describe = (p: { seq: number; version?: number }) =>
  p.seq === 0 ? 'the start' : `#${p.seq}${p.version !== undefined ? ` (v${p.version})` : ''}`;

/** Time travel beside the list: scrubber, the state tree at the cursor, pins and their diff, bisect. */
export function TimeTravelPanel() {
  const tt = useTimeTravel();
  const rows = useBrowser((s) => s.rows);
  const selected = useBrowser((s) => s.selected);
  const [streamField, setStreamField] = useState(tt.stream ?? '');
  const [projectionField, setProjectionField] = useState(tt.projection);

  // The cursor follows the list's selection (and catches up when the selected row's page arrives).
  useEffect(() => {
    const e = rowAt(rows, selected);
    if (e) useTimeTravel.getState().moveTo(e);
  }, [rows, selected]);
  useEffect(() => setStreamField(tt.stream ?? ''), [tt.stream]);

  const s = tt.state;
  return (
    <aside className="detail timetravel" aria-label="Time travel" data-testid="timetravel">
      <div className="detail-head">
        <div>
          <div className="detail-type">Time travel</div>
          <div className="detail-sub">
            {tt.stream !== null ? `stream ${tt.stream}` : 'the whole log'} — state after the cursor's event
          </div>
        </div>
        <button type="button" className="link close" aria-label="Close time travel" onClick={tt.hide}>
          ×
        </button>
      </div>
      <form
        className="tt-scope"
        onSubmit={(e) => {
          e.preventDefault();
          if (projectionField.trim() !== tt.projection) tt.setProjection(projectionField.trim());
          tt.setStream(streamField.trim() || null);
        }}
      >
        <label>
          Stream{' '}
          <input
            value={streamField}
            placeholder="(global)"
            aria-label="Stream to fold"
            onChange={(e) => setStreamField(e.target.value)}
          />
        </label>
        <label>
          Projection{' '}
          <input
            value={projectionField}
            placeholder="(generic reducer) or /path/to/projection.ts"
            aria-label="Projection module"
            onChange={(e) => setProjectionField(e.target.value)}
          />
        </label>
        <button type="submit">Fold</button>
        <button type="button" onClick={() => tt.setStream(null)} disabled={tt.stream === null}>
          Global
        </button>
        <button type="button" onClick={() => tt.openBisect(true)}>
          Bisect…
        </button>
      </form>
      <Scrubber />
      {tt.folding && <JobProgress job={tt.folding} />}
      {s && (
        <div className="tt-meta" data-testid="state-meta">
          {s.projection} · state at {describe(s.position)} · {formatCount(s.folded)} events folded
          {s.fromSnapshot !== undefined ? ` from the snapshot at #${s.fromSnapshot}` : ' from the start'}
        </div>
      )}
      <div className="tt-pins">
        <button type="button" disabled={!s} onClick={() => tt.pin('a')}>
          Pin A{tt.pins.a ? ` = ${describe(tt.pins.a)}` : ''}
        </button>
        <button type="button" disabled={!s} onClick={() => tt.pin('b')}>
          Pin B{tt.pins.b ? ` = ${describe(tt.pins.b)}` : ''}
        </button>
        {(tt.pins.a || tt.pins.b) && (
          <button type="button" className="link" onClick={tt.clearPins}>
            clear
          </button>
        )}
      </div>
      {tt.diff && (
        <section className="tt-section">
          <h3>
            Diff {describe(tt.diff.from)} → {describe(tt.diff.to)} ({tt.diff.entries.length} changes)
          </h3>
          <DiffView entries={tt.diff.entries} label="Diff between pins" />
        </section>
      )}
      {tt.changed.length > 0 && (
        <section className="tt-section">
          <h3>What this event changed</h3>
          <DiffView entries={tt.changed} label="Changed by this event" />
        </section>
      )}
      {s && (
        <section className="tt-section">
          <h3>State</h3>
          <JsonTree value={s.state} changed={tt.changed} label="State tree" />
        </section>
      )}
      <ReplayPanel />
      {tt.bisect.open && <BisectDialog />}
    </aside>
  );
}
