import type { ApiChain } from '../../shared/api';
import type { StoredEvent } from '../../shared/event';
import type { EventStore } from '../engine/types';

/** How far up the causation tree we walk before assuming a cycle or a pathological log. */
const MAX_DEPTH = 256;

/** Builds the correlation/causation chain around one event from the store's own indexes. */
export async function buildChain(store: EventStore, event: StoredEvent, limit: number): Promise<ApiChain> {
  let correlated: StoredEvent[] = [];
  let truncated = false;
  if (event.correlationId !== undefined) {
    const page = await store.query({ correlationId: event.correlationId }, { order: 'asc', limit });
    correlated = page.events;
    truncated = page.nextCursor !== undefined && page.events.length >= limit;
  }
  const ancestors: StoredEvent[] = [];
  const seen = new Set([event.id]);
  let missingCause: string | undefined;
  let cause = event.causationId;
  while (cause !== undefined && ancestors.length < MAX_DEPTH && !seen.has(cause)) {
    seen.add(cause);
    const parent = await store.getEvent(cause);
    if (!parent) {
      missingCause = cause;
      break;
    }
    ancestors.push(parent);
    cause = parent.causationId;
  }
  const children = (await store.query({ causationId: event.id }, { order: 'asc', limit })).events;
  const chain: ApiChain = { event, correlated, truncated, ancestors, children };
  if (missingCause !== undefined) chain.missingCause = missingCause;
  return chain;
}
