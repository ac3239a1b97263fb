import { fileURLToPath } from 'node:url';
import { loadConfig } from '../engine/config';
import { ChronoscopeError } from '../../shared/errors';
import { startWebHost } from './web';
import { Workspace } from './workspace';

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
  /** Where opened stores are remembered (the app passes defaultRecentFile()). */
  recentFile?: string;
}

/** Where `electron-vite build` puts the renderer, found from this file whether run from sources or not. */
export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../../out/renderer', import.meta.url));

/** `chronoscope serve`: opens the store, starts the web host on it, and closes both together. */
export async function serve(
  options: ServeOptions = {},
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const { config } = loadConfig(options.configPath);
  const path = options.storePath ?? config.store;
  if (!path && config.backend !== 'memory')
    throw new ChronoscopeError(
      'INVALID_ARGUMENT',
      'no store path given (pass one, or set "store" in chronoscope.config.json)',
    );
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const workspace = await Workspace.open(path ?? '.', {
    config,
    readOnly: options.readOnly ?? false,
    create: options.create ?? false,
    recentFile: options.recentFile,
    api: {
      onInternalError: (err, method) =>
        log(`internal error in ${method}: ${(err as Error)?.stack ?? String(err)}`),
    },
  });
  try {
    const host = await startWebHost({
      workspace,
      port: options.port,
      rendererDir: options.rendererDir ?? DEFAULT_RENDERER_DIR,
      log,
    });
    return {
      url: host.url,
      port: host.port,
      close: async () => {
        await host.close();
        await workspace.close();
      },
    };
  } catch (err) {
    await workspace.close();
    throw err;
  }
}
