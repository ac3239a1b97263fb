import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROWS } from '../../bench/rows';
import { tempDir } from '../conformance/backends';

const exec = promisify(execFile);
const ROOT = join(__dirname, '../..');
const INITDB = '/usr/lib/postgresql/15/bin/initdb';

interface Cell {
  value?: number;
  na?: string;
  error?: string;
  details?: Record<string, unknown>;
}
interface Results {
  events: number;
  machine: { cpus: number; node: string };
  info: { postgres?: { started: boolean; stopped: boolean; port: number; dataDir: string } };
  rows: { key: string; cells: Record<string, Cell> }[];
}

/** Runs the harness as `npm run bench` would, into a private results folder; never asserts timings. */
async function bench(args: string[], env: Record<string, string> = {}) {
  const out = tempDir('chronoscope-bench-spec-');
  cleanups.push(out.remove);
  const r = await exec(
    process.execPath,
    ['--import', 'tsx', 'bench/run.ts', ...args, '--warm-up-ms', '20', '--out', out.dir],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      maxBuffer: 64 << 20,
    },
  );
  const files = readdirSync(out.dir).filter((f) => f.endsWith('.json'));
  expect(files).toHaveLength(1);
  const results = JSON.parse(readFileSync(join(out.dir, files[0]!), 'utf8')) as Results;
  const cell = (key: string, col: string) => results.rows.find((r) => r.key === key)!.cells[col]!;
  return { ...r, results, cell };
}
const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));

/** Every cell is a finite number or says explicitly why not. */
function expectWellFormed(results: Results): void {
  expect(results.rows.map((r) => r.key)).toEqual(ROWS.map((r) => r.key));
  for (const row of results.rows) {
    for (const col of ['ours', 'naive', 'sqlite-rows', 'postgres', 'limit']) {
      const c = row.cells[col];
      expect(c, `${row.key}/${col}`).toBeDefined();
      const ok =
        (typeof c!.value === 'number' && Number.isFinite(c!.value)) ||
        (typeof c!.na === 'string' && c!.na.length > 0) ||
        (typeof c!.error === 'string' && c!.error.length > 0);
      expect(ok, `${row.key}/${col}: ${JSON.stringify(c)}`).toBe(true);
    }
  }
}

describe('npm run bench (smoke, no timing assertions)', () => {
  it('runs every row with naive, sqlite-rows and limit, prints the table and writes the JSON', async () => {
    const r = await bench(['--events', '2000', '--baselines', 'naive,sqlite-rows,limit']);
    expect(r.stdout).toContain(
      '| metric | unit | ours | goal | met? | naive | sqlite-rows | postgres | limit |',
    );
    expect(r.stdout).toMatch(/results: .*\.json/);
    expect(r.stderr).toContain('[bench');
    expect(r.results.events).toBe(2000);
    expect(r.results.machine.cpus).toBeGreaterThan(0);
    expectWellFormed(r.results);
    for (const row of ROWS) {
      const ours = r.cell(row.key, 'ours');
      if (row.key.startsWith('soak')) expect(ours.na).toBe('run with --soak');
      else expect(ours.value, `${row.key}: ${JSON.stringify(ours)}`).toEqual(expect.any(Number));
    }
    for (const key of ['ingest', 'get-by-id', 'read-stream', 'page-type', 'search-all', 'disk-per-1k']) {
      expect(r.cell(key, 'naive').value).toEqual(expect.any(Number));
      expect(r.cell(key, 'sqlite-rows').value).toEqual(expect.any(Number));
      expect(r.cell(key, 'postgres').na).toBe('not run (--baselines)');
    }
    expect(r.cell('ingest', 'limit').value).toEqual(expect.any(Number));
    expect(r.cell('get-by-id', 'ours').details?.firstResultCount).toBe(1);
    // Timed reads follow untimed warm-up calls; the cold first call is still reported.
    expect(r.cell('read-stream', 'ours').details?.warmUpCalls).toBeGreaterThanOrEqual(1);
    expect(r.cell('read-stream', 'ours').details?.coldFirstCallMs).toEqual(expect.any(Number));
    // The scroll starts on a quiet machine, or says it could not.
    expect(r.cell('ui-scroll-frame', 'ours').details?.quiet).toEqual(
      expect.objectContaining({ waitedMs: expect.any(Number), quiet: expect.any(Boolean) }),
    );
  }, 240_000);

  it('--only runs just the named rows; the others say so', async () => {
    const r = await bench(['--events', '500', '--baselines', 'none', '--only', 'get-by-id']);
    expectWellFormed(r.results);
    expect(r.cell('get-by-id', 'ours').value).toEqual(expect.any(Number));
    expect(r.cell('ingest', 'ours').na).toBe('not selected (--only)');
  }, 120_000);

  it('says when the PostgreSQL binaries are missing instead of faking the row', async () => {
    const r = await bench(['--events', '500', '--baselines', 'postgres', '--only', 'get-by-id'], {
      PG_BIN: '/nonexistent/postgresql/bin',
    });
    expect(r.cell('get-by-id', 'postgres').na).toMatch(/PostgreSQL binaries not found/);
  }, 120_000);

  it('the postgres baseline starts a real server, answers queries and stops it again', async () => {
    const r = await bench(['--events', '500', '--baselines', 'postgres', '--only', 'get-by-id,page-type']);
    expectWellFormed(r.results);
    const get = r.cell('get-by-id', 'postgres');
    if (!existsSync(INITDB)) {
      expect(get.na).toMatch(/PostgreSQL binaries not found/);
      return;
    }
    expect(get.value, JSON.stringify(get)).toEqual(expect.any(Number));
    expect(get.details?.firstResultCount).toBe(1);
    expect(r.cell('page-type', 'postgres').details?.firstResultCount).toBe(
      r.cell('page-type', 'ours').details?.firstResultCount,
    );
    const pg = r.results.info.postgres!;
    expect(pg).toMatchObject({ started: true, stopped: true });
    expect(existsSync(pg.dataDir)).toBe(false);
    const refused = await new Promise<boolean>((resolve) => {
      const sock = connect(pg.port, '127.0.0.1');
      sock.once('connect', () => (sock.destroy(), resolve(false)));
      sock.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  }, 180_000);
});
