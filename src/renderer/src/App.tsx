import { useEffect } from 'react';
import { DetailPane } from './components/DetailPane';
import { ErrorBanner } from './components/ErrorBanner';
import { EventList } from './components/EventList';
import { FilterBar } from './components/FilterBar';
import { SourcesDialog } from './components/SourcesDialog';
import { StatsHeader } from './components/StatsHeader';
import { TimeTravelPanel } from './components/TimeTravelPanel';
import { Timeline } from './components/Timeline';
import { useKeyboard } from './components/useKeyboard';
import { useBrowser } from './state/useBrowser';
import { useSources } from './state/useSources';
import { useTimeTravel } from './state/useTimeTravel';

const STATS_REFRESH_MS = 10_000;

/** The event browser: header, filter bar, the windowed list and the detail or time-travel pane. */
export function App() {
  const detailOpen = useBrowser((s) => s.detail !== null);
  const timeTravel = useTimeTravel((s) => s.open);
  const sources = useSources((s) => s.open);
  useKeyboard();

  useEffect(() => {
    const s = useBrowser.getState();
    void s.init();
    const onPop = () => useBrowser.getState().reloadFromUrl();
    window.addEventListener('popstate', onPop);
    const timer = setInterval(() => void useBrowser.getState().refreshStats(), STATS_REFRESH_MS);
    return () => {
      window.removeEventListener('popstate', onPop);
      clearInterval(timer);
    };
  }, []);

  return (
    <div className="app">
      <StatsHeader />
      <FilterBar />
      <Timeline />
      <ErrorBanner />
      <main className={detailOpen || timeTravel ? 'content with-detail' : 'content'}>
        <EventList />
        {timeTravel ? <TimeTravelPanel /> : detailOpen && <DetailPane />}
      </main>
      {sources && <SourcesDialog />}
    </div>
  );
}
