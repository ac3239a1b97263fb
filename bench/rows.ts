/** Who a cell belongs to: our engine or one of the baselines run on the same events. */
export type Column = 'ours' | 'naive' | 'sqlite-rows' | 'postgres' | 'limit';
export const BASELINES = ['naive', 'sqlite-rows', 'postgres', 'limit'] as const;
export type BaselineName = (typeof BASELINES)[number];
/** The baselines a ratio compares against (the limit is a ceiling, not a competitor). */
export const COMPETITORS = ['naive', 'sqlite-rows', 'postgres'] as const;

/** One measured value, or why there is none: a row never fakes a number. */
export type Cell =
  | { value: number; details?: Record<string, unknown> }
  | { na: string }
  | { error: string; details?: Record<string, unknown> };

/** A row of the table: what is measured, in which unit, and the goal from the issue. */
export interface RowDef {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  goal?: { op: '>=' | '<' | '<='; value: number };
  /** A derived row (a fraction of another): comparing it with a competitor adds nothing. */
  noRatio?: boolean;
}

const p99 = (key: string, label: string, goal: number): RowDef => ({
  key,
  label,
  unit: 'ms p99',
  better: 'lower',
  goal: { op: '<', value: goal },
});

/** Every row of the harness, in table order; `--only` takes these keys. */
export const ROWS: readonly RowDef[] = [
  {
    key: 'ingest',
    label: 'ingest via append (1,000/batch)',
    unit: 'ev/s',
    better: 'higher',
    goal: { op: '>=', value: 100_000 },
  },
  {
    key: 'ingest-vs-ceiling',
    label: 'ingest as % of JSON ceiling',
    unit: '%',
    better: 'higher',
    noRatio: true,
  },
  {
    key: 'soak-rss',
    label: 'soak 20k ev/s: RSS drift',
    unit: '± %',
    better: 'lower',
    goal: { op: '<=', value: 10 },
  },
  p99('soak-append-p99', 'soak 20k ev/s: append', 20),
  p99('get-by-id', 'get by id', 0.2),
  p99('read-stream', 'read one stream (~20 events)', 1),
  p99('page-type', 'page of 100: type', 5),
  p99('page-actor', 'page of 100: actor', 5),
  p99('page-correlation', 'page of 100: correlation', 5),
  p99('page-time', 'page of 100: time range', 5),
  p99('page-type-tenant', 'page of 100: type + tenant', 5),
  {
    key: 'search-first-page',
    label: 'full-text: first page of 100',
    unit: 'ms p50',
    better: 'lower',
    goal: { op: '<', value: 300 },
  },
  { key: 'search-all', label: 'full-text: all matches', unit: 'ms p50', better: 'lower' },
  { key: 'state-stream', label: 'state at a random version, one stream', unit: 'ms p99', better: 'lower' },
  p99('state-stream-snap', 'state at a random version, one stream (snapshots)', 10),
  p99('state-global-snap', 'global state at a random seq (snapshots)', 1000),
  {
    key: 'ui-filter-first-rows',
    label: 'app: filter → first rows rendered',
    unit: 'ms p50',
    better: 'lower',
    goal: { op: '<', value: 150 },
  },
  {
    key: 'ui-scroll-frame',
    // #4 asks for 60 fps: a frame is dropped when its step exceeds 1.5 frames (rAF timestamps).
    label: 'app: frames dropped scrolling the list',
    unit: '% frames',
    better: 'lower',
    goal: { op: '<=', value: 1 },
  },
  {
    key: 'open-first-page',
    label: 'open store + first page',
    unit: 'ms',
    better: 'lower',
    goal: { op: '<', value: 500 },
  },
  {
    key: 'rebuild-index',
    label: 'rebuild index from segments',
    unit: 's',
    better: 'lower',
    goal: { op: '<', value: 10 },
  },
  {
    key: 'rss-file',
    label: 'RSS: file backend open',
    unit: 'MB',
    better: 'lower',
    goal: { op: '<', value: 400 },
  },
  {
    key: 'rss-memory',
    label: 'RSS: memory backend holding all',
    unit: 'MB',
    better: 'lower',
    goal: { op: '<', value: 800 },
  },
  {
    key: 'disk-per-1k',
    label: 'disk per 1,000 events (index incl.)',
    unit: 'KB',
    better: 'lower',
    goal: { op: '<', value: 150 },
  },
  {
    key: 'import-gz',
    label: 'import .jsonl.gz (camelCase)',
    unit: 'lines/s',
    better: 'higher',
    goal: { op: '>=', value: 100_000 },
  },
];

/** True when a value meets the row's goal; undefined when the row has no goal. */
export function meets(row: RowDef, value: number): boolean | undefined {
  if (!row.goal) return undefined;
  const g = row.goal.value;
  return row.goal.op === '>=' ? value >= g : row.goal.op === '<' ? value < g : value <= g;
}

/** The cells of a run, row by row and column by column, filled as measurements finish. */
export class ResultTable {
  readonly cells = new Map<string, Map<Column, Cell>>();

  set(key: string, column: Column, cell: Cell): void {
    if (!ROWS.some((r) => r.key === key)) throw new Error(`unknown row ${key}`);
    let row = this.cells.get(key);
    if (!row) this.cells.set(key, (row = new Map()));
    row.set(column, cell);
  }

  get(key: string, column: Column): Cell | undefined {
    return this.cells.get(key)?.get(column);
  }

  /** Fills every still-empty cell of a row with the same n/a reason. */
  fill(key: string, columns: readonly Column[], reason: string): void {
    for (const c of columns) if (!this.get(key, c)) this.set(key, c, { na: reason });
  }
}

/** A cell's number, if it has one. */
export function valueOf(cell: Cell | undefined): number | undefined {
  return cell && 'value' in cell ? cell.value : undefined;
}

/** Turns a thrown value into an error cell, so one failing row never stops the run. */
export function errorCell(err: unknown): Cell {
  const msg = err instanceof Error ? err.message : String(err);
  return { error: msg.split('\n')[0]!.slice(0, 200) };
}
