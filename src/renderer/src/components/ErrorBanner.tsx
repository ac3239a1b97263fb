import { useBrowser } from '../state/useBrowser';

/** Errors as readable sentences the user can dismiss; the rest of the UI keeps working. */
export function ErrorBanner() {
  const errors = useBrowser((s) => s.errors);
  const filterError = useBrowser((s) => s.filterError);
  const dismiss = useBrowser((s) => s.dismiss);
  if (errors.length === 0 && !filterError) return null;
  return (
    <div className="banners">
      {filterError && (
        <div className="banner warn" role="alert">
          <span>{filterError}</span>
        </div>
      )}
      {errors.map((n) => (
        <div className="banner" role="alert" key={n.id}>
          <span>{n.message}</span>
          <button type="button" className="link" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
