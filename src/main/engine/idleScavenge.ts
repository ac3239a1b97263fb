import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Young-generation collections at idle moments. V8 collects the young generation when an
 * allocation finds it full, which happens while a batch is being appended, so the batch in flight
 * (~1 KB of objects an event) is copied and often promoted, and that append waits 4–20 ms. Collected
 * between batches instead, only what the caller still holds is alive, and no append waits.
 * Chrome does the same with its idle-time tasks; Node has no such scheduler, so the store asks for
 * the collection itself when its append queue runs empty.
 */

type GcFn = (options: { type: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

/**
 * Collect once the young generation's allocation space is at least this full. Half: sooner would
 * copy the caller's next batch (often already built) more often for nothing; later leaves too
 * little room for the next batch, whose allocations would then trigger the collection after all.
 */
export const FILL_TO_COLLECT = 0.5;

let gc: GcFn | null | undefined;

function gcFunction(): GcFn | null {
  if (gc === undefined) {
    try {
      // The flag installs `gc` in contexts created after it; this process's own globals are untouched.
      setFlagsFromString('--expose-gc');
      const f = runInNewContext('gc') as unknown;
      gc = typeof f === 'function' ? (f as GcFn) : null;
    } catch {
      gc = null;
    }
  }
  return gc;
}

let scheduled = false;

/**
 * Schedules a young-generation collection for after the current callbacks, if by then `stillIdle()`
 * holds and the young generation is full enough to be worth it. Cheap when there is nothing to do.
 */
export function scheduleIdleScavenge(stillIdle: () => boolean): void {
  if (scheduled) return;
  const collect = gcFunction();
  if (!collect) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    if (!stillIdle()) return;
    const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    // space_size counts both semi-spaces; what allocation can use is used + available.
    const usable = young ? young.space_used_size + young.space_available_size : 0;
    if (!young || young.space_used_size < usable * FILL_TO_COLLECT) return;
    collect({ type: 'minor' });
  });
}
