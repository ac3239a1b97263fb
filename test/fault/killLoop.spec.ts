/**
 * Crash testing by killing real processes (DESIGN §3, §5): a child (killChild.ts) appends, rotates,
 * seals (in a worker thread or inline) and imports while this process SIGKILLs it at seeded random
 * moments, FAULT_KILLS times in all (default 210). After a kill the store is reopened here and
 * checked: every acknowledged event present exactly once with the content its id stands for, seqs
 * contiguous from 1, stream versions contiguous, verify clean, no *.tmp left. Some kills are chained:
 * the child is restarted on the crashed store without a check in between and killed early, so the
 * kill lands during its own recovery on open (the next check covers both).
 *
 * The child is bundled once with esbuild (with the seal worker beside it, as a packaged build ships
 * it) and run with plain node: a start costs ~100 ms instead of ~500 ms through tsx.
 * Replay a run with FAULT_SEED=<seed printed below>.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { importFiles } from '../../src/main/engine/ingest/importer';
import type { StoredEvent } from '../../src/shared/event';
import type { KillChildArgs } from './killChild';
import { CONTENDED_STREAM, eventFor, prng } from './support/killContent';
import { readEverything } from '../support/readEverything';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KILLS = Math.max(4, Number(process.env.FAULT_KILLS ?? 210));
const SEED = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 1e9));
/** Kills per store before a fresh one is started (keeps each full check cheap). */
const KILLS_PER_STORE = 18;
const share = (f: number) => Math.max(1, Math.round(KILLS * f));

let buildDir: string;
let bundle: string;
let root: string;

const totals = {
  kills: 0,
  chainedKills: 0,
  cleanExits: 0,
  checks: 0,
  acknowledgedEvents: 0,
  eventChecks: 0,
  conflictsRetried: 0,
  importFilesCompleted: 0,
  recoveries: {
    tornTails: 0,
    tornBytes: 0,
    tmpRemoved: 0,
    indexedOnOpen: 0,
    plainDropped: 0,
    rebuiltIndex: 0,
  },
  childRecoveries: { tornTails: 0, tmpRemoved: 0, indexedOnOpen: 0, plainDropped: 0 },
};

beforeAll(async () => {
  // Inside the project so the external better-sqlite3 resolves from node_modules; a package.json
  // marks the .js files as ESM (node stops looking for one at a node_modules boundary).
  buildDir = join(PROJECT_ROOT, 'node_modules', '.cache', `chronoscope-killloop-${process.pid}`);
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(join(buildDir, 'package.json'), '{"type":"module"}\n');
  await build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: { killChild: 'test/fault/killChild.ts', sealWorker: 'src/main/engine/file/sealWorker.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: buildDir,
    external: ['better-sqlite3'],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'error',
  });
  bundle = join(buildDir, 'killChild.js');
  root = mkdtempSync(join(tmpdir(), 'chronoscope-killloop-'));
  console.info(`kill loop: seed ${SEED} (replay with FAULT_SEED=${SEED}), ${KILLS} kills`);
});

afterAll(() => {
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  if (root) rmSync(root, { recursive: true, force: true });
  console.info(`kill loop totals (seed ${SEED}): ${JSON.stringify(totals)}`);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Child {
  ready: Promise<void>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill: () => void;
  /** Complete stdout lines received (an incomplete last line is never counted). */
  lines: string[];
  stderr: () => string;
}

function startChild(args: KillChildArgs): Child {
  const child = spawn(process.execPath, [bundle, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffered = '';
  let err = '';
  let onReady = () => {};
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      if (l.startsWith('ready ')) onReady();
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (err += c));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('close', (code, signal) => {
      onReady();
      res({ code, signal });
    }),
  );
  return { ready, done, kill: () => child.kill('SIGKILL'), lines, stderr: () => err };
}

interface ImportFile {
  path: string;
  ids: string[];
  done: boolean;
}
/** Which file and line every generated import id comes from. */
const importLine = new Map<string, { file: ImportFile; line: number }>();

/** What one store has acknowledged so far. */
class Ledger {
  readonly idToSeq = new Map<string, number>();
  readonly seqToId = new Map<number, string>();
  readonly files: ImportFile[] = [];
  readonly problems: string[] = [];

  record(lines: string[], fileOffset: number): void {
    for (const l of lines) {
      if (l.startsWith('ack ')) {
        for (const pair of l.slice(4).split(' ')) {
          const colon = pair.indexOf(':');
          const seq = Number(pair.slice(0, colon));
          const id = pair.slice(colon + 1);
          const prior = this.idToSeq.get(id);
          if (prior !== undefined && prior !== seq)
            this.problems.push(`id ${id} acknowledged at seq ${prior} and later at seq ${seq}`);
          const priorId = this.seqToId.get(seq);
          if (priorId !== undefined && priorId !== id)
            this.problems.push(`seq ${seq} acknowledged as ${priorId} and later as ${id}`);
          this.idToSeq.set(id, seq);
          this.seqToId.set(seq, id);
        }
      } else if (l.startsWith('conflict ')) totals.conflictsRetried++;
      else if (l.startsWith('file-done ')) {
        const [, i, imported, duplicates] = l.split(' ').map(Number);
        const f = this.files[fileOffset + i!]!;
        if (imported! + duplicates! !== f.ids.length)
          this.problems.push(
            `${f.path}: imported ${imported} + duplicates ${duplicates} ≠ ${f.ids.length} lines`,
          );
        f.done = true;
        totals.importFilesCompleted++;
      } else if (l.startsWith('ready ')) {
        const r = JSON.parse(l.slice(l.indexOf('{'))) as FileStore['report'];
        if (r.tornTailBytes > 0) totals.childRecoveries.tornTails++;
        totals.childRecoveries.tmpRemoved += r.removedTmp.length;
        totals.childRecoveries.indexedOnOpen += r.indexedSegments.length;
        totals.childRecoveries.plainDropped += r.removedSealedPlain.length;
      }
    }
  }
}

/** Differences between a stored event and the content its id stands for ('' when identical). */
function contentDiff(e: StoredEvent): string {
  const want = eventFor(e.id);
  if (e.stream !== want.stream) return `stream ${e.stream} ≠ ${want.stream}`;
  if (e.type !== want.type) return `type ${e.type} ≠ ${want.type}`;
  if (JSON.stringify(e.tags ?? null) !== JSON.stringify(want.tags ?? null)) return 'tags differ';
  if (JSON.stringify(e.data) !== JSON.stringify(want.data)) return 'data differs';
  return '';
}

/**
 * Reopens the store here and checks it against the ledger; returns the events it holds. Problems are
 * collected and asserted at once (thousands of expect calls per round would dominate the runtime).
 */
async function checkStore(dir: string, ledger: Ledger, segmentMaxBytes: number): Promise<StoredEvent[]> {
  const s = await FileStore.open(dir, { segmentMaxBytes, sealInWorker: false });
  try {
    const r = s.report;
    if (r.tornTailBytes > 0) totals.recoveries.tornTails++;
    totals.recoveries.tornBytes += r.tornTailBytes;
    totals.recoveries.tmpRemoved += r.removedTmp.length;
    totals.recoveries.indexedOnOpen += r.indexedSegments.length;
    totals.recoveries.plainDropped += r.removedSealedPlain.length;
    if (r.rebuiltIndex) totals.recoveries.rebuiltIndex++;
    expect(r.problems, 'open report problems').toEqual([]);
    for (const t of r.removedTmp)
      expect(existsSync(join(dir, 'segments', t)), `${t} reported removed`).toBe(false);

    const all = await readEverything(s);
    const problems = [...ledger.problems];
    all.forEach((e, i) => {
      if (e.seq !== i + 1) problems.push(`position ${i + 1} holds seq ${e.seq}`);
    });
    if (s.lastSeq() !== all.length) problems.push(`lastSeq ${s.lastSeq()} but ${all.length} events readable`);
    const seen = new Map<string, number>();
    const versions = new Map<string, number>();
    for (const e of all) {
      if (seen.has(e.id)) problems.push(`id ${e.id} stored at seq ${seen.get(e.id)} and ${e.seq}`);
      seen.set(e.id, e.seq);
      const diff = contentDiff(e);
      if (diff) problems.push(`seq ${e.seq} (${e.id}): ${diff}`);
      const v = (versions.get(e.stream) ?? 0) + 1;
      if (e.version !== v) problems.push(`seq ${e.seq}: ${e.stream} version ${e.version}, expected ${v}`);
      versions.set(e.stream, v);
    }
    for (const [id, seq] of ledger.idToSeq) {
      const got = all[seq - 1];
      if (got?.id !== id) problems.push(`acknowledged ${id} at seq ${seq} is missing (found ${got?.id})`);
    }
    // An import is a contiguous prefix of each file, in file order.
    const next = new Map<ImportFile, number>();
    for (const e of all) {
      const at = importLine.get(e.id);
      if (!at) continue;
      const want = next.get(at.file) ?? 0;
      if (at.line !== want)
        problems.push(`${at.file.path}: line ${want + 1} missing before line ${at.line + 1} (${e.id})`);
      next.set(at.file, at.line + 1);
    }
    for (const f of ledger.files) {
      const stored = next.get(f) ?? 0;
      if (f.done && stored !== f.ids.length)
        problems.push(`${f.path}: reported done but ${stored} lines stored`);
    }
    expect(problems.slice(0, 20), `${problems.length} problems`).toEqual([]);
    totals.checks++;
    totals.eventChecks += all.length;

    // Segments the crash left unsealed are sealed in the background after open; their tmp files
    // exist while that runs, so judge the folder once it is done.
    await s.flushSeals();
    const tmp = readdirSync(join(dir, 'segments')).filter((n) => n.endsWith('.tmp'));
    expect(tmp, 'tmp files after recovery').toEqual([]);
    const v = await s.verify();
    expect(v.issues).toEqual([]);
    expect(v.ok).toBe(true);
    return all;
  } finally {
    await s.close();
  }
}

/** Writes a native JSONL file of `n` events with ids, for the import scenario. */
function makeImportFile(dir: string, k: string, n: number): ImportFile {
  const path = join(dir, `import-${k}.jsonl`);
  const ids = Array.from({ length: n }, (_, i) => `imp-${k}-${i}`);
  writeFileSync(path, ids.map((id) => JSON.stringify(eventFor(id))).join('\n') + '\n');
  const f: ImportFile = { path, ids, done: false };
  ids.forEach((id, line) => importLine.set(id, { file: f, line }));
  return f;
}

interface Scenario {
  name: string;
  scenario: KillChildArgs['scenario'];
  kills: number;
  sealInWorker: boolean;
  segmentBytes: (rnd: () => number) => number;
}

async function killLoop(sc: Scenario): Promise<void> {
  const rnd = prng(SEED ^ [...sc.name].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
  const stats = { kills: 0, acked: 0, checks: 0, chained: 0 };
  let round = 0;
  let storeNo = 0;
  while (stats.kills < sc.kills) {
    const dir = join(root, `${sc.name}-${storeNo++}`);
    const segmentMaxBytes = sc.segmentBytes(rnd);
    const ledger = new Ledger();
    let fileNo = 0;
    let chained = false;
    const storeKills = Math.min(KILLS_PER_STORE, sc.kills - stats.kills);
    for (let k = 0; k < storeKills; k++) {
      const args: KillChildArgs = {
        dir,
        scenario: sc.scenario,
        seed: SEED,
        round: round++,
        segmentMaxBytes,
        sealInWorker: sc.sealInWorker,
      };
      let fileOffset = 0;
      if (sc.scenario === 'import') {
        fileOffset = ledger.files.findIndex((f) => !f.done);
        if (fileOffset === -1) fileOffset = ledger.files.length;
        while (ledger.files.length < fileOffset + 2)
          ledger.files.push(makeImportFile(root, `${sc.name}-${storeNo}-${fileNo++}`, 1500));
        args.files = ledger.files.slice(fileOffset).map((f) => f.path);
      }
      const child = startChild(args);
      // A chained kill, and some others, land while the child starts and recovers the store.
      const early = chained || rnd() < 0.15;
      if (early) await sleep(Math.floor(rnd() * 250));
      else {
        await child.ready;
        await sleep(30 + Math.floor(rnd() * 270));
      }
      child.kill();
      const { code, signal } = await child.done;
      ledger.record(child.lines, fileOffset);
      if (signal === 'SIGKILL') {
        stats.kills++;
        if (chained) stats.chained++;
      } else {
        // Only an import that finished may end on its own.
        expect({ code, last: child.lines.at(-1) }, child.stderr()).toEqual({ code: 0, last: 'all-done' });
        totals.cleanExits++;
      }
      chained = k < storeKills - 1 && rnd() < 0.3;
      if (chained) continue;
      await checkStore(dir, ledger, segmentMaxBytes);
      stats.checks++;
    }
    if (sc.scenario === 'import') {
      // Re-running every import after the crashes adds exactly the lines that were not yet stored.
      const s = await FileStore.open(dir, { segmentMaxBytes, sealInWorker: false });
      const before = s.lastSeq();
      const summary = await importFiles(
        s,
        ledger.files.map((f) => f.path),
        { format: 'native', batchSize: 400 },
      );
      const lines = ledger.files.reduce((n, f) => n + f.ids.length, 0);
      expect(summary.quarantined).toBe(0);
      expect(summary.imported + summary.duplicates).toBe(lines);
      expect(s.lastSeq()).toBe(before + summary.imported);
      const again = await importFiles(
        s,
        ledger.files.map((f) => f.path),
        { format: 'native', batchSize: 1000 },
      );
      expect({ imported: again.imported, duplicates: again.duplicates }).toEqual({
        imported: 0,
        duplicates: lines,
      });
      await s.close();
      for (const f of ledger.files) f.done = true;
      const all = await checkStore(dir, ledger, segmentMaxBytes);
      expect(all.filter((e) => e.id.startsWith('imp-')).length).toBe(lines);
    }
    stats.acked += ledger.idToSeq.size;
    rmSync(dir, { recursive: true, force: true });
  }
  totals.kills += stats.kills;
  totals.chainedKills += stats.chained;
  totals.acknowledgedEvents += stats.acked;
  console.info(`${sc.name}: ${JSON.stringify(stats)}`);
  expect(stats.kills).toBe(sc.kills);
}

describe(`kill -9 loop (${KILLS} SIGKILLs, FAULT_KILLS to scale)`, () => {
  it(`appends survive ${share(0.3)} SIGKILLs during rotation and sealing in the worker thread (4–16 KB segments)`, async () => {
    await killLoop({
      name: 'rotate-worker',
      scenario: 'rotate',
      kills: share(0.3),
      sealInWorker: true,
      segmentBytes: (r) => 4096 + Math.floor(r() * 12_288),
    });
  }, 180_000);

  it(`appends survive ${share(0.2)} SIGKILLs during rotation and inline sealing (sealInWorker: false)`, async () => {
    await killLoop({
      name: 'rotate-inline',
      scenario: 'rotate',
      kills: share(0.2),
      sealInWorker: false,
      segmentBytes: (r) => 4096 + Math.floor(r() * 12_288),
    });
  }, 180_000);

  it(`concurrent group-committed appends and expectedVersion appends to one stream survive ${share(0.25)} SIGKILLs`, async () => {
    await killLoop({
      name: 'concurrent',
      scenario: 'concurrent',
      kills: share(0.25),
      sealInWorker: true,
      segmentBytes: (r) => 8192 + Math.floor(r() * 8192),
    });
    expect(totals.conflictsRetried, `conflicts on ${CONTENDED_STREAM}`).toBeGreaterThan(0);
  }, 180_000);

  it(`an import killed ${share(0.25)} times stores a contiguous prefix of each file once, and re-running it is idempotent`, async () => {
    await killLoop({
      name: 'import',
      scenario: 'import',
      kills: share(0.25),
      sealInWorker: true,
      segmentBytes: (r) => 8192 + Math.floor(r() * 16_384),
    });
    expect(totals.importFilesCompleted).toBeGreaterThan(0);
  }, 180_000);
});
