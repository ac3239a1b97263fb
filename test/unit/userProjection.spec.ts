import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput, StoredEvent } from '../../src/shared/event';
import { isChronoscopeError, type ChronoscopeError } from '../../src/shared/errors';
import { parseStatePredicate, type Projection } from '../../src/shared/projection';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';
import { bisectAnyStream, bisectGlobal, bisectStream } from '../../src/main/engine/timetravel/bisect';
import { bundleModule } from '../../src/main/engine/timetravel/moduleBundle';
import { MemorySnapshotStore, snapshotKey } from '../../src/main/engine/timetravel/snapshots';
import { globalStateAt, streamStateAt } from '../../src/main/engine/timetravel/stateAt';
import { UserModule, type ReloadInfo } from '../../src/main/engine/timetravel/UserModule';
import { loadUserProjection, projectionOf } from '../../src/main/engine/timetravel/userProjection';

const FIXTURES = join(__dirname, '../fixtures/projections');
const dirs: string[] = [];
const modules: UserModule[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'chronoscope-up-'));
  dirs.push(d);
  return d;
};
const load = async (file: string, opts: Parameters<typeof UserModule.load>[1] = {}) => {
  const m = await UserModule.load(file, opts);
  modules.push(m);
  return m;
};
afterEach(async () => {
  for (const m of modules.splice(0)) await m.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const time = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
/** Order-1 is placed at 100 and refunded 30 per event (negative from its 5th event); Order-2 stays at 50. */
function orders(n = 40): EventInput[] {
  return Array.from({ length: n }, (_, i) => {
    const stream = i % 2 === 0 ? 'Order-1' : 'Order-2';
    const first = i < 2;
    const data = first
      ? { total: stream === 'Order-1' ? 100 : 50 }
      : { amount: stream === 'Order-1' ? 30 : 0 };
    return { stream, type: first ? 'OrderPlaced' : 'RefundIssued', time: time(i), data };
  });
}

/** The same reducer as fixtures/projections/orderTotals.ts, run in-process: the oracle. */
const oracle: Projection<{ total: number; events: number; lastType: string | null }> = {
  name: 'oracle',
  scope: 'stream',
  init: () => ({ total: 0, events: 0, lastType: null }),
  apply: (s, e) => {
    const d = e.data as { total?: number; amount?: number };
    const delta = e.type === 'RefundIssued' ? -(d.amount ?? 0) : (d.total ?? 0);
    return { total: Math.round(s.total * 100 + delta * 100) / 100, events: s.events + 1, lastType: e.type };
  },
};
const fold = <S>(p: Projection<S>, events: StoredEvent[]) => events.reduce((s, e) => p.apply(s, e), p.init());

function untilEvent<T>(m: UserModule, name: 'reloaded' | 'reload-failed'): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${name} event within 10 s`)), 10_000);
    m.once(name, (v: unknown) => {
      clearTimeout(t);
      resolve(v as T);
    });
  });
}

describe('user projections', () => {
  const store = new MemoryStore();
  let events: StoredEvent[] = [];
  beforeAll(async () => {
    await store.append(orders());
    events = await store.readAll(1, 1000);
  });
  afterAll(() => store.close());

  it('a TS projection with a local import folds in a worker to the same states as in-process', async () => {
    const { module, projection } = await loadUserProjection(join(FIXTURES, 'orderTotals.ts'));
    modules.push(module);
    expect(projection.name).toBe('order-totals');
    expect(projection.scope).toBe('stream');
    const o1 = events.filter((e) => e.stream === 'Order-1');
    for (const v of [0, 1, 5, 20]) {
      const r = await streamStateAt(store, 'Order-1', { version: v }, projection);
      expect(r.state).toEqual(fold(oracle, o1.slice(0, v)));
    }
    const whole = await globalStateAt(store, {}, projection, { pageSize: 7 });
    expect(whole.state).toEqual(fold(oracle, events));
    expect(whole.folded).toBe(events.length);
  });

  it('codeHash is the sha256 of the bundled code, and snapshots are keyed by it', async () => {
    const file = join(FIXTURES, 'orderTotals.ts');
    const b = await bundleModule(file);
    expect(b.inputs.sort()).toEqual([join(FIXTURES, 'lib/money.ts'), file].sort());
    const { module, projection } = await loadUserProjection(file);
    modules.push(module);
    expect(projection.codeHash).toBe(b.codeHash);
    expect(b.codeHash).toMatch(/^[0-9a-f]{64}$/);
    // The hash covers the bundled code (not the source text): recompute it from the bundle.
    const js = b.code.slice(0, b.code.lastIndexOf('\n//# sourceMappingURL='));
    expect(createHash('sha256').update(js).digest('hex')).toBe(b.codeHash);
    const snaps = new MemorySnapshotStore({ kind: 'count', every: 4 });
    const a = await streamStateAt(store, 'Order-1', {}, projection, { snapshots: snaps });
    expect(snaps.size()).toBe(5); // 20 events, a snapshot every 4
    const key = snapshotKey(projection as unknown as Projection<unknown>, 'Order-1');
    expect(key.codeHash).toBe(b.codeHash);
    const again = await streamStateAt(store, 'Order-1', {}, projection, { snapshots: snaps });
    expect(again.fromSnapshot).toBe(a.position.seq);
    expect(again.state).toEqual(a.state);
  });

  it('a JS global projection folds the whole log', async () => {
    const { module, projection } = await loadUserProjection(join(FIXTURES, 'typeCounts.mjs'));
    modules.push(module);
    expect(projection.scope).toBe('global');
    const r = await globalStateAt(store, { seq: 10 }, projection);
    expect(r.state).toEqual({ counts: { OrderPlaced: 2, RefundIssued: 8 }, events: 10 });
  });

  it('a projection that throws names the event and keeps the stack', async () => {
    const dir = tmp();
    const file = join(dir, 'throws.ts');
    writeFileSync(
      file,
      [
        'export const init = () => ({ n: 0 });',
        'function check(seq: number) {',
        "  if (seq === 7) throw new RangeError('seq seven is cursed');",
        '}',
        'export function apply(s: { n: number }, e: { seq: number }) {',
        '  check(e.seq);',
        '  return { n: s.n + 1 };',
        '}',
      ].join('\n'),
    );
    const { module, projection } = await loadUserProjection(file);
    modules.push(module);
    const err = (await globalStateAt(store, {}, projection).catch((e) => e)) as ChronoscopeError;
    expect(isChronoscopeError(err, 'INVALID_ARGUMENT')).toBe(true);
    const e7 = events[6]!;
    expect(err.message).toContain(`threw at seq 7 (${e7.type} ${e7.stream} v${e7.version}, id ${e7.id})`);
    expect(err.message).toContain('seq seven is cursed');
    expect(err.details).toMatchObject({ seq: 7, eventId: e7.id, stream: e7.stream, type: e7.type });
    // The stack points into the user's own TS file (source-mapped), at the throwing line.
    expect(String(err.details!.stack)).toMatch(new RegExp(`at check \\(${file.replace(/[/.]/g, '\\$&')}:3:`));
  });

  it('an infinite loop is stopped by the batch timeout, named, and the worker restarts', async () => {
    const dir = tmp();
    const file = join(dir, 'loops.mjs');
    writeFileSync(
      file,
      'export const init = () => 0;\nexport function apply(s, e) { while (e.seq === 5) {} return s + 1; }\n',
    );
    const { module, projection } = await loadUserProjection(file, { timeoutMs: 300 });
    modules.push(module);
    // Returning at all is the proof: without the timeout the fold never comes back.
    const err = (await globalStateAt(store, {}, projection).catch((e) => e)) as ChronoscopeError;
    expect(err.message).toMatch(
      /did not finish within 300 ms at seq 5 .*infinite loop\? The worker was restarted/,
    );
    expect(err.details).toMatchObject({ reason: 'timeout', seq: 5 });
    // A fresh worker with the same code serves the next call.
    expect((await globalStateAt(store, { seq: 4 }, projection)).state).toBe(4);
  });

  it('bad modules are refused with the file (and line) named', async () => {
    const dir = tmp();
    const noApply = join(dir, 'noApply.mjs');
    writeFileSync(noApply, 'export const init = () => 0;\n');
    await expect(UserModule.load(noApply)).rejects.toThrow(
      `${noApply}: a projection module must export init() and apply(state, event) (found: init())`,
    );
    const broken = join(dir, 'broken.ts');
    writeFileSync(broken, 'export const init = () => 0;\nexport function apply(s, e) { return s +; }\n');
    const err = (await UserModule.load(broken).catch((e) => e)) as ChronoscopeError;
    expect(err.message).toMatch(/broken\.ts:2:\d+: /);
    expect(err.details).toMatchObject({ file: broken, line: 2 });
    await expect(UserModule.load(join(dir, 'missing.ts'))).rejects.toThrow(/missing\.ts: no such file/);
    const nonJson = join(dir, 'nonJson.mjs');
    writeFileSync(nonJson, 'export const init = () => 0;\nexport const apply = () => undefined;\n');
    const { module, projection } = await loadUserProjection(nonJson);
    modules.push(module);
    await expect(globalStateAt(store, {}, projection)).rejects.toThrow(
      /threw at seq 1 .*apply\(\) returned undefined: return the state/,
    );
  });

  it('hot reload swaps the code on a change to the module or an import, and keeps the old code on a compile error', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'lib'));
    const file = join(dir, 'proj.ts');
    const lib = join(dir, 'lib/weight.ts');
    writeFileSync(lib, 'export const weight = 1;\n');
    writeFileSync(
      file,
      "import { weight } from './lib/weight';\nexport const scope = 'global';\nexport const init = () => 0;\nexport const apply = (s: number) => s + weight;\n",
    );
    const m = await load(file, { kind: 'projection', watch: true });
    const p = projectionOf<number>(m);
    expect((await globalStateAt(store, { seq: 10 }, p)).state).toBe(10);
    const h1 = p.codeHash;

    let reloaded = untilEvent<ReloadInfo>(m, 'reloaded');
    writeFileSync(lib, 'export const weight = 3;\n'); // an imported file, not the module itself
    const info = await reloaded;
    expect(info).toMatchObject({ file, previousHash: h1 });
    expect(p.codeHash).toBe(info.codeHash);
    expect(p.codeHash).not.toBe(h1);
    expect((await globalStateAt(store, { seq: 10 }, p)).state).toBe(30);

    const failed = untilEvent<ChronoscopeError>(m, 'reload-failed');
    writeFileSync(file, 'export const init = () => 0;\nexport const apply = (s: number) => s +;\n');
    const err = await failed;
    expect(err.message).toMatch(/proj\.ts:2:\d+:/);
    expect(p.codeHash).toBe(info.codeHash); // the old code still runs
    expect((await globalStateAt(store, { seq: 10 }, p)).state).toBe(30);

    reloaded = untilEvent<ReloadInfo>(m, 'reloaded');
    writeFileSync(
      file,
      "export const scope = 'global';\nexport const init = () => 100;\nexport const apply = (s: number) => s - 1;\n",
    );
    await reloaded;
    expect(m.inputs).toEqual([file]); // the import is gone, so is its watch
    expect((await globalStateAt(store, { seq: 10 }, p)).state).toBe(90);
  });

  it('snapshots of the old code are not used after a reload', async () => {
    const dir = tmp();
    const file = join(dir, 'proj.mjs');
    copyFileSync(join(FIXTURES, 'typeCounts.mjs'), file);
    const m = await load(file, { kind: 'projection', watch: true });
    const p = projectionOf<{ events: number }>(m);
    const snaps = new MemorySnapshotStore({ kind: 'count', every: 5 });
    await globalStateAt(store, {}, p, { snapshots: snaps });
    const reloaded = untilEvent<ReloadInfo>(m, 'reloaded');
    writeFileSync(
      file,
      "export const scope = 'global';\nexport const init = () => ({ events: 1000 });\nexport const apply = (s) => ({ events: s.events + 1 });\n",
    );
    await reloaded;
    const r = await globalStateAt(store, { seq: 20 }, p, { snapshots: snaps });
    expect(r.fromSnapshot).toBeUndefined();
    expect(r.state).toEqual({ events: 1020 });
  });

  it('bisect with a user projection finds what the in-process reducer finds', async () => {
    const { module, projection } = await loadUserProjection<{ total: number }>(
      join(FIXTURES, 'orderTotals.ts'),
    );
    modules.push(module);
    const pred = parseStatePredicate('total < 0');
    const user = await bisectStream(store, 'Order-1', pred, { projection });
    const builtin = await bisectStream(store, 'Order-1', pred, { projection: oracle });
    expect(user.found).toBe(true);
    expect(user.version).toBe(5); // 100 - 4 × 30 = -20
    expect({ ...user, notes: [] }).toEqual({ ...builtin, notes: [] });
    expect(user.monotone).toBe(true);

    const any = await bisectAnyStream(store, { streamPrefix: 'Order-' }, pred, { projection, pageSize: 6 });
    expect(any.event?.seq).toBe(user.event?.seq);
    expect(any.stateBefore).toEqual({ total: 10, events: 4, lastType: 'RefundIssued' });

    const g = await loadUserProjection<{ events: number }>(join(FIXTURES, 'typeCounts.mjs'));
    modules.push(g.module);
    const global = await bisectGlobal(store, (s) => s.events >= 13, {
      projection: g.projection,
      verify: true,
    });
    expect(global).toMatchObject({ found: true, seq: 13, monotone: true });
  });
});
