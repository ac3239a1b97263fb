import type { StoredEvent } from '../../src/shared/event';
import type { EventStore } from '../../src/main/engine/types';

/** The whole log in seq order, page by page (following seqs, so recorded gaps after a repair are fine). */
export async function readEverything(
  store: Pick<EventStore, 'readAll'>,
  pageSize = 1000,
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let from = 1; ;) {
    const page = await store.readAll(from, pageSize);
    out.push(...page);
    if (page.length < pageSize) return out;
    from = page[page.length - 1]!.seq + 1;
  }
}
