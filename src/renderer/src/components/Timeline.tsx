import type { Histogram } from '@shared/storeTypes';
import { useEffect, useRef, useState, type PointerEvent } from 'react';
import { api } from '../api/client';
import { useBrowser } from '../state/useBrowser';
import { useTimeTravel } from '../state/useTimeTravel';

const BUCKETS = 90;
const HEIGHT = 56;

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19);

/** A drag shorter than this (fraction of the width) is a click on a bar, not a brush. */
const MIN_BRUSH = 0.006;

/**
 * The timeline of the current filter: matching events per time bucket, bursts in the warning
 * colour. Dragging across it (a brush) zooms the filter to that time range; clicking a bar zooms
 * to its bucket (the URL keeps it, so Back zooms out again). With time travel open, a line marks
 * the cursor's time.
 */
export function Timeline() {
  const engineFilter = useBrowser((s) => s.engineFilter);
  const generation = useBrowser((s) => s.generation);
  const filterError = useBrowser((s) => s.filterError);
  const setFilter = useBrowser((s) => s.setFilter);
  const report = useBrowser((s) => s.report);
  const [hist, setHist] = useState<Histogram | null>(null);
  const [brush, setBrush] = useState<{ from: number; to: number } | null>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const cursor = useTimeTravel((s) => (s.open ? s.cursor : null));

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
  const span = hist.counts.length * hist.bucketMs;
  const fraction = (e: PointerEvent) => {
    const r = svgRef.current!.getBoundingClientRect();
    return Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
  };
  const onDown = (e: PointerEvent<SVGSVGElement>) => {
    if (e.button !== 0) return;
    const f = fraction(e);
    setBrush({ from: f, to: f });
    e.currentTarget.setPointerCapture(e.pointerId);
  };
  const onMove = (e: PointerEvent<SVGSVGElement>) => {
    if (brush) setBrush({ ...brush, to: fraction(e) });
  };
  const onUp = (e: PointerEvent<SVGSVGElement>) => {
    if (!brush) return;
    const lo = Math.min(brush.from, fraction(e));
    const hi = Math.max(brush.from, fraction(e));
    setBrush(null);
    if (hi - lo < MIN_BRUSH) {
      // A click (the pointer is captured, so bars never see it): zoom to the bucket under it.
      const i = Math.min(hist.counts.length - 1, Math.floor(hi * hist.counts.length));
      if (hist.counts[i] === 0) return;
      const start = from + i * hist.bucketMs;
      return setFilter({ since: iso(start), until: iso(start + hist.bucketMs) });
    }
    setFilter({ since: iso(from + lo * span), until: iso(from + hi * span) });
  };
  const cursorAt = cursor ? (Date.parse(cursor.time) - from) / span : -1;
  return (
    <div className="timeline" data-testid="timeline">
      <svg
        ref={svgRef}
        viewBox={`0 0 100 ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label="events over time"
        onPointerDown={onDown}
        onPointerMove={onMove}
        onPointerUp={onUp}
        onPointerCancel={() => setBrush(null)}
      >
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
            >
              <title>{`${iso(start).replace('T', ' ')} — ${c} events${bursts.has(i) ? ' (burst)' : ''}`}</title>
            </rect>
          );
        })}
        {brush && Math.abs(brush.to - brush.from) >= MIN_BRUSH && (
          <rect
            className="brush"
            data-testid="brush"
            x={Math.min(brush.from, brush.to) * 100}
            y={0}
            width={Math.abs(brush.to - brush.from) * 100}
            height={HEIGHT}
          />
        )}
        {cursorAt >= 0 && cursorAt <= 1 && (
          <line
            className="cursor-line"
            data-testid="timeline-cursor"
            x1={cursorAt * 100}
            x2={cursorAt * 100}
            y1={0}
            y2={HEIGHT}
          />
        )}
      </svg>
      <div className="timeline-axis">
        <span>{hist.from.slice(0, 16).replace('T', ' ')}</span>
        <span>
          {hist.total.toLocaleString()} events · {formatWidth(hist.bucketMs)} per bar · drag to zoom, click a
          bar for its bucket
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
