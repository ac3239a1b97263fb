import { useState } from 'react';
import { formatTime } from '../format';
import { useBrowser } from '../state/useBrowser';
import { useTimeTravel } from '../state/useTimeTravel';
import { ChainView } from './ChainView';

/** The selected event as pretty JSON text, with copy, chain and quick filters. Never rendered as markup. */
export function DetailPane() {
  const event = useBrowser((s) => s.detail);
  const chain = useBrowser((s) => s.chain);
  const chainLoading = useBrowser((s) => s.chainLoading);
  const { closeDetail, showChain, setFilter, report } = useBrowser.getState();
  const [copied, setCopied] = useState(false);
  if (!event) return null;
  const json = JSON.stringify(event, null, 2);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(json);
      setCopied(true);
      setTimeout(() => setCopied(false), 1200);
    } catch (err) {
      report(new Error(`could not copy to the clipboard: ${(err as Error).message}`));
    }
  };

  return (
    <aside className="detail" aria-label="Event detail" data-testid="detail">
      <div className="detail-head">
        <div>
          <div className="detail-type">{event.type}</div>
          <div className="detail-sub">
            #{event.seq} · {event.stream} v{event.version} · {formatTime(event.time)}
          </div>
        </div>
        <button type="button" className="link close" aria-label="Close detail (Esc)" onClick={closeDetail}>
          ×
        </button>
      </div>
      <div className="detail-actions">
        <button type="button" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy JSON'}
        </button>
        <button type="button" disabled={chainLoading} onClick={() => void showChain()}>
          {chainLoading ? 'Loading chain…' : 'Show chain'}
        </button>
        {event.correlationId && (
          <button type="button" onClick={() => setFilter({ correlation: event.correlationId }, true)}>
            Filter correlation
          </button>
        )}
        <button type="button" onClick={() => setFilter({ stream: event.stream }, true)}>
          Stream history
        </button>
        <button type="button" onClick={() => useTimeTravel.getState().show(event.stream)}>
          State here
        </button>
      </div>
      {chain && chain.event.id === event.id && <ChainView chain={chain} />}
      <pre className="json" data-testid="detail-json">
        {json}
      </pre>
    </aside>
  );
}
