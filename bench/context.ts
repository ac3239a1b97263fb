import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BASELINES, ROWS, ResultTable, type BaselineName, type Column } from './rows';
import type { Subject } from './subject';
import { Workload, shapeFor } from './workload';
import type { Limits } from './baselines/limit';

/** The command line of `npm run bench`, validated. */
export interface BenchOptions {
  events: number;
  seed: number;
  only?: Set<string>;
  baselines: Set<BaselineName>;
  soak: boolean;
  soakSeconds: number;
  soakRate: number;
  /** Untimed calls before each read row, for this long (see readRows). */
  warmUpMs: number;
  jsonOnly: boolean;
  outDir: string;
}

/** Parses argv; throws with a usage hint on anything unknown, so a typo never runs a 20-minute benchmark. */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      only: { type: 'string' },
      baselines: { type: 'string', default: BASELINES.join(',') },
      soak: { type: 'boolean', default: false },
      'soak-seconds': { type: 'string', default: '600' },
      'soak-rate': { type: 'string', default: '20000' },
      'warm-up-ms': { type: 'string', default: '1000' },
      'json-only': { type: 'boolean', default: false },
      out: { type: 'string', default: join(import.meta.dirname, 'results') },
    },
    strict: true,
  });
  const int = (name: string, v: string, min: number) => {
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
    return n;
  };
  const list = (v: string) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const only = values.only === undefined ? undefined : new Set(list(values.only));
  for (const k of only ?? [])
    if (!ROWS.some((r) => r.key === k))
      throw new Error(`--only: unknown metric ${k} (known: ${ROWS.map((r) => r.key).join(', ')})`);
  const baselines = new Set<BaselineName>();
  for (const b of values.baselines === 'none' ? [] : list(values.baselines)) {
    if (!(BASELINES as readonly string[]).includes(b))
      throw new Error(`--baselines: unknown baseline ${b} (known: ${BASELINES.join(', ')}, or none)`);
    baselines.add(b as BaselineName);
  }
  return {
    events: int('events', values.events, 100),
    seed: int('seed', values.seed, 0),
    only,
    baselines,
    soak: values.soak,
    soakSeconds: int('soak-seconds', values['soak-seconds'], 10),
    soakRate: int('soak-rate', values['soak-rate'], 1000),
    warmUpMs: int('warm-up-ms', values['warm-up-ms'], 0),
    jsonOnly: values['json-only'],
    outDir: values.out,
  };
}

/** Everything one run shares: options, the workload, the table being filled, scratch space. */
export class RunContext {
  readonly workload: Workload;
  readonly table = new ResultTable();
  readonly tmp: string;
  readonly subjects: Subject[] = [];
  /** Columns that cannot run here, with the reason every one of their cells will show. */
  readonly unavailable = new Map<Column, string>();
  readonly notes: string[] = [];
  readonly info: Record<string, unknown> = {};
  limits?: Limits;

  constructor(readonly opts: BenchOptions) {
    this.workload = new Workload(shapeFor(opts.events, opts.seed));
    this.tmp = mkdtempSync(join(tmpdir(), 'chronoscope-bench-'));
  }

  /** True when the row is selected (`--only`), and for soak rows only with `--soak`. */
  wants(key: string): boolean {
    if (key.startsWith('soak') && !this.opts.soak) return false;
    return !this.opts.only || this.opts.only.has(key);
  }

  has(b: BaselineName): boolean {
    return this.opts.baselines.has(b) && !this.unavailable.has(b);
  }

  /** Progress to stderr (stdout carries the table or the JSON). */
  log(msg: string): void {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
  }
}
