import type { StoredEvent } from '../../shared/event';

export type OutputFormat = 'table' | 'json' | 'jsonl';

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/** Human columns: seq, time, type, stream, actor, tenant, then the data clipped to the terminal. */
export function formatTable(events: StoredEvent[], width = process.stdout.columns || 160): string {
  const rows = events.map((e) => [
    String(e.seq),
    e.time.replace('T', ' ').replace('Z', ''),
    e.type,
    e.stream,
    e.actor ?? '',
    e.tenant,
    JSON.stringify(e.data),
  ]);
  const head = ['SEQ', 'TIME', 'TYPE', 'STREAM', 'ACTOR', 'TENANT', 'DATA'];
  const widths = head.map((h, i) =>
    i === 6 ? 0 : Math.min(i === 1 ? 23 : 28, Math.max(h.length, ...rows.map((r) => r[i]!.length))),
  );
  const fixed = widths.slice(0, 6).reduce((a, b) => a + b + 2, 0);
  const dataWidth = Math.max(20, width - fixed);
  const line = (r: string[]) =>
    r
      .map((c, i) =>
        i === 6
          ? clip(c, dataWidth)
          : i === 0
            ? clip(c, widths[i]!).padStart(widths[i]!)
            : clip(c, widths[i]!).padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/** Writes events in the chosen format; jsonl is one stored line per event, as in the segments. */
export function printEvents(
  events: StoredEvent[],
  format: OutputFormat,
  out: (s: string) => void = (s) => process.stdout.write(s),
): void {
  if (format === 'json') out(`${JSON.stringify(events, null, 2)}\n`);
  else if (format === 'jsonl') out(events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  else if (events.length) out(`${formatTable(events)}\n`);
}
