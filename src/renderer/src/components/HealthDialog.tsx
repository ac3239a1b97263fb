import type { ApiHealth, ApiMetrics } from '@shared/api';
import { useEffect, useState } from 'react';
import { api, describeError } from '../api/client';
import { formatBytes, formatCount } from '../format';

const REFRESH_MS = 2000;
const BAR_W = 220;

/** One operation's latency as three bars (p50 / p95 / p99) on a shared log scale, so 0.1 ms and 100 ms both read. */
function LatencyRow({ op, l, maxMs }: { op: string; l: ApiMetrics['latency'][string]; maxMs: number }) {
  const scale = (ms: number) => (Math.log10(1 + ms * 100) / Math.log10(1 + maxMs * 100)) * BAR_W;
  const bars: [string, number][] = [
    ['p50', l.p50],
    ['p95', l.p95],
    ['p99', l.p99],
  ];
  return (
    <tr>
      <td className="h-op">{op}</td>
      <td>
        <svg width={BAR_W} height={24} role="img" aria-label={`${op} latency`}>
          {bars.map(([name, ms], i) => (
            <rect
              key={name}
              className={`lat lat-${name}`}
              x={0}
              y={i * 8}
              width={Math.max(1, scale(ms))}
              height={6}
            >
              <title>{`${name} ${ms.toFixed(3)} ms`}</title>
            </rect>
          ))}
        </svg>
      </td>
      <td className="h-num">{l.p50.toFixed(2)}</td>
      <td className="h-num">{l.p95.toFixed(2)}</td>
      <td className="h-num">{l.p99.toFixed(2)}</td>
      <td className="h-num">{formatCount(l.count)}</td>
    </tr>
  );
}

/** Storage by tier as one stacked bar: hot (memory), active segment, sealed segments, index. */
function StorageBar({ storage }: { storage: ApiMetrics['storage'] }) {
  const parts: [string, number, string][] = [
    ['hot tier (memory)', storage.hotBytes, 'st-hot'],
    ['active segment', storage.activeSegmentBytes, 'st-active'],
    [`sealed (${storage.sealedSegments} segments)`, storage.sealedSegmentBytes, 'st-sealed'],
    ['index', storage.indexBytes, 'st-index'],
  ];
  const total = parts.reduce((t, p) => t + p[1], 0) || 1;
  let x = 0;
  return (
    <div>
      <svg
        width="100%"
        height={16}
        viewBox="0 0 100 4"
        preserveAspectRatio="none"
        role="img"
        aria-label="storage by tier"
      >
        {parts.map(([name, bytes, cls]) => {
          const w = (bytes / total) * 100;
          const r = <rect key={name} className={cls} x={x} y={0} width={w} height={4} />;
          x += w;
          return r;
        })}
      </svg>
      <ul className="legend">
        {parts.map(([name, bytes, cls]) => (
          <li key={name}>
            <span className={`swatch ${cls}`} /> {name}: {formatBytes(bytes)}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Health: status and problems, latency percentiles per operation, index use, storage by tier; refreshed live. */
export function HealthDialog({ onClose }: { onClose(): void }) {
  const [metrics, setMetrics] = useState<ApiMetrics | null>(null);
  const [health, setHealth] = useState<ApiHealth | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const load = async () => {
      try {
        const [m, h] = await Promise.all([api.call('metrics', {}), api.call('health', {})]);
        if (!live) return;
        setMetrics(m);
        setHealth(h);
        setError(null);
      } catch (err) {
        if (live) setError(describeError(err));
      }
    };
    void load();
    const t = setInterval(() => void load(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, []);
  const ops = metrics ? Object.entries(metrics.latency).filter(([, l]) => l.count > 0) : [];
  const maxMs = Math.max(1, ...ops.map(([, l]) => l.p99));
  const counters = metrics ? Object.entries(metrics.counters).filter(([, n]) => n > 0) : [];
  return (
    <div className="dialog-backdrop" role="presentation" onClick={onClose}>
      <div
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-label="Health"
        data-testid="health"
        onClick={(e) => e.stopPropagation()}
      >
        <h2>
          Health{' '}
          {health && (
            <span className={`status status-${health.status}`} data-testid="health-status">
              {health.status}
            </span>
          )}
        </h2>
        {error && <div className="bisect-error">{error}</div>}
        {health && (
          <p className="hint">
            {health.backend} backend{health.readOnly ? ', read-only' : ''} · last seq{' '}
            {formatCount(health.lastSeq)} · seal backlog {health.sealBacklog}
            {health.problems.map((p) => (
              <span key={p} className="bisect-error">
                {' '}
                · {p}
              </span>
            ))}
          </p>
        )}
        {metrics && (
          <>
            <h3>Storage by tier</h3>
            <StorageBar storage={metrics.storage} />
            <h3>Latency (ms, since the store was opened)</h3>
            <table className="health-table">
              <thead>
                <tr>
                  <th>operation</th>
                  <th>p50 / p95 / p99</th>
                  <th>p50</th>
                  <th>p95</th>
                  <th>p99</th>
                  <th>calls</th>
                </tr>
              </thead>
              <tbody>
                {ops.map(([op, l]) => (
                  <LatencyRow key={op} op={op} l={l} maxMs={maxMs} />
                ))}
              </tbody>
            </table>
            {counters.length > 0 && (
              <>
                <h3>Index use and counters</h3>
                <ul className="counters">
                  {counters.map(([k, n]) => (
                    <li key={k}>
                      <span className="h-op">{k}</span> {formatCount(n)}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
