import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import type { ApiOpenedStore, ApiRecentStore } from '../../shared/api';
import { createApi, type Api, type ApiOptions } from '../api/handlers';
import type { ChronoscopeConfig } from '../engine/config';
import { openStore } from '../engine/store';
import type { EventStore } from '../engine/types';
import { readRecent, rememberStore } from './recentStores';

export interface WorkspaceOptions {
  config: ChronoscopeConfig;
  /** Where recent stores are remembered (defaultRecentFile() in the app; a temp file in tests). */
  recentFile?: string;
  api?: ApiOptions;
}

interface Current {
  path: string;
  store: EventStore;
  api: Api;
}

/**
 * The open store of a host and the handler table bound to it (DESIGN §6 "stores & sources"):
 * `openStore` switches to another store folder — the new one is opened first, so a locked or
 * missing store leaves the current one in place — and the old table and store are closed once
 * the call that switched has answered. Hosts read `api` / `store` per request and drop their
 * push connections on `switched`, so clients reconnect to the new store.
 */
export class Workspace extends EventEmitter<{ switched: [ApiOpenedStore] }> {
  #current: Current;
  readonly #options: WorkspaceOptions;

  private constructor(current: Current, options: WorkspaceOptions) {
    super();
    this.#current = current;
    this.#options = options;
  }

  static async open(
    path: string,
    options: WorkspaceOptions & { readOnly?: boolean; create?: boolean },
  ): Promise<Workspace> {
    // The table's openStore reaches the workspace, which exists only once the first store is open.
    const holder: { ws?: Workspace } = {};
    const current = await Workspace.#openOne(path, options, () => holder.ws!, {
      readOnly: options.readOnly ?? false,
      create: options.create ?? false,
    });
    const ws = new Workspace(current, options);
    holder.ws = ws;
    if (options.recentFile) rememberStore(options.recentFile, current.path);
    return ws;
  }

  static async #openOne(
    path: string,
    options: WorkspaceOptions,
    self: () => Workspace,
    how: { readOnly: boolean; create: boolean },
  ): Promise<Current> {
    const abs = resolve(path);
    const store = await openStore(options.config, { path: abs, ...how });
    const { strategy, globalStrategy, maxBytes } = options.config.snapshots;
    const api = createApi(store, {
      ...options.api,
      snapshots: {
        ...(strategy ? { strategy } : {}),
        ...(globalStrategy ? { globalStrategy } : {}),
        ...(maxBytes !== undefined ? { maxBytes } : {}),
      },
      workspace: {
        open: (p, o) => self().switchTo(p, o),
        recent: () => self().recent(),
      },
    });
    return { path: abs, store, api };
  }

  get api(): Api {
    return this.#current.api;
  }
  get store(): EventStore {
    return this.#current.store;
  }
  get path(): string {
    return this.#current.path;
  }

  recent(): ApiRecentStore[] {
    return this.#options.recentFile
      ? readRecent(this.#options.recentFile)
      : [{ path: this.path, openedAt: '' }];
  }

  async switchTo(path: string, how: { readOnly?: boolean; create?: boolean } = {}): Promise<ApiOpenedStore> {
    const abs = resolve(path);
    if (abs === this.#current.path && (how.readOnly ?? false) === this.#current.store.readOnly)
      return this.#describe(this.#current);
    const next = await Workspace.#openOne(abs, this.#options, () => this, {
      readOnly: how.readOnly ?? false,
      create: how.create ?? false,
    });
    const old = this.#current;
    this.#current = next;
    if (this.#options.recentFile) rememberStore(this.#options.recentFile, abs);
    const info = await this.#describe(next);
    this.emit('switched', info);
    // The switching call is still being answered by the old table: close it on a later turn.
    setTimeout(() => void Workspace.#close(old), 50);
    return info;
  }

  async #describe(c: Current): Promise<ApiOpenedStore> {
    const stats = await c.store.stats();
    return { path: c.path, backend: c.store.backend, readOnly: c.store.readOnly, events: stats.events };
  }

  static async #close(c: Current): Promise<void> {
    await c.api.close().catch(() => {});
    await c.store.close().catch(() => {});
  }

  async close(): Promise<void> {
    await Workspace.#close(this.#current);
  }
}
