import { useState } from 'react';
import { formatBytes, formatCount, formatTime } from '../format';
import { HealthDialog } from './HealthDialog';
import { useBrowser } from '../state/useBrowser';
import { useSources } from '../state/useSources';
import { useTimeTravel } from '../state/useTimeTravel';

/** What store this is and how big: events, streams, storage, newest event. */
export function StatsHeader() {
  const stats = useBrowser((s) => s.stats);
  const travelling = useTimeTravel((s) => s.open);
  const [health, setHealth] = useState(false);
  const storage = stats
    ? stats.storage.activeSegmentBytes + stats.storage.sealedSegmentBytes + stats.storage.indexBytes
    : 0;
  return (
    <header className="header">
      <div className="brand">
        <span className="logo" aria-hidden="true">
          ◴
        </span>
        Chronoscope
      </div>
      {stats && (
        <dl className="stats" data-testid="stats">
          <div>
            <dt>store</dt>
            <dd title={stats.path}>
              {stats.backend}
              {stats.readOnly ? ' · read-only' : ''}
              {stats.path ? ` · ${stats.path.split(/[\\/]/).filter(Boolean).slice(-2).join('/')}` : ''}
            </dd>
          </div>
          <div>
            <dt>events</dt>
            <dd data-testid="stat-events">{formatCount(stats.events)}</dd>
          </div>
          <div>
            <dt>streams</dt>
            <dd>{formatCount(stats.streams)}</dd>
          </div>
          <div>
            <dt>storage</dt>
            <dd>{formatBytes(storage)}</dd>
          </div>
          <div>
            <dt>latest</dt>
            <dd>{formatTime(stats.lastTime) || '—'}</dd>
          </div>
        </dl>
      )}
      <div className="header-actions">
        <button type="button" className="header-action" onClick={() => setHealth(true)}>
          Health
        </button>
        {health && <HealthDialog onClose={() => setHealth(false)} />}
        <button type="button" className="header-action" onClick={() => useSources.getState().show(true)}>
          Stores &amp; sources…
        </button>
        <button
          type="button"
          className={travelling ? 'header-action active' : 'header-action'}
          aria-pressed={travelling}
          title="State at any position, diffs and bisect (t)"
          onClick={() => {
            const tt = useTimeTravel.getState();
            if (tt.open) tt.hide();
            else tt.show(useBrowser.getState().detail?.stream ?? null);
          }}
        >
          ◷ Time travel
        </button>
      </div>
    </header>
  );
}
