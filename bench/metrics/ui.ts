import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { startWebHost, type WebHost } from '../../src/main/host/web';
import type { RunContext } from '../context';
import { waitForQuiet, type Quiet } from '../quiet';
import { errorCell } from '../rows';
import { summarise } from '../stats';
import { ensureRendererBuilt, RENDERER_DIR } from '../../test/support/rendererBuild';

export const UI_ROWS = ['ui-filter-first-rows', 'ui-scroll-frame'] as const;

const CHROMIUM = '/usr/bin/chromium';
const RENDERER = RENDERER_DIR;
const FILTER_RUNS = 12;
const SCROLL_FRAMES = 600;

/**
 * Filter → first rows, measured inside the page: from submitting the filter bar to the frame in
 * which the list shows a row of the new type (fetch, React render and layout included). The page
 * scripts are strings because this file is type-checked without the DOM library.
 */
const FILTER_SCRIPT = `(want) => new Promise((resolve, reject) => {
  const form = document.querySelector('form.filters');
  if (!form) return reject(new Error('no filter form'));
  const t0 = performance.now();
  form.requestSubmit();
  const check = () => {
    const cell = document.querySelector('.scroller .row[data-seq] .cell:nth-child(3)');
    if (cell && cell.textContent === want) return resolve(performance.now() - t0);
    if (performance.now() - t0 > 30000) return reject(new Error('no ' + want + ' row after 30 s'));
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})`;

/**
 * Frame times while the list scrolls steadily (~85 rows a frame: pages are fetched while scrolling).
 * A frame's time is the step between the timestamps requestAnimationFrame passes, which are the
 * frames' start times: a dropped frame shows as ~33 ms. The gaps between the callbacks' own
 * performance.now() are kept too, but they also count jitter (a callback that starts 2 ms later than
 * the one before reads 18.7 ms though no frame was missed), which is what this row measured before.
 */
const SCROLL_SCRIPT = `(frames) => new Promise((resolve) => {
  const el = document.querySelector('[data-testid=event-list]');
  const stamps = [];
  const callbacks = [];
  let lastStamp = -1;
  let last = performance.now();
  let n = 0;
  const step = (stamp) => {
    const now = performance.now();
    callbacks.push(now - last);
    last = now;
    if (lastStamp >= 0) stamps.push(stamp - lastStamp);
    lastStamp = stamp;
    el.scrollTop += 2400;
    if (++n < frames) requestAnimationFrame(step);
    // the first frames include the start of the loop
    else resolve({ frames: stamps.slice(1), callbacks: callbacks.slice(2) });
  };
  requestAnimationFrame(step);
})`;

/** A collection of the harness's garbage, then a quiet machine (see waitForQuiet), logged. */
async function settle(ctx: RunContext): Promise<Quiet> {
  (globalThis as { gc?: () => void }).gc?.();
  const q = await waitForQuiet();
  const busy = Number.isNaN(q.busy) ? 'unknown' : `${(100 * q.busy).toFixed(0)} %`;
  ctx.log(
    `ui: ${q.quiet ? 'quiet' : 'still busy'} after ${(q.waitedMs / 1000).toFixed(1)} s (CPUs ${busy} busy)`,
  );
  return q;
}

async function filterToFirstRows(page: Page, type: string): Promise<number> {
  await page.locator('#filter-type').fill(type);
  return page.evaluate(`(${FILTER_SCRIPT})(${JSON.stringify(type)})`) as Promise<number>;
}

async function scrollFrames(page: Page): Promise<{ frames: number[]; callbacks: number[] }> {
  return page.evaluate(`(${SCROLL_SCRIPT})(${SCROLL_FRAMES})`) as Promise<{
    frames: number[];
    callbacks: number[];
  }>;
}

/** The UI rows of #4's goals: the renderer in Debian's Chromium against the web host on the bench store. */
export async function uiRows(ctx: RunContext, dir: string, types: readonly string[]): Promise<void> {
  const keys = UI_ROWS.filter((k) => ctx.wants(k));
  if (keys.length === 0) return;
  const na = (why: string) => keys.forEach((k) => ctx.table.set(k, 'ours', { na: why }));
  if (!existsSync(CHROMIUM)) return na(`${CHROMIUM} missing (apt-get install chromium)`);
  const built = ensureRendererBuilt((m) => ctx.log(`ui: ${m}`));
  if (!built.ok) return na(`renderer build failed: ${built.output.split('\n')[0]}`);
  let store: FileStore | undefined;
  let host: WebHost | undefined;
  let browser: Browser | undefined;
  try {
    store = await FileStore.open(dir, { readOnly: true });
    host = await startWebHost({ store, rendererDir: RENDERER, log: () => {} });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    await page.goto(host.url);
    await page.waitForSelector('.scroller .row[data-seq]').catch((err: Error) => {
      throw new Error(`${err.message.split('\n')[0]} (page errors: ${pageErrors.join('; ') || 'none'})`);
    });

    if (ctx.wants('ui-filter-first-rows')) {
      await settle(ctx);
      const runs: number[] = [];
      for (let i = 0; i < FILTER_RUNS; i++)
        runs.push(await filterToFirstRows(page, types[i % types.length]!));
      const s = summarise(runs);
      ctx.table.set('ui-filter-first-rows', 'ours', { value: s.p50, details: { ...s, runs } });
      ctx.log(`ui-filter-first-rows: p50 ${s.p50.toFixed(0)} ms, max ${s.max.toFixed(0)} ms`);
    }
    if (ctx.wants('ui-scroll-frame')) {
      await page.goto(`${new URL(host.url).origin}/`); // no filter: the dense list of every event
      await page.waitForSelector('.scroller .row[data-seq]');
      const quiet = await settle(ctx);
      const { frames, callbacks } = await scrollFrames(page);
      const s = summarise(frames);
      const fps = 1000 / s.mean;
      // A step longer than one and a half frames is a frame that was not drawn in time.
      const droppedPct = (100 * frames.filter((f) => f > 1.5 * s.p50).length) / frames.length;
      const cb = summarise(callbacks);
      ctx.table.set('ui-scroll-frame', 'ours', {
        value: droppedPct,
        details: {
          frameTimes: s,
          fps,
          frames: frames.length,
          droppedPct,
          callbackIntervals: cb,
          quiet,
          note: 'headless Chromium, software rendering; frame times from requestAnimationFrame timestamps',
        },
      });
      ctx.log(
        `ui-scroll-frame: ${droppedPct.toFixed(1)} % of ${frames.length} frames dropped; frame time p95 ${s.p95.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, ${fps.toFixed(0)} fps mean (callback gaps p95 ${cb.p95.toFixed(1)} ms)`,
      );
    }
  } catch (err) {
    for (const k of keys) ctx.table.set(k, 'ours', errorCell(err));
  } finally {
    await browser?.close().catch(() => {});
    await host?.close().catch(() => {});
    await store?.close().catch(() => {});
  }
}
