import { app, BrowserWindow, ipcMain, session, shell } from 'electron';
import { JOB_CHANNEL } from '../../shared/ipc';
import { bindIpc } from '../api/bindIpc';
import { createApi } from '../api/handlers';
import type { EventStore } from '../engine/types';
import { CONTENT_SECURITY_POLICY } from './web';

export interface ElectronHostOptions {
  store: EventStore;
  /** Absolute path of the sandboxed preload (CommonJS). */
  preloadPath: string;
  /** The built renderer's index.html. */
  rendererFile: string;
  /** electron-vite's dev server (ELECTRON_RENDERER_URL), used instead of the file when set. */
  devUrl?: string;
}

/**
 * The desktop host (DESIGN §6): one locked-down window (isolated, sandboxed, no Node, strict CSP, no
 * navigation or new windows) whose only door to the engine is the IPC channel of the handler table.
 */
export async function startElectronHost(options: ElectronHostOptions): Promise<BrowserWindow> {
  const api = createApi(options.store, {
    onInternalError: (err, method) => console.error(`internal error in ${method}:`, err),
  });
  bindIpc(ipcMain, api);

  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
        'X-Content-Type-Options': ['nosniff'],
      },
    });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    show: false,
    title: 'Chronoscope',
    webPreferences: {
      preload: options.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    // Links to the web open in the user's browser, never inside the app.
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });

  const offJobs = api.jobs.on((u) => {
    if (!win.isDestroyed()) win.webContents.send(JOB_CHANNEL, u);
  });
  win.on('closed', () => {
    offJobs();
    void api.close(); // stops followed files before the store closes
  });

  if (options.devUrl) await win.loadURL(options.devUrl);
  else await win.loadFile(options.rendererFile);
  return win;
}

/** Quits when the last window closes, closing the store first so its lock and files are released. */
export function quitWithStore(store: EventStore): void {
  let closing = false;
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    void store.close().finally(() => app.exit(0));
  });
}
