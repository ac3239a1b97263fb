import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { IPC_CHANNEL, JOB_CHANNEL, type PreloadApi } from '../shared/ipc';

/** The page's only door: one typed call over one channel; no ipcRenderer, no Node (DESIGN §6). */
const api: PreloadApi = {
  call: (method, params) => ipcRenderer.invoke(IPC_CHANNEL, { method, params }),
  pathForFile: (file) => webUtils.getPathForFile(file),
  onJob: (listener) => {
    // The page gets the update only, never Electron's event object (it holds the sender).
    const forward = (_event: unknown, update: Parameters<typeof listener>[0]) => listener(update);
    ipcRenderer.on(JOB_CHANNEL, forward);
    return () => void ipcRenderer.removeListener(JOB_CHANNEL, forward);
  },
};

contextBridge.exposeInMainWorld('chronoscope', api);
