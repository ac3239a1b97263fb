import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoStore } from '../../src/main/engine/demo/createDemoStore';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { startWebHost, type WebHost } from '../../src/main/host/web';

const root = join(import.meta.dirname, '..', '..');
const shots = join(root, 'test-results');
const XSS_SCRIPT = '<script>window.__pwned = "script"</script>';
const XSS_IMG = '<img src=x onerror="window.__pwned = \'img\'">';

describe('event browser in Chromium', () => {
  let dir: string;
  let store: FileStore;
  let host: WebHost;
  let browser: Browser;
  let page: Page;
  let commonType: string;
  let planted: { stream: string; eventId: string };
  const dialogs: string[] = [];

  const rows = () => page.locator('.scroller .row[data-seq]');
  const selectedSeq = async () => Number(await page.locator('.row.selected').getAttribute('data-seq'));

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'chronoscope-e2e-'));
    ({ plantedBug: planted } = await createDemoStore(join(dir, 'store'), { events: 3000 }));
    store = await FileStore.open(join(dir, 'store'), {});
    await store.append([
      {
        stream: 'Probe-1',
        type: 'XssProbe',
        actor: '<b>mallory</b>',
        data: { note: XSS_SCRIPT, html: XSS_IMG },
      },
    ]);
    const stats = await store.stats();
    commonType = Object.entries(stats.types).sort((a, b) => b[1] - a[1])[1]![0];
    host = await startWebHost({ store, rendererDir: join(root, 'out', 'renderer'), log: () => {} });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => dialogs.push(`pageerror: ${e.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens with the token, drops it from the URL and lists events', async () => {
    await page.goto(host.url);
    expect(page.url()).not.toContain('token=');
    await expect.poll(() => rows().count()).toBeGreaterThan(10);
    expect(await page.getByTestId('stat-events').textContent()).toBe('3,001');
    expect(await rows().first().getAttribute('data-seq')).toBe('1');
    await page.screenshot({ path: join(shots, 'e2e-list.png') });
  });

  it('scrolls far into the store and fetches that window', async () => {
    await page.getByTestId('event-list').evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
    await expect
      .poll(async () => Number(await rows().first().getAttribute('data-seq')))
      .toBeGreaterThan(1000);
    await page.getByTestId('event-list').evaluate((el) => (el.scrollTop = 0));
    await expect.poll(() => rows().first().getAttribute('data-seq')).toBe('1');
  });

  it('fetches the page past the window before it scrolls into view, so a fast scroll shows events', async () => {
    const ROW = 28;
    const list = page.getByTestId('event-list');
    await page.reload(); // no pages cached from the scrolling before
    await expect.poll(() => rows().count()).toBeGreaterThan(10);
    // Rows 1101–1200 end page 5 (200 rows a page); the window sits there, page 6 starts at seq 1201.
    const pageSix = page.waitForResponse(
      (r) => r.url().endsWith('/api/query') && (r.request().postData() ?? '').includes('"fromSeq":1201'),
      { timeout: 10_000 },
    );
    await list.evaluate((el, top) => (el.scrollTop = top), 1100 * ROW);
    await expect
      .poll(async () => Number(await rows().first().getAttribute('data-seq')))
      .toBeGreaterThan(1090);
    await pageSix;
    // 150 rows on, all inside page 6: the frame that renders them has no placeholder in it.
    const frame = await list.evaluate(
      (el, top) =>
        new Promise<{ placeholders: number; seqs: number[] }>((resolve) => {
          el.scrollTop = top;
          (globalThis as unknown as { requestAnimationFrame(cb: () => void): void }).requestAnimationFrame(
            () =>
              resolve({
                placeholders: el.querySelectorAll('.row.placeholder').length,
                seqs: [...el.querySelectorAll('.row[data-seq]')].map((r) =>
                  Number(r.getAttribute('data-seq')),
                ),
              }),
          );
        }),
      1250 * ROW,
    );
    expect(frame.placeholders).toBe(0);
    expect(Math.min(...frame.seqs)).toBeGreaterThan(1240); // the frame shows the new window, not the old
    await list.evaluate((el) => (el.scrollTop = 0));
    await expect.poll(() => rows().first().getAttribute('data-seq')).toBe('1');
  });

  it('narrows the list when filtering by type, and keeps the filter in the URL across a reload', async () => {
    await page.locator('#filter-type').fill(commonType);
    await page.locator('#filter-type').press('Enter');
    await expect.poll(() => page.url()).toContain(`type=${commonType}`);
    const allOfType = async () => {
      const types = await page.locator('.scroller .row[data-seq] .cell:nth-child(3)').allTextContents();
      return types.length > 0 && types.every((t) => t === commonType);
    };
    await expect.poll(allOfType).toBe(true);
    await page.reload();
    expect(await page.locator('#filter-type').inputValue()).toBe(commonType);
    await expect.poll(allOfType).toBe(true);
    await page.screenshot({ path: join(shots, 'e2e-filtered.png') });
    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => page.url()).not.toContain('type=');
  });

  it('draws the timeline of the filter, and zooms to the time range of a clicked bar', async () => {
    await page.goto(`http://127.0.0.1:${host.port}/`);
    const bars = page.locator('[data-testid=timeline] rect');
    await expect.poll(() => bars.count()).toBeGreaterThan(10);
    await page.screenshot({ path: join(shots, 'e2e-timeline.png') });
    const heights = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('height'))));
    const tallest = heights.indexOf(Math.max(...heights));
    await bars.nth(tallest).click();
    await expect.poll(() => page.url()).toContain('since=');
    expect(page.url()).toContain('until=');
    const since = await page.locator('#filter-since').inputValue();
    const until = await page.locator('#filter-until').inputValue();
    expect(Date.parse(`${until}Z`)).toBeGreaterThan(Date.parse(`${since}Z`));
    await expect.poll(() => page.locator('.scroller .row[data-seq]').count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => page.url()).not.toContain('since=');
  });

  it('zooms to the time range brushed across the timeline', async () => {
    await page.goto(`http://127.0.0.1:${host.port}/`);
    const svg = page.locator('[data-testid=timeline] svg');
    await expect.poll(() => page.locator('[data-testid=timeline] rect').count()).toBeGreaterThan(10);
    const box = (await svg.boundingBox())!;
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.25, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.4, y, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.5, y, { steps: 5 });
    await expect.poll(() => page.getByTestId('brush').count()).toBe(1);
    await page.screenshot({ path: join(shots, 'e2e-brush.png') });
    await page.mouse.up();
    await expect.poll(() => page.url()).toContain('since=');
    const stats = await store.stats();
    const first = Date.parse(stats.firstTime!);
    const since = Date.parse(`${await page.locator('#filter-since').inputValue()}Z`);
    const until = Date.parse(`${await page.locator('#filter-until').inputValue()}Z`);
    // A quarter of the way in, for a quarter of the width: not a single bucket.
    expect(since).toBeGreaterThan(first);
    expect(until - since).toBeGreaterThan((Date.parse(stats.lastTime!) - first) / 8);
    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => page.url()).not.toContain('since=');
  });

  it('travels through a stream: the scrubber moves the list and the state tree, pins diff two positions', async () => {
    await page.goto(`http://127.0.0.1:${host.port}/?stream=${encodeURIComponent(planted.stream)}`);
    await expect.poll(() => rows().count()).toBeGreaterThan(3);
    await rows().nth(1).locator('.cell.seq').click();
    await page.getByRole('button', { name: 'State here' }).click();
    await expect.poll(() => page.getByTestId('timetravel').isVisible()).toBe(true);
    const seq1 = await selectedSeq();
    await expect.poll(() => page.getByTestId('state-meta').textContent()).toContain(`#${seq1}`);
    await expect.poll(() => page.getByTestId('state-tree').textContent()).toContain('$version');
    await page.getByRole('button', { name: /^Pin A/ }).click();
    // The scrubber is the list's cursor: moving it selects a later row and refolds.
    const last = (await rows().count()) - 1;
    await page.getByTestId('scrubber').fill(String(last));
    await expect.poll(selectedSeq).toBeGreaterThan(seq1);
    const seq2 = await selectedSeq();
    await expect.poll(() => page.getByTestId('state-meta').textContent()).toContain(`#${seq2}`);
    await expect.poll(() => page.getByTestId('timeline-cursor').count()).toBe(1);
    await page.getByRole('button', { name: /^Pin B/ }).click();
    await expect.poll(() => page.getByTestId('diff').first().textContent()).toContain('$version');
    await page.screenshot({ path: join(shots, 'e2e-timetravel.png') });
    // k steps back through the same cursor.
    await page.keyboard.press('k');
    await expect.poll(selectedSeq).toBeLessThan(seq2);
  });

  it("finds the demo store's planted bug with bisect", async () => {
    await page.getByRole('button', { name: 'Bisect…' }).click();
    const dialog = page.getByTestId('bisect-dialog');
    await dialog.getByLabel('Condition').fill('total < 0');
    await dialog.getByLabel('any stream matching').check();
    await dialog.getByLabel('Stream pattern').fill('Order-*');
    await dialog.getByRole('button', { name: 'Run bisect' }).click();
    await expect
      .poll(() => page.getByTestId('bisect-stream').textContent(), { timeout: 20_000 })
      .toBe(planted.stream);
    expect(await page.getByTestId('bisect-id').textContent()).toContain(planted.eventId);
    expect(await page.getByTestId('bisect-event').textContent()).toContain('RefundIssued');
    expect(await dialog.getByTestId('diff').textContent()).toContain('total');
    await page.screenshot({ path: join(shots, 'e2e-bisect.png') });
    await dialog.getByRole('button', { name: 'Go to this event' }).click();
    await expect.poll(() => page.getByTestId('bisect-dialog').count()).toBe(0);
    await expect.poll(() => page.getByTestId('cursor').textContent()).toContain('RefundIssued');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('timetravel').count()).toBe(0);
    await page.goto(`http://127.0.0.1:${host.port}/`);
  });

  it('replays a stream through a user projection: breakpoint, step, resume to the end', async () => {
    const module = join(dir, 'refunds.ts');
    writeFileSync(
      module,
      `export const scope = 'global';
type S = { refunds: number; events: number };
export const init = (): S => ({ refunds: 0, events: 0 });
export function apply(s: S, e: { type: string }): S {
  return { refunds: s.refunds + (e.type === 'RefundIssued' ? 1 : 0), events: s.events + 1 };
}\n`,
    );
    await page.goto(`http://127.0.0.1:${host.port}/?stream=${encodeURIComponent(planted.stream)}`);
    await expect.poll(() => rows().count()).toBeGreaterThan(3);
    await page.keyboard.press('t');
    const replay = page.getByTestId('replay');
    await replay.getByLabel('Module path').fill(module);
    await replay.getByLabel('Breakpoint').fill("e.type === 'RefundIssued'");
    await replay.getByRole('button', { name: 'Run' }).click();
    await expect
      .poll(() => page.getByTestId('replay-status').textContent(), { timeout: 20_000 })
      .toMatch(/^paused/);
    expect(await page.getByTestId('replay-next').textContent()).toContain('RefundIssued');
    const before = (await page.getByTestId('replay-status').textContent())!;
    await replay.getByRole('button', { name: 'Step' }).click();
    await expect.poll(() => page.getByTestId('replay-status').textContent()).not.toBe(before);
    await expect.poll(() => replay.getByTestId('state-tree').textContent()).toContain('refunds: 1');
    await page.screenshot({ path: join(shots, 'e2e-replay.png') });
    await replay.getByRole('button', { name: 'Resume' }).click();
    // The second (planted, duplicate) refund stops at the breakpoint again.
    await expect
      .poll(() => page.getByTestId('replay-next').textContent(), { timeout: 20_000 })
      .toContain('RefundIssued');
    await replay.getByRole('button', { name: 'Resume' }).click();
    await expect
      .poll(() => page.getByTestId('replay-status').textContent(), { timeout: 20_000 })
      .toMatch(/^done/);
    expect(await replay.getByTestId('state-tree').textContent()).toContain('refunds: 2');
    await replay.getByRole('button', { name: 'close' }).click();
    await page.keyboard.press('Escape');
    await page.goto(`http://127.0.0.1:${host.port}/`);
  });

  it('folds a stream with a user projection and bisects it with a JS expression', async () => {
    const module = join(dir, 'refundCount.ts');
    writeFileSync(
      module,
      `export const name = 'refund-count';
export const init = () => ({ refunds: 0 });
export function apply(s: { refunds: number }, e: { type: string }) {
  return { refunds: s.refunds + (e.type === 'RefundIssued' ? 1 : 0) };
}\n`,
    );
    await page.goto(`http://127.0.0.1:${host.port}/?stream=${encodeURIComponent(planted.stream)}`);
    await expect.poll(() => rows().count()).toBeGreaterThan(3);
    await rows().last().locator('.cell.seq').click();
    await page.getByRole('button', { name: 'State here' }).click();
    await page.getByLabel('Projection module').fill(module);
    await page.getByRole('button', { name: 'Fold' }).click();
    await expect
      .poll(() => page.getByTestId('state-meta').textContent(), { timeout: 20_000 })
      .toContain('refund-count');
    expect(await page.getByTestId('state-tree').first().textContent()).toContain('refunds: 2');
    await page.getByRole('button', { name: 'Bisect…' }).click();
    const dialog = page.getByTestId('bisect-dialog');
    await dialog.getByLabel('Condition').fill('state.refunds >= 2');
    await dialog.getByLabel(/JS expression/).check();
    await dialog.getByLabel(/this stream/).check();
    await dialog.getByRole('button', { name: 'Run bisect' }).click();
    await expect
      .poll(() => page.getByTestId('bisect-id').textContent(), { timeout: 20_000 })
      .toContain(planted.eventId);
    await page.screenshot({ path: join(shots, 'e2e-projection-bisect.png') });
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.getByLabel('Projection module').fill('');
    await page.getByRole('button', { name: 'Fold' }).click();
    await page.keyboard.press('Escape');
    await page.goto(`http://127.0.0.1:${host.port}/`);
  });

  it('filters on a value when its cell is clicked', async () => {
    await expect.poll(() => rows().count()).toBeGreaterThan(10);
    const stream = (await rows().nth(3).locator('.chip').nth(1).textContent())!;
    await rows().nth(3).locator('.chip').nth(1).click();
    await expect.poll(() => page.locator('#filter-stream').inputValue()).toBe(stream);
    const streams = async () =>
      new Set(await page.locator('.scroller .row[data-seq] .cell:nth-child(4)').allTextContents());
    await expect.poll(async () => [...(await streams())]).toEqual([stream]);
    await page.getByRole('button', { name: 'Clear' }).click();
  });

  it('opens the detail of a clicked row, and moves with j/k, Enter and Esc', async () => {
    await expect.poll(() => rows().count()).toBeGreaterThan(10);
    await rows().nth(2).locator('.cell.seq').click();
    await expect.poll(() => page.getByTestId('detail').isVisible()).toBe(true);
    const seq = await selectedSeq();
    expect(await page.getByTestId('detail-json').textContent()).toContain(`"seq": ${seq}`);
    await page.screenshot({ path: join(shots, 'e2e-detail.png') });

    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('detail').count()).toBe(0);
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    expect(await selectedSeq()).toBe(seq + 2);
    await page.keyboard.press('k');
    expect(await selectedSeq()).toBe(seq + 1);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('detail-json').textContent()).toContain(`"seq": ${seq + 1}`);
    await page.keyboard.press('j');
    await expect.poll(() => page.getByTestId('detail-json').textContent()).toContain(`"seq": ${seq + 2}`);
    await page.keyboard.press('Escape');
    await page.keyboard.press('/');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('filter-q');
    await page.keyboard.press('Escape');
  });

  it('shows the correlation/causation chain of an event', async () => {
    await page.locator('#filter-correlation').fill('');
    const withCorrelation = await store.query({ types: [commonType] }, { limit: 50 });
    const e = withCorrelation.events.find((x) => x.correlationId)!;
    expect(e).toBeDefined();
    await page.goto(`http://127.0.0.1:${host.port}/?stream=${encodeURIComponent(e.stream)}`);
    await page.locator(`.row[data-seq="${e.seq}"] .cell.seq`).click();
    await page.getByRole('button', { name: 'Show chain' }).click();
    await expect.poll(() => page.getByTestId('chain').isVisible()).toBe(true);
    expect(await page.getByTestId('chain').textContent()).toContain(`#${e.seq}`);
    await page.screenshot({ path: join(shots, 'e2e-chain.png') });
    await page.keyboard.press('Escape');
  });

  it('renders hostile event content as text: no script runs, no image element appears', async () => {
    await page.goto(`http://127.0.0.1:${host.port}/?type=XssProbe`);
    await expect.poll(() => rows().count()).toBe(1);
    expect(await rows().first().textContent()).toContain('<b>mallory</b>');
    await rows().first().locator('.cell.seq').click();
    const json = (await page.getByTestId('detail-json').textContent())!;
    expect(json).toContain('<script>window.__pwned');
    expect(json).toContain('<img src=x onerror=');
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('#root script, #root b').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(dialogs).toEqual([]);
    await page.screenshot({ path: join(shots, 'e2e-xss.png') });
  });

  it('follows an external JSONL file the test appends to, with its quarantined line shown', async () => {
    const log = join(dir, 'external.jsonl');
    const ext = (n: number) => `${JSON.stringify({ stream: 'Ext-1', type: 'ExternalLine', data: { n } })}\n`;
    writeFileSync(log, `${ext(1)}{broken json\n`);
    await page.goto(`http://127.0.0.1:${host.port}/?type=ExternalLine`);
    await page.getByRole('button', { name: 'Sources…' }).click();
    const dialog = page.getByTestId('sources-dialog');
    await dialog.getByLabel('Path of a JSONL file or folder').fill(log);
    await dialog.getByRole('button', { name: 'Follow live' }).click();
    await expect.poll(() => dialog.getByTestId('follows').textContent()).toContain('external.jsonl');
    await expect.poll(() => dialog.getByTestId('quarantine').textContent()).toContain('external.jsonl:2');
    expect(await dialog.getByTestId('quarantine').textContent()).toContain('invalid JSON');
    appendFileSync(log, ext(2) + ext(3));
    await expect
      .poll(() => dialog.getByTestId('follows').textContent())
      .toMatch(/external\.jsonl.*\(native\)43/);
    await page.screenshot({ path: join(shots, 'e2e-sources.png') });
    await page.keyboard.press('Escape');
    await expect.poll(() => rows().count()).toBe(3);
    await page.getByLabel('Live tail').uncheck();
  });

  it('shows health: status, storage by tier and latency bars per operation', async () => {
    await page.goto(`http://127.0.0.1:${host.port}/`);
    await page.getByRole('button', { name: 'Health' }).click();
    const dialog = page.getByTestId('health');
    await expect.poll(() => page.getByTestId('health-status').textContent()).toBe('ok');
    await expect.poll(() => dialog.locator('svg[aria-label$="latency"]').count()).toBeGreaterThan(1);
    expect(await dialog.textContent()).toContain('sealed');
    await page.screenshot({ path: join(shots, 'e2e-health.png') });
    await page.keyboard.press('Escape');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('opens another store folder from the app and lists it among the recent stores', async () => {
    const { Workspace } = await import('../../src/main/host/workspace');
    const { parseConfig } = await import('../../src/main/engine/config');
    for (const [name, n] of [
      ['one', 2],
      ['two', 5],
    ] as const) {
      const s = await FileStore.open(join(dir, name), {});
      await s.append(Array.from({ length: n }, (_, i) => ({ stream: `${name}-${i}`, type: 'Made' })));
      await s.close();
    }
    const ws = await Workspace.open(join(dir, 'one'), {
      config: parseConfig({}),
      recentFile: join(dir, 'recent.json'),
    });
    const second = await startWebHost({
      workspace: ws,
      rendererDir: join(root, 'out', 'renderer'),
      log: () => {},
    });
    const p2 = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await p2.goto(second.url);
      await expect.poll(() => p2.getByTestId('stat-events').textContent()).toBe('2');
      await p2.getByRole('button', { name: 'Sources…' }).click();
      await p2.getByLabel('Store folder').fill(join(dir, 'two'));
      await p2.getByRole('button', { name: 'Open store' }).click();
      await expect.poll(() => p2.getByTestId('stat-events').textContent()).toBe('5');
      await p2.getByRole('button', { name: 'Sources…' }).click();
      await expect.poll(() => p2.getByTestId('recent-stores').textContent()).toContain(join(dir, 'one'));
      await p2.screenshot({ path: join(shots, 'e2e-stores.png') });
      await p2.getByTestId('recent-stores').getByRole('button', { name: 'open' }).click();
      await expect.poll(() => p2.getByTestId('stat-events').textContent()).toBe('2');
    } finally {
      await p2.close();
      await second.close();
      await ws.close();
    }
  });

  it('follows new events with the live tail', async () => {
    await page.goto(`http://127.0.0.1:${host.port}/?type=TailProbe`);
    await expect.poll(() => page.locator('.empty').isVisible()).toBe(true);
    await page.getByLabel('Live tail').check();
    await new Promise((r) => setTimeout(r, 300));
    const { lastSeq } = await store.append([
      { stream: 'Tail-1', type: 'TailProbe', data: { n: 1 } },
      { stream: 'Tail-1', type: 'TailProbe', data: { n: 2 } },
    ]);
    await expect.poll(() => rows().count()).toBe(2);
    expect(await rows().last().getAttribute('data-seq')).toBe(String(lastSeq));
    await page.screenshot({ path: join(shots, 'e2e-tail.png') });
    await page.getByLabel('Live tail').uncheck();
  });
});
