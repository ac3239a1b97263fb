import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  COMPETITORS,
  ROWS,
  meets,
  valueOf,
  type Cell,
  type Column,
  type ResultTable,
  type RowDef,
} from './rows';

const COLUMNS: readonly Column[] = ['ours', 'naive', 'sqlite-rows', 'postgres', 'limit'];

/** One finished row: its cells, whether ours meets the goal, and ours relative to the best competitor. */
export interface ReportRow extends RowDef {
  cells: Record<Column, Cell>;
  met: boolean | null;
  /** ours ÷ the best competitor (higher-is-better rows: > 1 means ours wins; lower-is-better: < 1). */
  ratio: number | null;
  best: string | null;
}

/** Combines the table with the goals; every cell must already be filled (run.ts fills blanks with n/a). */
export function buildRows(table: ResultTable): ReportRow[] {
  return ROWS.map((def) => {
    const cells = Object.fromEntries(COLUMNS.map((c) => [c, table.get(def.key, c)!])) as Record<Column, Cell>;
    const ours = valueOf(cells.ours);
    let best: string | null = null;
    let bestV: number | undefined;
    for (const c of COMPETITORS) {
      const v = valueOf(cells[c]);
      if (v === undefined || !Number.isFinite(v)) continue;
      if (bestV === undefined || (def.better === 'higher' ? v > bestV : v < bestV)) [best, bestV] = [c, v];
    }
    const ratio = ours !== undefined && bestV && !def.noRatio ? ours / bestV : null;
    const met = ours === undefined ? null : (meets(def, ours) ?? null);
    return { ...def, cells, met, ratio, best };
  });
}

/** Human-sized number: grouped integers when large, three significant digits when small. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

function goalText(r: RowDef): string {
  if (!r.goal) return '—';
  const op = r.goal.op === '>=' ? '≥' : r.goal.op === '<=' ? '≤' : '<';
  return `${op} ${fmt(r.goal.value)}`;
}

/** The table as Markdown (so it pastes into the README), n/a reasons and errors as numbered notes. */
export function renderTable(rows: ReportRow[]): string {
  const notes: string[] = [];
  const note = (text: string) => {
    let i = notes.indexOf(text);
    if (i < 0) i = notes.push(text) - 1;
    return `[${i + 1}]`;
  };
  const cell = (c: Cell) =>
    'value' in c ? fmt(c.value) : 'na' in c ? `n/a ${note(c.na)}` : `error ${note(`error: ${c.error}`)}`;
  const head = [
    'metric',
    'unit',
    'ours',
    'goal',
    'met?',
    'naive',
    'sqlite-rows',
    'postgres',
    'limit',
    'ours/best',
  ];
  const lines = [head, head.map(() => '---')];
  for (const r of rows) {
    const met = r.met === null ? (r.goal ? '?' : '—') : r.met ? 'yes' : '**NO**';
    const ratio = r.ratio === null ? '—' : `${r.ratio.toPrecision(3)}× ${r.best}`;
    lines.push([
      r.label,
      r.unit,
      cell(r.cells.ours),
      goalText(r),
      met,
      ...COLUMNS.slice(1).map((c) => cell(r.cells[c])),
      ratio,
    ]);
  }
  const md = lines.map((l) => `| ${l.join(' | ')} |`).join('\n');
  return `${md}\n\n${notes.map((n, i) => `[${i + 1}] ${n}`).join('\n')}\n`;
}

/** The machine a run happened on: results are meaningless without it. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGB: number;
  node: string;
  platform: string;
  /** 1/5/15-minute load averages at the end: a busy shared machine makes every number worse. */
  loadAvg: number[];
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${platform()} ${release()}`,
    loadAvg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** The commit the run measured, with a marker when the work tree had changes. */
export function gitInfo(): { commit?: string; dirty?: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain'], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() !== '';
    return { commit, dirty };
  } catch {
    return {};
  }
}

/** Writes the run's JSON to `<dir>/<ISO timestamp>.json` and returns the path. */
export function writeResults(dir: string, doc: Record<string, unknown> & { date: string }): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${doc.date.replace(/:/g, '-')}.json`);
  writeFileSync(path, JSON.stringify(doc, null, 2) + '\n');
  return path;
}
