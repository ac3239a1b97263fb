import type { Running } from '../state/useTimeTravel';

/** A running job: what it does, how far it got (when it knows), and a way to stop it. */
export function JobProgress({ job }: { job: Running }) {
  const pct = job.total > 0 ? Math.min(100, Math.round((job.done / job.total) * 100)) : null;
  return (
    <div className="job" role="status" data-testid="job-progress">
      <span className="job-label">
        {job.label}
        {pct !== null ? ` — ${pct}%` : '…'}
      </span>
      <span className="job-bar" aria-hidden="true">
        <span
          className={pct === null ? 'job-fill indeterminate' : 'job-fill'}
          style={{ width: `${pct ?? 30}%` }}
        />
      </span>
      <button type="button" onClick={job.cancel}>
        Cancel
      </button>
    </div>
  );
}
