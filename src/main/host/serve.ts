import { fileURLToPath } from 'node:url';
import { loadConfig } from '../engine/config';
import { openStore } from '../engine/store';
import { startWebHost } from './web';

export interface ServeOptions {
  /** Store folder; default `store` from chronoscope.config.json. */
  storePath?: string;
  /** 0 or absent = a free port. */
  port?: number;
  readOnly?: boolean;
  /** Create the store folder when missing (default false: a typo should not make an empty store). */
  create?: boolean;
  /** Explicit config file (else ./chronoscope.config.json when present). */
  configPath?: string;
  rendererDir?: string;
}

/** Where `electron-vite build` puts the renderer, found from this file whether run from sources or not. */
export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../../out/renderer', import.meta.url));

/** `chronoscope serve`: opens the store, starts the web host on it, and closes both together. */
export async function serve(
  options: ServeOptions = {},
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const { config } = loadConfig(options.configPath);
  const store = await openStore(config, {
    path: options.storePath,
    readOnly: options.readOnly ?? false,
    create: options.create ?? false,
  });
  try {
    const host = await startWebHost({
      store,
      port: options.port,
      rendererDir: options.rendererDir ?? DEFAULT_RENDERER_DIR,
    });
    return {
      url: host.url,
      port: host.port,
      close: async () => {
        await host.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
