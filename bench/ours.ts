import { FileStore } from '../src/main/engine/file/FileStore';
import type { EventFilter } from '../src/shared/query';
import { duBytes, type PageQuery, type Subject } from './subject';
import type { BenchEvent } from './workload';

/** The engine filter for one page kind: the same question every baseline answers. */
export function filterFor(q: PageQuery): EventFilter {
  switch (q.kind) {
    case 'type':
      return { types: [q.type] };
    case 'actor':
      return { actor: q.actor };
    case 'correlation':
      return { correlationId: q.correlationId };
    case 'time':
      return { since: q.since, until: q.until };
    case 'type-tenant':
      return { types: [q.type], tenant: q.tenant };
  }
}

/** Chronoscope's file backend (default options) as a benchmark subject. */
export class OursSubject implements Subject {
  readonly name = 'ours' as const;
  private constructor(
    readonly dir: string,
    readonly store: FileStore,
  ) {}

  /** Opens (creating) a file store in `dir`. */
  static async open(dir: string): Promise<OursSubject> {
    return new OursSubject(dir, await FileStore.open(dir));
  }

  async append(batch: BenchEvent[]): Promise<void> {
    await this.store.append(batch);
  }
  async settle(): Promise<void> {
    await this.store.flushSeals();
  }
  async getById(id: string): Promise<number> {
    return (await this.store.getEvent(id)) ? 1 : 0;
  }
  async readStream(stream: string): Promise<number> {
    return (await this.store.readStream(stream)).length;
  }
  async page(q: PageQuery): Promise<number> {
    return (await this.store.query(filterFor(q), { limit: 100 })).events.length;
  }
  async search(word: string, limit?: number): Promise<number> {
    if (limit !== undefined) return (await this.store.query({ search: word }, { limit })).events.length;
    let n = 0;
    let cursor: string | undefined;
    do {
      const page = await this.store.query({ search: word }, { limit: 10_000, cursor });
      n += page.events.length;
      cursor = page.nextCursor;
    } while (cursor);
    return n;
  }
  async diskBytes(): Promise<number> {
    return duBytes(this.dir);
  }
  async close(): Promise<void> {
    await this.store.close();
  }
}
