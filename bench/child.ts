/**
 * Entry point of the harness's child processes (see spawnChild.ts): each mode measures one thing in
 * a process of its own and prints one JSON line. Usage: child.ts <mode> <json-args>.
 */
import { FileStore } from '../src/main/engine/file/FileStore';
import { importFiles } from '../src/main/engine/ingest/importer';
import { MemoryStore } from '../src/main/engine/memory/MemoryStore';
import { BenchRng } from './rng';
import { runSoak, type SoakArgs } from './soakLoop';
import { Workload, shapeFor } from './workload';

const MB = 1 << 20;
const gc = (globalThis as { gc?: () => void }).gc;
/** Resident set size after a full GC, in MB: what the process really holds. */
function rssMB(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().rss / MB;
}

/** Opens the store, answers the first page of query({}); the in-process time is the open cost. */
async function openFirstPage(a: { dir: string }): Promise<object> {
  const t0 = performance.now();
  const store = await FileStore.open(a.dir);
  const page = await store.query({}, { limit: 100 });
  const ms = performance.now() - t0;
  const report = store.report;
  await store.close();
  return { ms, events: page.events.length, report };
}

/** RSS of a process holding the file store open after a first page and a few hundred random reads. */
async function rssFile(a: { dir: string; events: number; seed: number }): Promise<object> {
  const baseMB = rssMB();
  const store = await FileStore.open(a.dir, { readOnly: false });
  await store.query({}, { limit: 100 });
  const w = new Workload(shapeFor(a.events, a.seed));
  const r = new BenchRng(a.seed + 17);
  for (let i = 0; i < 300; i++) await store.getEvent(w.event(r.below(a.events)).id);
  for (let i = 0; i < 50; i++) await store.readStream(w.streamName(r.below(w.shape.streams)));
  const mb = rssMB();
  const heapMB = process.memoryUsage().heapUsed / MB;
  await store.close();
  return { rssMB: mb, baseMB, heapMB };
}

/** RSS of a process whose MemoryStore holds every event of the workload. */
async function rssMemory(a: { events: number; seed: number }): Promise<object> {
  const baseMB = rssMB();
  const store = new MemoryStore();
  const w = new Workload(shapeFor(a.events, a.seed));
  let n = 0;
  for (const b of w.batches(1000)) {
    await store.append(b);
    n += b.length;
    if (n % 200_000 === 0) process.stderr.write(`[bench child] memory backend: ${n}/${a.events}\n`);
  }
  const page = await store.query({}, { limit: 100 });
  const mb = rssMB();
  const heapMB = process.memoryUsage().heapUsed / MB;
  return { rssMB: mb, baseMB, heapMB, events: store.lastSeq(), firstPage: page.events.length };
}

/** Imports a foreign log into a fresh store, as `chronoscope import` does in a process of its own. */
async function importLog(a: { file: string; dir: string }): Promise<object> {
  const store = await FileStore.open(a.dir);
  try {
    const t0 = performance.now();
    const sum = await importFiles(store, [a.file], { format: 'auto' });
    const ms = performance.now() - t0;
    const { lines, imported, duplicates, quarantined } = sum;
    return { ms, lines, imported, duplicates, quarantined, format: sum.files[0]?.format };
  } finally {
    await store.close();
  }
}

const modes: Record<string, (a: never) => Promise<object>> = {
  open: openFirstPage,
  import: importLog,
  'rss-file': rssFile,
  'rss-memory': rssMemory,
  soak: (a: SoakArgs) => runSoak(a),
};

const [mode, json] = process.argv.slice(2);
const fn = modes[mode ?? ''];
try {
  if (!fn) throw new Error(`unknown child mode ${mode}`);
  const out = await fn(JSON.parse(json ?? '{}') as never);
  process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
} catch (err) {
  process.stdout.write(JSON.stringify({ error: (err as Error).message }) + '\n', () => process.exit(0));
}
