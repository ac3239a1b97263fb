import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Workload } from '../workload';

/** The physical ceilings on this machine for the same events: nothing can ingest or store faster or smaller. */
export interface Limits {
  /** JSON.stringify + JSON.parse of every event, events per second. */
  jsonEventsPerSec: number;
  /** gzip (level 6, as sealing uses) of the same bytes. */
  gzipMBPerSec: number;
  gzipBytesPer1k: number;
  rawBytesPer1k: number;
  /** Sequential write of the same bytes, one fsync at the end. */
  writeFsyncMBPerSec: number;
  events: number;
  bytes: number;
}

/** Measures the ceilings over the whole workload in chunks of 10,000 events (generation is not timed). */
export async function measureLimits(w: Workload, dir: string, log: (s: string) => void): Promise<Limits> {
  let jsonMs = 0;
  let gzipMs = 0;
  let writeMs = 0;
  let bytes = 0;
  let gzBytes = 0;
  const path = join(dir, 'limit.jsonl');
  const fd = openSync(path, 'w');
  try {
    for (const chunk of w.batches(10_000)) {
      let t0 = performance.now();
      const lines = chunk.map((e) => JSON.stringify(e));
      for (const l of lines) JSON.parse(l);
      jsonMs += performance.now() - t0;
      const buf = Buffer.from(lines.join('\n') + '\n');
      bytes += buf.length;
      t0 = performance.now();
      gzBytes += gzipSync(buf, { level: 6 }).length;
      gzipMs += performance.now() - t0;
      t0 = performance.now();
      writeSync(fd, buf);
      writeMs += performance.now() - t0;
    }
    const t0 = performance.now();
    fsyncSync(fd);
    writeMs += performance.now() - t0;
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  const n = w.shape.events;
  const mbps = (ms: number) => bytes / 1e6 / (ms / 1000);
  log(`limit: json ${Math.round(n / (jsonMs / 1000))} ev/s, gzip ${mbps(gzipMs).toFixed(0)} MB/s`);
  return {
    jsonEventsPerSec: n / (jsonMs / 1000),
    gzipMBPerSec: mbps(gzipMs),
    gzipBytesPer1k: (gzBytes / n) * 1000,
    rawBytesPer1k: (bytes / n) * 1000,
    writeFsyncMBPerSec: mbps(writeMs),
    events: n,
    bytes,
  };
}
