import { useState } from 'react';
import { formatCount } from '../format';
import { useSources, type SourceFormat } from '../state/useSources';
import { JobProgress } from './JobProgress';

const FORMATS: SourceFormat[] = ['auto', 'native', 'cloudevents', 'snake', 'camel'];

/**
 * Sources: follow an external JSONL file or folder live (rotation and truncation survive), or
 * import it once; counts per file and every quarantined line with file:line and reason.
 */
export function SourcesDialog() {
  const s = useSources();
  const [dropNote, setDropNote] = useState<string | null>(null);
  const quarantine = s.follows.flatMap((f) => f.quarantine);
  const onDrop = (e: React.DragEvent) => {
    e.preventDefault();
    const file = e.dataTransfer.files[0];
    if (!file) return;
    // Only the desktop app can tell a dropped file's path; a browser page never learns it.
    const path = window.chronoscope?.pathForFile?.(file);
    if (path) s.edit({ path });
    else setDropNote(`a browser does not reveal where ${file.name} is: type its full path instead`);
  };
  return (
    <div className="dialog-backdrop" role="presentation" onClick={() => s.show(false)}>
      <div
        className="dialog sources"
        role="dialog"
        aria-modal="true"
        aria-label="Sources"
        data-testid="sources-dialog"
        onClick={(e) => e.stopPropagation()}
        onDragOver={(e) => e.preventDefault()}
        onDrop={onDrop}
      >
        <h2>Store</h2>
        <form
          className="store-form"
          onSubmit={(e) => {
            e.preventDefault();
            void s.openStore();
          }}
        >
          <input
            value={s.storePath}
            placeholder="/path/to/another/store"
            aria-label="Store folder"
            onChange={(e) => s.editStore({ storePath: e.target.value })}
          />
          <label>
            <input
              type="checkbox"
              checked={s.storeReadOnly}
              onChange={(e) => s.editStore({ storeReadOnly: e.target.checked })}
            />{' '}
            read-only
          </label>
          <button type="submit" disabled={!s.storePath.trim() || s.opening}>
            Open store
          </button>
        </form>
        {s.stores.length > 0 && (
          <ul className="recent-stores" data-testid="recent-stores">
            {s.stores.map((r, i) => (
              <li key={r.path}>
                <code>{r.path}</code>
                {i === 0 ? (
                  <span className="hint"> (open now)</span>
                ) : (
                  <button type="button" className="link" onClick={() => void s.openStore(r.path)}>
                    open
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
        <h2>Sources: follow or import a log</h2>
        <form onSubmit={(e) => e.preventDefault()}>
          <label>
            File or folder{' '}
            <input
              autoFocus
              list="recent-sources"
              value={s.path}
              placeholder="/var/log/myapp/events.jsonl"
              aria-label="Path of a JSONL file or folder"
              onChange={(e) => s.edit({ path: e.target.value })}
            />
          </label>
          <datalist id="recent-sources">
            {s.recent.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
          <label>
            Format{' '}
            <select
              value={s.format}
              aria-label="Format"
              onChange={(e) => s.edit({ format: e.target.value as SourceFormat })}
            >
              {FORMATS.map((f) => (
                <option key={f} value={f}>
                  {f === 'auto' ? 'detect' : f}
                </option>
              ))}
            </select>
          </label>
          <div className="dialog-actions">
            <button type="button" disabled={!s.path.trim()} onClick={() => void s.follow()}>
              Follow live
            </button>
            <button
              type="button"
              disabled={!s.path.trim() || s.importing !== null}
              onClick={() => void s.importOnce()}
            >
              Import once
            </button>
            <button type="button" onClick={() => s.show(false)}>
              Close
            </button>
          </div>
          <p className="hint">
            {dropNote ??
              'Drop a file here (desktop app), or type its absolute path. Followed files survive rotation and truncation.'}
          </p>
        </form>
        {s.importing && <JobProgress job={s.importing} />}
        {s.error && (
          <div className="bisect-error" role="alert">
            {s.error}
          </div>
        )}
        {s.lastImport && (
          <p data-testid="import-summary">
            Imported {formatCount(s.lastImport.imported)} events from {s.lastImport.files.length} file(s):{' '}
            {formatCount(s.lastImport.duplicates)} duplicates, {formatCount(s.lastImport.quarantined)}{' '}
            quarantined.
          </p>
        )}
        {s.follows.length > 0 && (
          <table className="sources-table" data-testid="follows">
            <thead>
              <tr>
                <th>followed file</th>
                <th>lines</th>
                <th>imported</th>
                <th>quarantined</th>
                <th>rotated / truncated</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {s.follows.flatMap((f) =>
                f.files.map((file, i) => (
                  <tr key={`${f.id}-${file.path}`}>
                    <td title={file.path}>
                      {file.path}
                      {file.format ? ` (${file.format})` : ''}
                      {file.error && <div className="bisect-error">{file.error}</div>}
                    </td>
                    <td>{formatCount(file.lines)}</td>
                    <td>{formatCount(file.imported)}</td>
                    <td>{formatCount(file.quarantined)}</td>
                    <td>
                      {file.rotations} / {file.truncations}
                    </td>
                    <td>
                      {i === 0 && (
                        <button type="button" onClick={() => void s.unfollow(f.id)}>
                          Stop
                        </button>
                      )}
                    </td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        )}
        {quarantine.length > 0 && (
          <section data-testid="quarantine">
            <h3>Quarantined lines</h3>
            <ol className="quarantine">
              {quarantine.map((q) => (
                <li key={`${q.file}:${q.line}`}>
                  <span className="q-where">
                    {q.file.split(/[\\/]/).pop()}:{q.line}
                  </span>{' '}
                  <span className="q-reason">{q.reason}</span>
                  <code className="q-raw">{q.raw}</code>
                </li>
              ))}
            </ol>
          </section>
        )}
      </div>
    </div>
  );
}
