import { formatCount } from '../format';
import { useReplay } from '../state/useReplay';
import { JobProgress } from './JobProgress';
import { JsonTree } from './JsonTree';

/**
 * Replay through your own module (a projection `init`/`apply`, or a handler `handle`): over the
 * list's filter, at a speed, with a breakpoint (JS over the event `e`), pause / step / back, and
 * errors answered with retry (after fixing the file: it reloads), skip or abort.
 */
export function ReplayPanel() {
  const s = useReplay();
  const r = s.replay;
  const act = (a: Parameters<typeof s.control>[0]) => () => void s.control(a);
  return (
    <section className="tt-section" aria-label="Replay" data-testid="replay">
      <h3>Replay through your module</h3>
      <form
        className="replay-form"
        onSubmit={(e) => {
          e.preventDefault();
          void s.start(false);
        }}
      >
        <input
          value={s.module}
          placeholder="/path/to/projection.ts"
          aria-label="Module path"
          onChange={(e) => s.edit({ module: e.target.value })}
        />
        <input
          value={s.breakAt}
          placeholder="break when… e.type === 'RefundIssued'"
          aria-label="Breakpoint"
          onChange={(e) => s.edit({ breakAt: e.target.value })}
        />
        <input
          className="narrow"
          value={s.speed}
          placeholder="ev/s"
          aria-label="Speed"
          onChange={(e) => s.edit({ speed: e.target.value })}
        />
        <label>
          <input
            type="checkbox"
            checked={s.useFilter}
            onChange={(e) => s.edit({ useFilter: e.target.checked })}
          />{' '}
          the list's filter
        </label>
        <button type="submit" disabled={!s.module.trim() || s.busy}>
          Run
        </button>
        <button type="button" disabled={!s.module.trim() || s.busy} onClick={() => void s.start(true)}>
          Start paused
        </button>
      </form>
      {s.error && (
        <div className="bisect-error" role="alert">
          {s.error}
        </div>
      )}
      {r && (
        <div data-testid="replay-session">
          <div className="tt-meta" data-testid="replay-status">
            {r.status} · {formatCount(r.processed)} events · at #{r.position} of #{r.from}–#{r.to} · {r.kind}{' '}
            {r.file.split(/[\\/]/).pop()} ({r.codeHash.slice(0, 8)})
          </div>
          {r.status === 'running' && (
            <JobProgress job={{ label: 'replaying', done: r.fraction, total: 1, cancel: act('abort') }} />
          )}
          <div className="tt-pins">
            {r.status === 'running' && (
              <button type="button" onClick={act('pause')}>
                Pause
              </button>
            )}
            {r.status === 'paused' && (
              <>
                <button type="button" onClick={act('resume')}>
                  Resume
                </button>
                <button type="button" onClick={act('step')} disabled={s.busy}>
                  Step
                </button>
                <button type="button" onClick={act('back')} disabled={s.busy || r.processed === 0}>
                  Back
                </button>
              </>
            )}
            {r.status === 'error' && (
              <>
                <button type="button" onClick={act('retry')}>
                  Retry
                </button>
                <button type="button" onClick={act('skip')}>
                  Skip
                </button>
              </>
            )}
            {['running', 'paused', 'error'].includes(r.status) && (
              <button type="button" onClick={act('abort')}>
                Abort
              </button>
            )}
            {['done', 'aborted'].includes(r.status) && (
              <button type="button" className="link" onClick={act('close')}>
                close
              </button>
            )}
          </div>
          {r.paused?.next && (
            <div className="tt-meta" data-testid="replay-next">
              {r.paused.reason === 'breakpoint' ? 'breakpoint: ' : 'next: '}#{r.paused.next.seq}{' '}
              {r.paused.next.type} · {r.paused.next.stream}
            </div>
          )}
          {r.failure && (
            <div className="replay-failure" role="alert" data-testid="replay-failure">
              <div className="bisect-error">
                {r.failure.message} (attempt {r.failure.attempt})
              </div>
              {r.failure.stack && <pre className="json">{r.failure.stack}</pre>}
            </div>
          )}
          {r.result && (
            <div className="tt-meta" data-testid="replay-result">
              {r.result.status}
              {r.result.skipped.length ? ` · skipped ${r.result.skipped.map((q) => `#${q}`).join(', ')}` : ''}
              {r.result.notes.map((n) => ` · ${n}`).join('')}
            </div>
          )}
          {r.error && <div className="bisect-error">{r.error}</div>}
          {r.kind === 'projection' && <JsonTree value={r.state} label="Replay state" />}
          {r.log.length > 0 && <pre className="json replay-log">{r.log.join('\n')}</pre>}
        </div>
      )}
    </section>
  );
}
