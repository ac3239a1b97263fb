import type { ApiChain } from '@shared/api';
import type { StoredEvent } from '@shared/event';
import { formatTime } from '../format';
import { useBrowser } from '../state/useBrowser';

function ChainItem({ event, current }: { event: StoredEvent; current: boolean }) {
  const openDetail = useBrowser((s) => s.openDetail);
  return (
    <li className={current ? 'chain-item current' : 'chain-item'}>
      <button type="button" className="link" onClick={() => openDetail(event)} disabled={current}>
        <span className="chain-seq">#{event.seq}</span>
        <span className="chain-type">{event.type}</span>
        <span className="chain-stream">{event.stream}</span>
        <span className="chain-time">{formatTime(event.time)}</span>
      </button>
    </li>
  );
}

/** Causes (nearest first), everything in the same correlation (by seq), and direct effects. */
export function ChainView({ chain }: { chain: ApiChain }) {
  const id = chain.event.id;
  return (
    <div className="chain" data-testid="chain">
      <h3>Caused by</h3>
      {chain.ancestors.length === 0 && !chain.missingCause && <p className="muted">no recorded cause</p>}
      <ol>
        {chain.ancestors.map((e) => (
          <ChainItem key={e.id} event={e} current={false} />
        ))}
      </ol>
      {chain.missingCause && <p className="muted">cause {chain.missingCause} is not in this store</p>}
      <h3>
        Correlation {chain.event.correlationId ? <code>{chain.event.correlationId}</code> : null}
        {chain.truncated ? ' (first events only)' : ''}
      </h3>
      {chain.correlated.length === 0 && <p className="muted">no correlation id</p>}
      <ol>
        {chain.correlated.map((e) => (
          <ChainItem key={e.id} event={e} current={e.id === id} />
        ))}
      </ol>
      {chain.children.length > 0 && (
        <>
          <h3>Caused</h3>
          <ol>
            {chain.children.map((e) => (
              <ChainItem key={e.id} event={e} current={false} />
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
