/**
 * The child of the kill-loop tests (test/fault/killLoop.spec.ts): opens a store (running recovery),
 * then appends, rotates, seals and imports as fast as it can until the parent SIGKILLs it.
 *
 * One line per acknowledged append on stdout, written only after the append resolved (stdout to a
 * pipe is synchronous on Linux, so a line the parent receives whole was acknowledged before):
 *   ready <pid> <open report as JSON>
 *   ack <seq>:<id> <seq>:<id> …       (the stored events of one resolved append, in input order)
 *   conflict <writer>                 (an expectedVersion append refused, retried)
 *   file-done <index> <imported> <duplicates>
 * Bundled once per test file with esbuild and run with plain node (see killLoop.spec.ts).
 */
import { isChronoscopeError } from '../../src/shared/errors';
import type { AppendResult } from '../../src/main/engine/types';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { importFiles } from '../../src/main/engine/ingest/importer';
import { CONTENDED_STREAM, eventFor, prng } from './support/killContent';

export interface KillChildArgs {
  dir: string;
  scenario: 'rotate' | 'concurrent' | 'import';
  seed: number;
  round: number;
  segmentMaxBytes: number;
  sealInWorker: boolean;
  /** import: the files to import, in order. */
  files?: string[];
}

const args = JSON.parse(process.argv[2]!) as KillChildArgs;
const rnd = prng(args.seed * 7919 + args.round);
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const ackLine = (r: AppendResult): string => `ack ${r.events.map((e) => `${e.seq}:${e.id}`).join(' ')}`;

const store = await FileStore.open(args.dir, {
  segmentMaxBytes: args.segmentMaxBytes,
  sealInWorker: args.sealInWorker,
  blockBytes: 2048,
  compressionLevel: 1,
});
out(`ready ${process.pid} ${JSON.stringify(store.report)}`);

let n = 0;
const nextId = (prefix: string, w: number): string => `${prefix}-s${args.seed}-r${args.round}-w${w}-${n++}`;

async function plainWriter(w: number, maxBatch: number): Promise<never> {
  for (;;) {
    const size = 1 + Math.floor(rnd() * maxBatch);
    const batch = Array.from({ length: size }, () => eventFor(nextId('ev', w)));
    out(ackLine(await store.append(batch)));
  }
}

async function optimisticWriter(w: number): Promise<never> {
  let version = (await store.readStream(CONTENDED_STREAM)).at(-1)?.version ?? 0;
  for (;;) {
    try {
      const r = await store.append([eventFor(nextId('opt', w))], { expectedVersion: version });
      out(ackLine(r));
      version = r.events[0]!.version;
    } catch (err) {
      if (!isChronoscopeError(err, 'CONCURRENCY_CONFLICT')) throw err;
      out(`conflict ${w}`);
      // The refusal names the stream's version (counting appends of the same commit group in flight).
      version = (err.details as { actual: number }).actual;
    }
  }
}

async function importer(): Promise<void> {
  const files = args.files!;
  for (let i = 0; i < files.length; i++) {
    const target = {
      append: async (events: Parameters<FileStore['append']>[0]) => {
        const r = await store.append(events);
        out(ackLine(r));
        return r;
      },
    };
    const summary = await importFiles(target, [files[i]!], {
      format: 'native',
      batchSize: 20 + Math.floor(rnd() * 300),
    });
    if (summary.quarantined || summary.failedFiles)
      throw new Error(`import of ${files[i]} quarantined lines: ${JSON.stringify(summary.quarantine[0])}`);
    out(`file-done ${i} ${summary.imported} ${summary.duplicates}`);
  }
  out('all-done');
  await store.close();
}

try {
  if (args.scenario === 'rotate') await plainWriter(0, 60);
  else if (args.scenario === 'concurrent')
    await Promise.all([optimisticWriter(0), optimisticWriter(1), plainWriter(2, 20), plainWriter(3, 5)]);
  else await importer();
} catch (err) {
  process.stderr.write(`child failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
