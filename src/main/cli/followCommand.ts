import { Option, type Command } from 'commander';
import { Follower, type FollowStatus } from '../engine/ingest/follow';
import type { WithStore } from './timetravelCommands';

type Out = (s: string) => void;

const totals = (s: FollowStatus) =>
  s.files.reduce(
    (t, f) => ({
      lines: t.lines + f.lines,
      imported: t.imported + f.imported,
      quarantined: t.quarantined + f.quarantined,
    }),
    { lines: 0, imported: 0, quarantined: 0 },
  );

/**
 * `chronoscope follow <store> <file|folder>`: tails an external JSONL log into the store until
 * Ctrl-C, printing a line per change of the counts and every quarantined line with file:line.
 */
export function registerFollowCommand(
  program: Command,
  withStore: WithStore,
  out: Out = (s) => void process.stderr.write(s),
): void {
  program
    .command('follow')
    .argument('<store>', 'store folder (created if missing)')
    .argument('<path>', 'a JSONL file, or a folder whose *.jsonl / *.ndjson / *.log files are followed')
    .addOption(
      new Option('--format <format>', 'input format')
        .choices(['auto', 'native', 'cloudevents', 'snake', 'camel'])
        .default('auto'),
    )
    .description(
      'live-import an external JSONL log: new lines are appended as they are written; survives rotation and truncation',
    )
    .action(
      async (
        storePath: string,
        path: string,
        o: { format: 'auto' | 'native' | 'cloudevents' | 'snake' | 'camel' },
      ) => {
        await withStore(storePath, { create: true }, async (store) => {
          let shownQuarantine = 0;
          let last = '';
          const errors = new Map<string, string>();
          const report = (s: FollowStatus) => {
            const t = totals(s);
            // The status keeps the newest quarantined lines; print those not printed yet.
            const fresh = Math.min(t.quarantined - shownQuarantine, s.quarantine.length);
            for (const q of s.quarantine.slice(s.quarantine.length - fresh))
              out(`quarantined ${q.file}:${q.line}: ${q.reason}\n`);
            shownQuarantine = t.quarantined;
            const line = `${s.files.length} file${s.files.length === 1 ? '' : 's'}: ${t.lines} lines, ${t.imported} imported, ${t.quarantined} quarantined · last seq ${store.lastSeq()}`;
            if (line !== last) out(`${line}\n`);
            last = line;
            for (const f of s.files) {
              if (f.error && errors.get(f.path) !== f.error) out(`${f.path}: ${f.error}\n`);
              if (f.error) errors.set(f.path, f.error);
              else errors.delete(f.path);
            }
          };
          const follower = await Follower.start(path, store, { format: o.format, onUpdate: report });
          report(follower.status());
          out(`following ${follower.status().path} (Ctrl-C to stop)\n`);
          await new Promise<void>((stop) => {
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
          });
          await follower.close();
          report(follower.status());
        });
      },
    );
}
