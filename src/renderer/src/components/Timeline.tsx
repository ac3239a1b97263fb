import type { Histogram } from '@shared/storeTypes';
import { useEffect, useState } from 'react';
import { api } from '../api/client';
import { useBrowser } from '../state/useBrowser';

const BUCKETS = 90;
const HEIGHT = 56;

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19);

/**
 * The timeline of the current filter: matching events per time bucket, bursts in the warning
 * colour. Clicking a bar zooms the filter to that bucket's time range (the URL keeps it, so Back
 * zooms out again).
 */
export function Timeline() {
  const engineFilter = useBrowser((s) => s.engineFilter);
  const generation = useBrowser((s) => s.generation);
  const filterError = useBrowser((s) => s.filterError);
  const setFilter = useBrowser((s) => s.setFilter);
  const report = useBrowser((s) => s.report);
  const [hist, setHist] = useState<Histogram | null>(null);

  useEffect(() => {
    if (filterError) return;
    let live = true;
    api
      .call('histogram', { filter: engineFilter, buckets: BUCKETS })
      .then((h) => live && setHist(h))
      .catch((err) => live && report(err));
    return () => {
      live = false;
    };
  }, [engineFilter, generation, filterError, report]);

  if (!hist || hist.total === 0) return <div className="timeline timeline-none" data-testid="timeline" />;
  const max = Math.max(...hist.counts);
  const from = Date.parse(hist.from);
  const bursts = new Set(hist.bursts);
  const w = 100 / hist.counts.length;
  return (
    <div className="timeline" data-testid="timeline">
      <svg viewBox={`0 0 100 ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label="events over time">
        {hist.counts.map((c, i) => {
          const h = c === 0 ? 0 : Math.max(1, (c / max) * (HEIGHT - 2));
          const start = from + i * hist.bucketMs;
          return (
            <rect
              key={i}
              x={i * w}
              y={HEIGHT - h}
              width={Math.max(w - 0.15, 0.05)}
              height={h}
              className={bursts.has(i) ? 'bar burst' : 'bar'}
              data-testid={bursts.has(i) ? 'burst' : undefined}
              onClick={() => setFilter({ since: iso(start), until: iso(start + hist.bucketMs) })}
            >
              <title>{`${iso(start).replace('T', ' ')} — ${c} events${bursts.has(i) ? ' (burst)' : ''}`}</title>
            </rect>
          );
        })}
      </svg>
      <div className="timeline-axis">
        <span>{hist.from.slice(0, 16).replace('T', ' ')}</span>
        <span>
          {hist.total.toLocaleString()} events · {formatWidth(hist.bucketMs)} per bar · click a bar to zoom
        </span>
        <span>{hist.to.slice(0, 16).replace('T', ' ')}</span>
      </div>
    </div>
  );
}

function formatWidth(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
