/**
 * Runs the BUILT main bundle (argv[2]) against the Electron double, then exercises what it set up —
 * the window options, navigation and window-open handlers, the CSP header hook, the permission
 * handler and the IPC channel — and prints the observations as one JSON line.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

const record = () => globalThis.__fakeElectron;
const sleep = (ms) => delay(ms);

await import(pathToFileURL(process.argv[2]).href);
for (let i = 0; i < 400 && !(record()?.windows[0]?.loaded.length || record()?.errors.length); i++)
  await sleep(50);
const rec = record();
const win = rec.windows[0];
const out = { windows: rec.windows.length, errors: rec.errors };
if (win) {
  out.options = win.options;
  out.loaded = win.loaded;
  const wc = win.webContents;
  out.handledEvents = [...wc.handlers.keys()];
  const prevented = (event) =>
    (wc.handlers.get(event) ?? []).map((fn) => {
      let p = false;
      fn({ preventDefault: () => (p = true) }, 'https://evil.example/');
      return p;
    });
  out.willNavigatePrevented = prevented('will-navigate');
  out.willAttachWebviewPrevented = prevented('will-attach-webview');
  out.windowOpen = wc.openHandler
    ? [
        'https://evil.example/x',
        'http://evil.example/',
        'file:///etc/passwd',
        'javascript:alert(1)',
        'chrome://settings',
      ].map((url) => ({
        url,
        result: wc.openHandler({ url, frameName: '', features: '', disposition: 'new-window' }),
      }))
    : null;
  await sleep(10);
  out.openedExternally = [...rec.openExternal];
}
out.headerHooks = rec.headerHooks.length;
if (rec.headerHooks[0]) {
  // A response that tries to relax the policy: the hook must replace it, not merge with it.
  out.headers = await new Promise((resolve) =>
    rec.headerHooks[0](
      {
        url: 'file:///index.html',
        responseHeaders: { 'Content-Security-Policy': ["default-src * 'unsafe-eval'"] },
      },
      (r) => resolve(r.responseHeaders),
    ),
  );
}
out.permissions = await Promise.all(
  rec.permissionHandlers.map((h) => new Promise((resolve) => h({}, 'media', resolve, {}))),
);
out.ipcChannels = [...rec.ipc.keys()];
const ipc = rec.ipc.get(out.ipcChannels[0]);
if (ipc) {
  out.ipcStats = await ipc({ sender: {} }, { method: 'stats', params: {} });
  out.ipcBad = await ipc({ sender: {} }, { method: 'constructor', params: { __proto__: 1 } });
  out.ipcJunk = await ipc({ sender: {} }, 'not a request');
}
// Quit as Electron would: the host closes the store before exiting.
const willQuit = rec.appHandlers.get('will-quit');
out.quitHandlers = [...rec.appHandlers.keys()];
if (willQuit) {
  willQuit({ preventDefault: () => {} });
  for (let i = 0; i < 200 && rec.exitCode === undefined; i++) await sleep(25);
}
out.exitCode = rec.exitCode;
process.stdout.write(`PROBE ${JSON.stringify(out)}\n`);
process.exit(0);
