import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../conformance/backends';
import { BIN, cli } from '../support/cli';

const FIXTURES = join(__dirname, '../fixtures/projections');

describe('chronoscope replay', () => {
  const tmp = tempDir('chronoscope-replay-cli-');
  const store = join(tmp.dir, 'store');
  const lines = Array.from({ length: 300 }, (_, i) =>
    JSON.stringify({
      stream: `Order-${(i % 3) + 1}`,
      type: i < 3 ? 'OrderPlaced' : 'RefundIssued',
      data: i < 3 ? { total: 1000 } : { amount: 1, refund: 2 },
    }),
  ).join('\n');
  beforeAll(async () => {
    const r = await cli(['append', store], lines);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);
  afterAll(() => tmp.remove());

  it('replays through a projection and prints its final state', async () => {
    const r = await cli([
      'replay',
      store,
      '--module',
      join(FIXTURES, 'orderTotals.ts'),
      '--stream',
      'Order-2',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: 'done', processed: 100, position: 299 });
    expect(out.state).toEqual({ 'Order-2': { total: 901, events: 100, lastType: 'RefundIssued' } });
  });

  it('Ctrl-C stops cleanly and --resume continues from the checkpoint', async () => {
    const cp = join(tmp.dir, 'cp.json');
    const child = spawn(
      'node',
      [
        BIN,
        'replay',
        store,
        '--module',
        join(FIXTURES, 'typeCounts.mjs'),
        '--speed',
        '100',
        '--checkpoint',
        cp,
      ],
      {
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    // Wait until the replay has saved progress, then interrupt it.
    const t0 = Date.now();
    while (
      !(existsSync(cp) && JSON.parse(readFileSync(cp, 'utf8')).processed > 0) &&
      Date.now() - t0 < 20_000
    )
      await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(130);
    expect(stdout).toMatch(/stopped after \d+ events .*\n[\s\S]*continue with --resume/);
    const saved = JSON.parse(readFileSync(cp, 'utf8'));
    expect(saved.processed).toBeGreaterThan(0);
    expect(saved.processed).toBeLessThan(300);

    const r = await cli([
      'replay',
      store,
      '--module',
      join(FIXTURES, 'typeCounts.mjs'),
      '--checkpoint',
      cp,
      '--resume',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('done');
    expect(out.processed).toBe(300);
    expect(out.state).toEqual({ counts: { OrderPlaced: 3, RefundIssued: 297 }, events: 300 });
  }, 60_000);

  it('a handler that throws aborts a non-interactive run with the event named', async () => {
    const bad = join(tmp.dir, 'bad.mjs');
    writeFileSync(bad, "export function handle(e) { if (e.seq === 7) throw new Error('no seven'); }\n");
    const r = await cli(['replay', store, '--module', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /handler bad threw handling seq 7 \(RefundIssued Order-1 v3, id [^)]+\): no seven/,
    );
    expect(r.stdout).toMatch(/stopped after 6 events \(last seq 6\)/);
  });

  it('state, diff and bisect take --projection', async () => {
    const proj = join(FIXTURES, 'orderTotals.ts');
    const s = await cli([
      'state',
      store,
      '--projection',
      proj,
      '--stream',
      'Order-1',
      '--at',
      '10',
      '--json',
    ]);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout).state).toEqual({ total: 997, events: 4, lastType: 'RefundIssued' });
    const d = await cli([
      'diff',
      store,
      '--projection',
      proj,
      '--stream',
      'Order-1',
      '--from',
      '1',
      '--to',
      '4',
    ]);
    expect(d.stdout).toContain('~ total: 1000 → 999');
    const b = await cli([
      'bisect',
      store,
      '--projection',
      proj,
      '--stream',
      'Order-3',
      '--where',
      'total < 990 && events >= 1',
    ]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/first holds at seq 36 \(Order-3 version 12\)/);
    const g = await cli(['state', store, '--projection', proj]);
    expect(g.code).toBe(2);
    expect(g.stderr).toContain('projection order-totals is per stream: give --stream');
  });

  it('--upcaster with --projection compares original and upcast states per stream', async () => {
    const r = await cli([
      'replay',
      store,
      '--upcaster',
      join(FIXTURES, 'refundV2.ts'),
      '--projection',
      join(FIXTURES, 'orderTotals.ts'),
      '--stream',
      'Order-1',
    ]);
    // The v1 refunds carry both fields here, so upcasting `refund` over `amount` changes the totals.
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('100 events upcast to 100 (0 dropped, 0 added) in a scratch store');
    expect(r.stdout).toContain('order-totals (stream): 1 of 1 streams differ');
    expect(r.stdout).toMatch(/Order-1 \(100 → 100 events\):\n~ total: 901 → 802/);
  });
});
