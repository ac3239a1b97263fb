import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchEvent } from './workload';

/** A page of up to 100 events by one of the filter kinds the issue names. */
export type PageQuery =
  | { kind: 'type'; type: string }
  | { kind: 'actor'; actor: string }
  | { kind: 'correlation'; correlationId: string }
  | { kind: 'time'; since: string; until: string }
  | { kind: 'type-tenant'; type: string; tenant: string };

export type SubjectName = 'ours' | 'naive' | 'sqlite-rows' | 'postgres';

/**
 * What every system under test does with the same events: ours and each baseline implement it, so
 * one metric loop measures them all the same way. Reads return how many events came back.
 */
export interface Subject {
  readonly name: SubjectName;
  /** Appends one batch; resolves once it is durable and queryable. */
  append(batch: BenchEvent[]): Promise<void>;
  /** Background work after the last append (sealing, ANALYZE); timed and reported separately. */
  settle(): Promise<void>;
  getById(id: string): Promise<number>;
  readStream(stream: string): Promise<number>;
  page(q: PageQuery): Promise<number>;
  /** The first `limit` events whose payload contains `word` (case-insensitive), or all of them. */
  search(word: string, limit?: number): Promise<number>;
  /** Bytes on disk for everything this subject keeps (data and indexes). */
  diskBytes(): Promise<number>;
  close(): Promise<void>;
}

/** Disk usage like `du`: allocated blocks of every file below `path`. */
export function duBytes(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.blocks * 512;
  let n = st.blocks * 512;
  for (const name of readdirSync(path)) n += duBytes(join(path, name));
  return n;
}
