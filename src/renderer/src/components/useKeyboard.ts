import { useEffect } from 'react';
import { useBrowser } from '../state/useBrowser';
import { useSources } from '../state/useSources';
import { useTimeTravel } from '../state/useTimeTravel';

const isTyping = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);

/** j/k move, / searches, Enter opens the detail, t toggles time travel, Esc closes (or leaves a field). */
export function useKeyboard(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const s = useBrowser.getState();
      if (isTyping(e.target)) {
        if (e.key === 'Escape') (e.target as HTMLElement).blur();
        return;
      }
      switch (e.key) {
        case 'j':
        case 'ArrowDown':
          e.preventDefault();
          s.select(s.selected + 1);
          break;
        case 'k':
        case 'ArrowUp':
          e.preventDefault();
          s.select(s.selected < 0 ? 0 : s.selected - 1);
          break;
        case '/':
          e.preventDefault();
          document.getElementById('filter-q')?.focus();
          break;
        case 'Enter':
          if (e.target instanceof HTMLButtonElement) return;
          e.preventDefault();
          s.openDetail();
          break;
        case 't': {
          e.preventDefault();
          const tt = useTimeTravel.getState();
          if (tt.open) tt.hide();
          else tt.show(s.detail?.stream ?? null);
          break;
        }
        case 'Escape': {
          const tt = useTimeTravel.getState();
          if (useSources.getState().open) useSources.getState().show(false);
          else if (tt.bisect.open) tt.openBisect(false);
          else if (tt.open) tt.hide();
          else s.closeDetail();
          break;
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
