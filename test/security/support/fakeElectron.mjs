/**
 * A test double for the Electron runtime (the Electron binary cannot be installed on the machines
 * this project is built on, DESIGN §7): just enough of `electron` for the built main bundle to run
 * under plain Node, recording every window option, handler and hook it is given.
 */
const record = {
  windows: [],
  ipc: new Map(),
  headerHooks: [],
  permissionHandlers: [],
  openExternal: [],
  appHandlers: new Map(),
  errors: [],
  sent: [],
  exitCode: undefined,
};
globalThis.__fakeElectron = record;

class WebContents {
  constructor() {
    this.handlers = new Map();
    this.openHandler = undefined;
  }
  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, []);
    this.handlers.get(event).push(fn);
    return this;
  }
  once(event, fn) {
    return this.on(event, fn);
  }
  setWindowOpenHandler(fn) {
    this.openHandler = fn;
  }
  send(channel, ...args) {
    record.sent.push({ channel, args });
  }
}

export class BrowserWindow {
  constructor(options) {
    this.options = options;
    this.webContents = new WebContents();
    this.loaded = [];
    record.windows.push(this);
  }
  on() {
    return this;
  }
  once() {
    return this;
  }
  show() {}
  isDestroyed() {
    return false;
  }
  async loadFile(file) {
    this.loaded.push({ file });
  }
  async loadURL(url) {
    this.loaded.push({ url });
  }
}

export const ipcMain = {
  handle: (channel, fn) => record.ipc.set(channel, fn),
  removeHandler: (channel) => record.ipc.delete(channel),
};

export const session = {
  defaultSession: {
    webRequest: { onHeadersReceived: (fn) => record.headerHooks.push(fn) },
    setPermissionRequestHandler: (fn) => record.permissionHandlers.push(fn),
  },
};

export const shell = { openExternal: async (url) => void record.openExternal.push(url) };

export const app = {
  whenReady: async () => {},
  on: (event, fn) => record.appHandlers.set(event, fn),
  quit: () => {},
  exit: (code) => {
    record.exitCode = code;
  },
};

export const dialog = { showErrorBox: (title, message) => record.errors.push(`${title}: ${message}`) };

export default { BrowserWindow, ipcMain, session, shell, app, dialog };
