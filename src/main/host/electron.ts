import { app, BrowserWindow, ipcMain, session, shell } from 'electron';
import { JOB_CHANNEL } from '../../shared/ipc';
import { bindIpc } from '../api/bindIpc';
import { CONTENT_SECURITY_POLICY } from './web';
import type { Workspace } from './workspace';

export interface ElectronHostOptions {
  /** The open store and its handler table; `openStore` switches both. */
  workspace: Workspace;
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
  const ws = options.workspace;
  // Every call goes to the table of the store open at that moment.
  bindIpc(ipcMain, { dispatch: (method, params) => ws.api.dispatch(method, params) });

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

  const forwardJobs = () =>
    ws.api.jobs.on((u) => {
      if (!win.isDestroyed()) win.webContents.send(JOB_CHANNEL, u);
    });
  let offJobs = forwardJobs();
  const onSwitch = () => {
    offJobs();
    offJobs = forwardJobs();
  };
  ws.on('switched', onSwitch);
  win.on('closed', () => {
    offJobs();
    ws.off('switched', onSwitch);
  });

  if (options.devUrl) await win.loadURL(options.devUrl);
  else await win.loadFile(options.rendererFile);
  return win;
}

/** Quits when the last window closes, closing the store first so its lock and files are released. */
export function quitWithStore(ws: Workspace): void {
  let closing = false;
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    void ws.close().finally(() => app.exit(0)); // stops followed files and replays, then the store
  });
}
