import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NaiveSubject } from '../baselines/naive';
import { pgMissing } from '../baselines/pgServer';
import { PostgresSubject } from '../baselines/postgres';
import { SqliteRowsSubject } from '../baselines/sqliteRows';
import type { RunContext } from '../context';
import { OursSubject } from '../ours';
import { errorCell, valueOf } from '../rows';
import { summarise } from '../stats';
import type { Subject, SubjectName } from '../subject';

/** Opens a fresh subject in its own temp dir; postgres starts a real server. */
async function create(ctx: RunContext, name: SubjectName): Promise<Subject> {
  const dir = join(ctx.tmp, name);
  mkdirSync(dir, { recursive: true });
  switch (name) {
    case 'ours':
      return OursSubject.open(dir);
    case 'naive':
      return new NaiveSubject(dir);
    case 'sqlite-rows':
      return new SqliteRowsSubject(dir);
    case 'postgres':
      return PostgresSubject.start();
  }
}

/** Appends the whole workload in batches of 1,000, timing only the append calls (generation excluded). */
async function ingest(ctx: RunContext, s: Subject): Promise<Record<string, unknown> & { rate: number }> {
  const lat: number[] = [];
  let ms = 0;
  let done = 0;
  const n = ctx.workload.shape.events;
  let nextLog = n / 10;
  for (const batch of ctx.workload.batches(1000)) {
    const t0 = performance.now();
    await s.append(batch);
    const d = performance.now() - t0;
    ms += d;
    lat.push(d);
    done += batch.length;
    if (done >= nextLog) {
      ctx.log(`ingest ${s.name}: ${done}/${n} (${Math.round(done / (ms / 1000))} ev/s)`);
      nextLog += n / 10;
    }
  }
  const t0 = performance.now();
  await s.settle();
  const settleMs = performance.now() - t0;
  const b = summarise(lat);
  return { rate: n / (ms / 1000), appendMs: Math.round(ms), batchP50: b.p50, batchP99: b.p99, settleMs };
}

/**
 * Creates ours and every selected baseline and fills each with the workload, recording the ingest
 * row. Subjects that fail to start or ingest are dropped with an error cell; the run continues.
 */
export async function ingestAll(
  ctx: RunContext,
  withBaselines: boolean,
  /** Runs right after each subject's ingest (its reads), before the next subject exists. */
  afterEach: (s: Subject) => Promise<void> = async () => {},
): Promise<void> {
  const names: SubjectName[] = ['ours'];
  if (withBaselines) {
    if (ctx.opts.baselines.has('naive')) names.push('naive');
    if (ctx.opts.baselines.has('sqlite-rows')) names.push('sqlite-rows');
    if (ctx.opts.baselines.has('postgres')) {
      const missing = pgMissing();
      if (missing) ctx.unavailable.set('postgres', missing);
      else names.push('postgres');
    }
  }
  for (const name of names) {
    let s: Subject | undefined;
    try {
      ctx.log(`ingest ${name}: starting`);
      s = await create(ctx, name);
      if (s instanceof PostgresSubject) ctx.info.postgres = await pgInfo(s);
      const r = await ingest(ctx, s);
      const { rate, ...details } = r;
      ctx.table.set('ingest', name, { value: rate, details });
      ctx.subjects.push(s);
    } catch (err) {
      ctx.log(`ingest ${name}: failed: ${(err as Error).message}`);
      ctx.table.set('ingest', name, errorCell(err));
      ctx.unavailable.set(name, `ingest failed: ${(err as Error).message.slice(0, 120)}`);
      await s?.close().catch(() => {});
      continue;
    }
    // Its writes reach the disk, then it is read alone: no other subject's server, write-back or
    // background work runs during its measurements (PostgreSQL's, started later, used to).
    spawnSync('sync');
    await afterEach(s!);
  }
  const ceiling = ctx.limits?.jsonEventsPerSec;
  if (ceiling) {
    for (const name of names) {
      const v = valueOf(ctx.table.get('ingest', name));
      if (v !== undefined) ctx.table.set('ingest-vs-ceiling', name, { value: (100 * v) / ceiling });
    }
    ctx.table.set('ingest', 'limit', {
      value: ceiling,
      details: { what: 'JSON.stringify + JSON.parse alone' },
    });
  }
}

async function pgInfo(s: PostgresSubject): Promise<Record<string, unknown>> {
  return { version: await s.server.version(), port: s.server.port, dataDir: s.server.dataDir, started: true };
}
