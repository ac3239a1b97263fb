import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiResult } from '../../src/shared/api';
import { createApi } from '../../src/main/api/handlers';
import { parseConfig } from '../../src/main/engine/config';
import { FileStore } from '../../src/main/engine/file/FileStore';
import { MemoryStore } from '../../src/main/engine/memory/MemoryStore';
import { startWebHost } from '../../src/main/host/web';
import { Workspace } from '../../src/main/host/workspace';

function value<T>(r: ApiResult<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

describe('a workspace switches the open store', () => {
  let dir: string;
  let ws: Workspace | undefined;
  const recentFile = () => join(dir, 'state', 'recent-stores.json');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronoscope-ws-'));
    for (const name of ['a', 'b']) {
      const s = await FileStore.open(join(dir, name), {});
      await s.append([
        { stream: `${name}-1`, type: 'Made' },
        ...(name === 'b' ? [{ stream: 'b-2', type: 'Made' }] : []),
      ]);
      await s.close();
    }
  });
  afterEach(async () => {
    await ws?.close();
    ws = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens another store through the API, answers from it, and releases the old one', async () => {
    ws = await Workspace.open(join(dir, 'a'), { config: parseConfig({}), recentFile: recentFile() });
    expect(value(await ws.api.call('stats', {})).events).toBe(1);
    const opened = value(await ws.api.call('openStore', { path: join(dir, 'b') }));
    expect(opened).toMatchObject({ path: join(dir, 'b'), backend: 'file', readOnly: false, events: 2 });
    expect(value(await ws.api.call('stats', {})).events).toBe(2);
    // The old store's lock is released: another writer can open it.
    await expect
      .poll(async () => {
        const again = await FileStore.open(join(dir, 'a'), {}).catch(() => undefined);
        await again?.close();
        return again !== undefined;
      })
      .toBe(true);
    const recent = value(await ws.api.call('recentStores', {}));
    expect(recent.map((r) => r.path)).toEqual([join(dir, 'b'), join(dir, 'a')]);
    expect(JSON.parse(readFileSync(recentFile(), 'utf8'))[0].path).toBe(join(dir, 'b'));
    expect(statSync(recentFile()).mode & 0o777).toBe(0o600);
  });

  it('keeps the current store when the other one cannot be opened', async () => {
    ws = await Workspace.open(join(dir, 'a'), { config: parseConfig({}), recentFile: recentFile() });
    const missing = await ws.api.call('openStore', { path: join(dir, 'nowhere') });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error.message).toContain('nowhere');
    const locker = await FileStore.open(join(dir, 'b'), {});
    try {
      const locked = await ws.api.call('openStore', { path: join(dir, 'b') });
      expect(locked.ok).toBe(false);
      if (!locked.ok) expect(locked.error.code).toBe('LOCKED');
    } finally {
      await locker.close();
    }
    expect(value(await ws.api.call('stats', {})).events).toBe(1);
    expect(ws.path).toBe(join(dir, 'a'));
  });

  it('the web host serves the switched store and ends push connections held on the old one', async () => {
    ws = await Workspace.open(join(dir, 'a'), { config: parseConfig({}) });
    const host = await startWebHost({ workspace: ws, log: () => {} });
    try {
      const headers = { authorization: `Bearer ${host.token}`, 'content-type': 'application/json' };
      const stream = await fetch(`http://127.0.0.1:${host.port}/api/events/stream?fromSeq=1`, { headers });
      const reader = stream.body!.getReader();
      await reader.read();
      expect(host.openStreams()).toBe(1);
      const r = await fetch(`http://127.0.0.1:${host.port}/api/openStore`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ path: join(dir, 'b'), readOnly: true }),
      });
      expect(((await r.json()) as { value: { readOnly: boolean } }).value.readOnly).toBe(true);
      await expect.poll(() => host.openStreams()).toBe(0);
      const stats = await fetch(`http://127.0.0.1:${host.port}/api/stats`, {
        method: 'POST',
        headers,
        body: '{}',
      });
      expect(((await stats.json()) as { value: { events: number } }).value.events).toBe(2);
      await reader.cancel().catch(() => {});
    } finally {
      await host.close();
    }
  });

  it('a host bound to one store refuses openStore', async () => {
    const store = new MemoryStore();
    const r = await createApi(store).call('openStore', { path: join(dir, 'b') });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error).toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('cannot open another'),
      });
    await store.close();
  });
});
