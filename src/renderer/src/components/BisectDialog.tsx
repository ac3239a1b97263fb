import { formatTime } from '../format';
import { useBrowser } from '../state/useBrowser';
import { useTimeTravel, type BisectScope } from '../state/useTimeTravel';
import { DiffView } from './DiffView';
import { JobProgress } from './JobProgress';

const SCOPES: { value: BisectScope; label: string }[] = [
  { value: 'streams', label: 'any stream matching' },
  { value: 'stream', label: 'this stream' },
  { value: 'global', label: 'the global state' },
];

/**
 * Bisect: the first position where a condition on the state holds (`total < 0`,
 * `$counts.RefundIssued > 1`, `exists(coupon)`), run as a cancellable job; shows the event that
 * flipped it and the change it caused, and jumps there.
 */
export function BisectDialog() {
  const { bisect, stream, editBisect, runBisect, openBisect } = useTimeTravel();
  const r = bisect.result;
  const goTo = () => {
    if (!r?.event) return;
    const b = useBrowser.getState();
    b.setFilter({ stream: r.event.stream }, true);
    b.openDetail(r.event);
    const tt = useTimeTravel.getState();
    tt.openBisect(false);
    tt.setStream(r.event.stream);
    tt.moveTo(r.event);
  };
  return (
    <div className="dialog-backdrop" role="presentation" onClick={() => openBisect(false)}>
      <div
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-label="Bisect"
        data-testid="bisect-dialog"
        onClick={(e) => e.stopPropagation()}
      >
        <h2>Bisect: where did it first go wrong?</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void runBisect();
          }}
        >
          <label>
            Condition on the state{' '}
            <input
              autoFocus
              value={bisect.where}
              placeholder="total < 0"
              aria-label="Condition"
              onChange={(e) => editBisect({ where: e.target.value })}
            />
          </label>
          <fieldset>
            <legend>over</legend>
            {SCOPES.map((o) => (
              <label key={o.value}>
                <input
                  type="radio"
                  name="bisect-scope"
                  value={o.value}
                  checked={bisect.scope === o.value}
                  disabled={o.value === 'stream' && stream === null}
                  onChange={() => editBisect({ scope: o.value })}
                />{' '}
                {o.value === 'stream' ? `${o.label}${stream ? ` (${stream})` : ''}` : o.label}
              </label>
            ))}
            {bisect.scope === 'streams' && (
              <input
                value={bisect.pattern}
                placeholder="Order-*"
                aria-label="Stream pattern"
                onChange={(e) => editBisect({ pattern: e.target.value })}
              />
            )}
          </fieldset>
          <label className="inline">
            <input
              type="checkbox"
              checked={bisect.js}
              onChange={(e) => editBisect({ js: e.target.checked })}
            />{' '}
            a JS expression over <code>state</code> (e.g.{' '}
            <code>state.total &lt; 0 &amp;&amp; !state.coupon</code>)
          </label>
          {!bisect.js && (
            <p className="hint">
              Conditions: <code>total &lt; 0</code>, <code>status == &quot;paid&quot;</code>,{' '}
              <code>$counts.RefundIssued &gt; 1</code>, <code>exists(coupon)</code>, joined with{' '}
              <code>&amp;&amp;</code>.
            </p>
          )}
          <div className="dialog-actions">
            <button type="submit" disabled={bisect.running !== null}>
              Run bisect
            </button>
            <button type="button" onClick={() => openBisect(false)}>
              Close
            </button>
          </div>
        </form>
        {bisect.running && <JobProgress job={bisect.running} />}
        {bisect.error && (
          <div className="bisect-error" role="alert">
            {bisect.error}
          </div>
        )}
        {r && (
          <div className="bisect-result" data-testid="bisect-result">
            {r.found && r.event ? (
              <>
                <p>
                  <strong>{r.where}</strong> first holds after{' '}
                  <strong data-testid="bisect-event">
                    #{r.event.seq} {r.event.type}
                  </strong>{' '}
                  on <strong data-testid="bisect-stream">{r.event.stream}</strong> v{r.event.version} at{' '}
                  {formatTime(r.event.time)}
                </p>
                <p className="detail-sub" data-testid="bisect-id">
                  event {r.event.id}
                </p>
                <DiffView entries={r.diff} label="The change it caused" />
                <button type="button" onClick={goTo}>
                  Go to this event
                </button>
              </>
            ) : r.found ? (
              <p>The condition already holds before any event.</p>
            ) : (
              <p>No position satisfies the condition.</p>
            )}
            <p className="detail-sub">
              {r.folds} fold{r.folds === 1 ? '' : 's'}, {r.applied.toLocaleString('en-US')} events applied
            </p>
            {r.notes.map((n) => (
              <p key={n} className="hint">
                {n}
              </p>
            ))}
          </div>
        )}
      </div>
    </div>
  );
}
