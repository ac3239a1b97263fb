import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Busy and total jiffies of all CPUs so far (Linux /proc/stat); undefined where there is none. */
function cpuJiffies(): { busy: number; total: number } | undefined {
  try {
    const first = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = first.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export interface Quiet {
  /** How long it took until a window was quiet (or the limit). */
  waitedMs: number;
  /** Busy share of all CPUs in the last window, 0..1 (NaN without /proc/stat). */
  busy: number;
  quiet: boolean;
}

/**
 * Waits until the machine's CPUs were less than `busyBelow` busy over a whole `windowMs`, for at
 * most `maxMs`. Rows that measure smoothness (frames dropped) start on a quiet machine: right after
 * the rebuild row, or the removal of the baselines' gigabytes, the same scroll dropped 0.8–3 % of its
 * frames instead of 0–0.2 %, which said more about the harness than about the app.
 */
export async function waitForQuiet({ busyBelow = 0.2, windowMs = 500, maxMs = 5_000 } = {}): Promise<Quiet> {
  const start = performance.now();
  let busy = NaN;
  for (;;) {
    const a = cpuJiffies();
    await sleep(windowMs);
    const b = cpuJiffies();
    if (!a || !b) return { waitedMs: performance.now() - start, busy: NaN, quiet: false };
    busy = b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
    const waitedMs = performance.now() - start;
    if (busy < busyBelow) return { waitedMs, busy, quiet: true };
    if (waitedMs >= maxMs) return { waitedMs, busy, quiet: false };
  }
}
