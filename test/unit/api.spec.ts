import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { API_METHODS, type ApiMethod, type ApiResult } from '../../src/shared/api';
import { IPC_CHANNEL } from '../../src/shared/ipc';
import { createApi, type Api } from '../../src/main/api/handlers';
import { bindIpc } from '../../src/main/api/bindIpc';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';
import type { EventStore } from '../../src/main/engine/types';

function expectError(r: ApiResult<unknown>, code: string): { message: string; details?: unknown } {
  if (r.ok) throw new Error(`expected ${code}, got ok: ${JSON.stringify(r.value).slice(0, 200)}`);
  expect(r.error.code).toBe(code);
  return r.error;
}
function value<T>(r: ApiResult<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

/** One bad input per method: each must come back as INVALID_ARGUMENT naming the field. */
const badInputs: Record<ApiMethod, unknown[]> = {
  stats: [{ extra: 1 }, 'nope', [1]],
  query: [
    { filter: { types: 'Order' } },
    { filter: { bogus: 1 } },
    { options: { limit: 0 } },
    { options: { limit: 1e9 } },
    { filter: { since: 'yesterday' } },
    { filter: { where: [{ path: 'x', op: 'like' }] } },
  ],
  histogram: [{ buckets: 0 }, { buckets: 1.5 }, { filter: { since: 'x' } }, { bogus: 1 }],
  getEvent: [{}, { id: 'a', seq: 1 }, { seq: 0 }, { seq: 1.5 }, { id: 5 }],
  readStream: [{}, { stream: '' }, { stream: 's', fromVersion: 0 }, { stream: 's', limit: 100_000 }],
  chain: [{}, { id: '' }, { id: 'a', seq: 2 }, { seq: -1 }],
  metrics: [{ x: 1 }],
  health: [{ x: 1 }],
  verify: [{ deep: true }],
  append: [{}, { events: [] }, { events: 'x' }, { events: [{ stream: 's' }] }, { events: [{ type: 't' }] }],
  stateAt: [{ at: { seq: -1 } }, { at: { bogus: 1 } }, { stream: '' }, { jobId: 'has space' }],
  diff: [{}, { from: { seq: 1 } }, { from: { seq: 1 }, to: { seq: 1.5 } }],
  bisect: [{}, { where: '' }, { where: 'x > 1', stream: 'a', streams: 'b*' }, { where: 'x', verify: 'yes' }],
  cancelJob: [{}, { job: '' }, { jobId: 'x' }],
  follow: [{}, { path: 'relative/file.jsonl' }, { path: '/tmp/a\0b' }, { path: '/tmp/x', format: 'xml' }],
  unfollow: [{}, { id: 5 }],
  follows: [{ x: 1 }],
  importFiles: [{}, { paths: [] }, { paths: ['rel.jsonl'] }, { paths: ['/a'], format: 'csv' }],
  replayStart: [
    {},
    { module: 'rel.ts' },
    { module: '/m.ts', speed: 0 },
    { module: '/m.ts', breakpoints: [{ x: 1 }] },
  ],
  replayControl: [{}, { id: 'r', action: 'jump' }],
  replayStatus: [{}, { id: 7 }],
  openStore: [{}, { path: 'relative' }, { path: '/x', readOnly: 'yes' }],
  recentStores: [{ x: 1 }],
};

function suite(name: string, open: () => Promise<{ store: EventStore; cleanup(): Promise<void> }>): void {
  describe(`API over ${name}`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;
    let api: Api;

    beforeEach(async () => {
      ({ store, cleanup } = await open());
      api = createApi(store);
    });
    afterEach(async () => cleanup());

    it.each(API_METHODS)('%s rejects every malformed input with INVALID_ARGUMENT', async (method) => {
      expect(badInputs[method].length).toBeGreaterThan(0);
      for (const bad of badInputs[method]) {
        const err = expectError(await api.dispatch(method, bad), 'INVALID_ARGUMENT');
        expect(err.message).toMatch(/params/);
      }
    });

    it('rejects unknown and prototype method names without reaching a handler', async () => {
      for (const m of ['nope', '__proto__', 'constructor', 'toString', 42, null])
        expectError(await api.dispatch(m, {}), 'INVALID_ARGUMENT');
    });

    it('appends, queries by filter and pages by cursor', async () => {
      const events = Array.from({ length: 25 }, (_, i) => ({
        stream: `Order-${i % 5}`,
        type: i % 2 ? 'OrderPaid' : 'OrderPlaced',
        data: { n: i },
        actor: 'alice',
      }));
      const appended = value(await api.call('append', { events }));
      expect(appended.appended).toBe(25);
      expect(appended.lastSeq).toBe(25);

      const first = value(
        await api.call('query', { filter: { types: ['OrderPaid'] }, options: { limit: 5 } }),
      );
      expect(first.events.map((e) => e.seq)).toEqual([2, 4, 6, 8, 10]);
      expect(first.nextCursor).toBeDefined();
      const second = value(
        await api.call('query', {
          filter: { types: ['OrderPaid'] },
          options: { limit: 5, cursor: first.nextCursor },
        }),
      );
      expect(second.events[0]!.seq).toBe(12);

      const where = value(
        await api.call('query', { filter: { where: [{ path: 'n', op: 'gte', value: 20 }] } }),
      );
      expect(where.events.map((e) => e.seq)).toEqual([21, 22, 23, 24, 25]);
    });

    it('gets an event by id or seq and reports NOT_FOUND for a missing one', async () => {
      const { events } = value(await api.call('append', { events: [{ stream: 's', type: 't', data: {} }] }));
      const byId = value(await api.call('getEvent', { id: events[0]!.id }));
      expect(byId.seq).toBe(1);
      expect(value(await api.call('getEvent', { seq: 1 })).id).toBe(events[0]!.id);
      expectError(await api.call('getEvent', { seq: 99 }), 'NOT_FOUND');
      expectError(await api.call('getEvent', { id: 'missing' }), 'NOT_FOUND');
    });

    it('reads a stream in pages and says whether more follow', async () => {
      const events = Array.from({ length: 7 }, () => ({ stream: 'Cart-1', type: 'ItemAdded' }));
      value(await api.call('append', { events }));
      const p1 = value(await api.call('readStream', { stream: 'Cart-1', limit: 3 }));
      expect(p1.events.map((e) => e.version)).toEqual([1, 2, 3]);
      expect(p1.hasMore).toBe(true);
      const p3 = value(await api.call('readStream', { stream: 'Cart-1', fromVersion: 7, limit: 3 }));
      expect(p3.events.map((e) => e.version)).toEqual([7]);
      expect(p3.hasMore).toBe(false);
      const bounded = value(await api.call('readStream', { stream: 'Cart-1', toVersion: 2 }));
      expect(bounded).toMatchObject({ hasMore: false });
      expect(bounded.events).toHaveLength(2);
    });

    it('builds the correlation and causation chain of an event', async () => {
      const ids = ['e-root', 'e-mid', 'e-leaf', 'e-other'];
      value(
        await api.call('append', {
          events: [
            { id: ids[0], stream: 'A', type: 'Started', correlationId: 'c1' },
            { id: 'noise', stream: 'Z', type: 'Noise', correlationId: 'c2' },
            { id: ids[1], stream: 'B', type: 'Reacted', correlationId: 'c1', causationId: ids[0] },
            { id: ids[2], stream: 'C', type: 'Finished', correlationId: 'c1', causationId: ids[1] },
            { id: ids[3], stream: 'D', type: 'Orphan', correlationId: 'c3', causationId: 'gone' },
          ],
        }),
      );
      const chain = value(await api.call('chain', { id: 'e-leaf' }));
      expect(chain.correlated.map((e) => e.id)).toEqual(['e-root', 'e-mid', 'e-leaf']);
      expect(chain.ancestors.map((e) => e.id)).toEqual(['e-mid', 'e-root']);
      expect(chain.truncated).toBe(false);
      const mid = value(await api.call('chain', { seq: 3 }));
      expect(mid.children.map((e) => e.id)).toEqual(['e-leaf']);
      const orphan = value(await api.call('chain', { id: 'e-other' }));
      expect(orphan.missingCause).toBe('gone');
      expectError(await api.call('chain', { id: 'nope' }), 'NOT_FOUND');
    });

    it('reports stats, metrics and health', async () => {
      value(await api.call('append', { events: [{ stream: 's', type: 't' }] }));
      const stats = value(await api.call('stats', {}));
      expect(stats).toMatchObject({ backend: name, events: 1, streams: 1, lastSeq: 1 });
      const metrics = value(await api.call('metrics', {}));
      expect(metrics.backend).toBe(name);
      expect(metrics.latency.append?.count).toBeGreaterThan(0);
      expect(metrics.storage).toEqual(stats.storage);
      expect(value(await api.call('health', {}))).toMatchObject({ status: 'ok', lastSeq: 1, problems: [] });
      expect(value(await api.call('verify', {}))).toMatchObject({ ok: true, issues: [] });
    });

    it('returns a histogram of the filter over time', async () => {
      const times = ['2026-01-01T00:00:00Z', '2026-01-01T00:00:30Z', '2026-01-02T00:00:00Z'];
      value(
        await api.call('append', {
          events: times.map((time, i) => ({ stream: 's', type: i ? 'B' : 'A', time })),
        }),
      );
      const h = value(await api.call('histogram', { buckets: 2 }));
      expect(h.counts).toEqual([2, 1]);
      expect(h.total).toBe(3);
      expect(value(await api.call('histogram', { filter: { types: ['B'] }, buckets: 2 })).total).toBe(2);
    });

    it('passes engine errors through as typed codes', async () => {
      value(await api.call('append', { events: [{ stream: 'S', type: 't' }] }));
      expectError(
        await api.call('append', { events: [{ stream: 'S', type: 't' }], expectedVersion: 0 }),
        'CONCURRENCY_CONFLICT',
      );
      expectError(await api.call('query', { options: { cursor: '!!' } }), 'INVALID_ARGUMENT');
    });

    it('folds the state at a position, diffs two positions and bisects to the flipping event', async () => {
      const pay = (amount: number) => ({ stream: 'Order-1', type: 'Paid', data: { total: amount } });
      value(
        await api.call('append', {
          events: [pay(10), { stream: 'Other', type: 'Noise' }, pay(5), pay(-3), pay(-4)],
        }),
      );
      const s = value(await api.call('stateAt', { stream: 'Order-1', at: { seq: 3 } }));
      expect(s).toMatchObject({ scope: 'stream', stream: 'Order-1', position: { seq: 3, version: 2 } });
      expect(s.state).toMatchObject({ total: 5, $version: 2 });
      const g = value(await api.call('stateAt', { at: { seq: 2 } }));
      expect(g.state).toMatchObject({ events: 2, counts: { Paid: 1, Noise: 1 } });

      const d = value(await api.call('diff', { stream: 'Order-1', from: { seq: 3 }, to: { seq: 4 } }));
      expect(d.entries).toContainEqual({ path: ['total'], kind: 'changed', before: 5, after: -3 });

      const b = value(await api.call('bisect', { streams: 'Order-*', where: 'total < 0' }));
      expect(b).toMatchObject({ found: true, seq: 4, stream: 'Order-1', where: 'total < 0' });
      expect(b.event?.data).toEqual({ total: -3 });
      const one = value(await api.call('bisect', { stream: 'Order-1', where: 'total < 0' }));
      expect(one).toMatchObject({ found: true, seq: 4, version: 3, monotone: true });
      const none = value(await api.call('bisect', { where: 'counts.Refund > 0' }));
      expect(none.found).toBe(false);
      expectError(await api.call('bisect', { where: 'total <<< 0' }), 'INVALID_ARGUMENT');
      expectError(await api.call('stateAt', { at: { version: 1 } }), 'INVALID_ARGUMENT');
    });

    it('folds, diffs and bisects with a user projection module, reloading it when it changes', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'chronoscope-api-proj-'));
      try {
        const amounts = [10, 5, -20, 3];
        value(
          await api.call('append', {
            events: amounts.map((amount) => ({ stream: 'Acc-1', type: 'Moved', data: { amount } })),
          }),
        );
        const file = join(dir, 'balance.ts');
        const write = (factor: number) =>
          writeFileSync(
            file,
            `export const name = 'balance';
export const init = () => ({ balance: 0 });
export function apply(s: { balance: number }, e: { data: { amount: number } }) { return { balance: s.balance + ${factor} * e.data.amount }; }\n`,
          );
        write(1);
        const s = value(await api.call('stateAt', { stream: 'Acc-1', at: { seq: 2 }, projection: file }));
        expect(s).toMatchObject({ projection: 'balance', state: { balance: 15 } });
        const d = value(
          await api.call('diff', { stream: 'Acc-1', from: { seq: 2 }, to: { seq: 3 }, projection: file }),
        );
        expect(d.entries).toEqual([{ path: ['balance'], kind: 'changed', before: 15, after: -5 }]);
        const b = value(
          await api.call('bisect', {
            stream: 'Acc-1',
            where: 'state.balance < 0',
            language: 'js',
            projection: file,
          }),
        );
        expect(b).toMatchObject({ found: true, seq: 3 });
        expectError(await api.call('stateAt', { at: {}, projection: file }), 'INVALID_ARGUMENT'); // per stream
        write(2);
        await vi.waitFor(
          async () =>
            expect(
              value(await api.call('stateAt', { stream: 'Acc-1', at: { seq: 2 }, projection: file })).state,
            ).toEqual({ balance: 30 }),
          { timeout: 8000 },
        );
      } finally {
        await api.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('reports progress of a job and cancels it by id', async () => {
      const events = Array.from({ length: 3000 }, (_, i) => ({ stream: `S-${i % 50}`, type: 'T' }));
      value(await api.call('append', { events }));
      const updates: string[] = [];
      api.jobs.on((u) => updates.push(`${u.jobId}:${u.state}`));
      value(await api.call('stateAt', { at: {}, jobId: 'fold-1' }));
      expect(updates).toContain('fold-1:running');
      expect(updates.at(-1)).toBe('fold-1:done');

      // Cancel as soon as the job is registered: the fold checks its signal between pages.
      const off = api.jobs.on((u) => {
        if (u.jobId === 'fold-2' && u.state === 'running') void api.call('cancelJob', { job: 'fold-2' });
      });
      expectError(await api.call('bisect', { where: 'events > 1000000', jobId: 'fold-2' }), 'CANCELLED');
      off();
      expect(updates.at(-1)).toBe('fold-2:cancelled');
      expect(value(await api.call('cancelJob', { job: 'fold-2' }))).toEqual({ cancelled: false });
    });

    it('follows an external JSONL file into the store, lists it with its quarantine, and imports one', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'chronoscope-api-follow-'));
      try {
        const file = join(dir, 'app.jsonl');
        writeFileSync(file, '{"stream":"Ext-1","type":"Hello"}\nnot json\n');
        const f = value(await api.call('follow', { path: file }));
        expect(f).toMatchObject({ kind: 'file', files: [{ imported: 1, quarantined: 1 }] });
        expect(f.quarantine[0]).toMatchObject({ file, line: 2 });
        expectError(await api.call('follow', { path: file }), 'INVALID_ARGUMENT');
        expectError(await api.call('follow', { path: join(dir, 'missing.jsonl') }), 'NOT_FOUND');
        appendFileSync(file, '{"stream":"Ext-1","type":"Again"}\n');
        await vi.waitFor(async () => expect((await store.readStream('Ext-1')).length).toBe(2), {
          timeout: 8000,
        });
        expect(value(await api.call('follows', {}))[0]!.files[0]!.imported).toBe(2);
        expect(value(await api.call('unfollow', { id: f.id }))).toEqual({ stopped: true });
        const once = join(dir, 'once.jsonl');
        writeFileSync(once, '{"stream":"Ext-2","type":"A"}\n{"stream":"Ext-2","type":"B"}\n[]\n');
        const imported = value(await api.call('importFiles', { paths: [once], jobId: 'import-1' }));
        expect(imported).toMatchObject({ imported: 2, quarantined: 1, files: [{ format: 'native' }] });
        expect(value(await api.call('follows', {}))).toEqual([]);
      } finally {
        await api.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('replays through a user projection: breakpoint, step, back, errors answered with skip', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'chronoscope-api-replay-'));
      try {
        const events = Array.from({ length: 40 }, (_, i) => ({
          stream: `S-${i % 4}`,
          type: i === 25 ? 'Bad' : 'T',
        }));
        value(await api.call('append', { events }));
        const counts = join(dir, 'counts.mjs');
        writeFileSync(
          counts,
          `export const scope = 'global';
export const init = () => ({ n: 0 });
export function apply(s, e) { if (e.type === 'Bad') throw new Error('cannot handle Bad'); return { n: s.n + 1 }; }\n`,
        );
        const r = value(
          await api.call('replayStart', { module: counts, breakpoints: [{ expr: 'e.seq === 10' }] }),
        );
        const status = async () => value(await api.call('replayStatus', { id: r.id }));
        await vi.waitFor(async () => expect((await status()).status).toBe('paused'), { timeout: 8000 });
        expect((await status()).paused).toMatchObject({ reason: 'breakpoint', next: { seq: 10 } });
        expect((await status()).state).toEqual({ n: 9 });
        expect(value(await api.call('replayControl', { id: r.id, action: 'step' })).state).toEqual({ n: 10 });
        expect(value(await api.call('replayControl', { id: r.id, action: 'back' })).state).toEqual({ n: 9 });
        value(await api.call('replayControl', { id: r.id, action: 'resume' }));
        await vi.waitFor(async () => expect((await status()).status).toBe('error'), { timeout: 8000 });
        expect((await status()).failure).toMatchObject({
          seq: 26,
          message: expect.stringContaining('cannot handle Bad'),
        });
        value(await api.call('replayControl', { id: r.id, action: 'skip' }));
        await vi.waitFor(async () => expect((await status()).status).toBe('done'), { timeout: 8000 });
        const end = await status();
        expect(end.state).toEqual({ n: 39 });
        expect(end.result).toMatchObject({ status: 'done', skipped: [26] });
        value(await api.call('replayControl', { id: r.id, action: 'close' }));
        expectError(await api.call('replayStatus', { id: r.id }), 'NOT_FOUND');
        const missing = await api.call('replayStart', { module: join(dir, 'nope.ts') });
        expect(missing.ok).toBe(false);
      } finally {
        await api.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('reports a closed store as CLOSED, and health says closed', async () => {
      await store.close();
      expectError(await api.call('query', {}), 'CLOSED');
      expect(value(await api.call('health', {})).status).toBe('closed');
    });
  });
}

suite('memory', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

suite('file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chronoscope-api-'));
  const store = await FileStore.open(dir, {});
  return {
    store,
    cleanup: async () => {
      await store.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('API error hygiene and IPC binding', () => {
  it('turns an unexpected exception into INTERNAL without leaking its message or stack', async () => {
    const store = new MemoryStore();
    const seen: unknown[] = [];
    const api = createApi(store, { onInternalError: (e) => seen.push(e) });
    store.stats = async () => {
      throw new TypeError('secret /home/user/path at line 7');
    };
    const err = expectError(await api.call('stats', {}), 'INTERNAL');
    expect(err.message).not.toMatch(/secret|\/home|line 7/);
    expect(JSON.stringify(err)).not.toMatch(/at .*:\d+/);
    expect(seen).toHaveLength(1);
    await store.close();
  });

  it('serves dispatch on one IPC channel and validates what arrives over it', async () => {
    const store = new MemoryStore();
    const api = createApi(store);
    const handlers = new Map<string, (e: unknown, ...a: unknown[]) => unknown>();
    const unbind = bindIpc(
      { handle: (c, l) => handlers.set(c, l), removeHandler: (c) => handlers.delete(c) },
      api,
    );
    const listener = handlers.get(IPC_CHANNEL)!;
    const ok = (await listener({}, { method: 'stats', params: {} })) as ApiResult<{ events: number }>;
    expect(value(ok).events).toBe(0);
    expectError((await listener({}, 'garbage')) as ApiResult<unknown>, 'INVALID_ARGUMENT');
    expectError(
      (await listener({}, { method: 'query', params: { filter: { x: 1 } } })) as ApiResult<unknown>,
      'INVALID_ARGUMENT',
    );
    unbind();
    expect(handlers.size).toBe(0);
    await store.close();
  });
});
