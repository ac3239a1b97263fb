import { app, dialog } from 'electron';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './engine/config';
import { defaultDemoDir, ensureDemoStore } from './host/demoStore';
import { quitWithStore, startElectronHost } from './host/electron';
import { defaultRecentFile } from './host/recentStores';
import { Workspace } from './host/workspace';

/** electron-vite's main entry: open the store named by CHRONOSCOPE_STORE (else the demo) and show the window. */
async function main(): Promise<void> {
  await app.whenReady();
  let storePath = process.env.CHRONOSCOPE_STORE;
  if (!storePath) {
    storePath = defaultDemoDir();
    await ensureDemoStore(storePath);
  }
  const workspace = await Workspace.open(storePath, {
    config: loadConfig().config,
    recentFile: defaultRecentFile(),
    api: { onInternalError: (err, method) => console.error(`internal error in ${method}:`, err) },
  });
  quitWithStore(workspace);
  await startElectronHost({
    workspace,
    preloadPath: fileURLToPath(new URL('../preload/index.cjs', import.meta.url)),
    rendererFile: fileURLToPath(new URL('../renderer/index.html', import.meta.url)),
    devUrl: process.env.ELECTRON_RENDERER_URL,
  });
}

main().catch((err: unknown) => {
  dialog.showErrorBox('Chronoscope could not start', err instanceof Error ? err.message : String(err));
  app.exit(1);
});
