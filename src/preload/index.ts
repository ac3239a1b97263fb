import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CHANNEL, type PreloadApi } from '../shared/ipc';

/** The page's only door: one typed call over one channel; no ipcRenderer, no Node (DESIGN §6). */
const api: PreloadApi = {
  call: (method, params) => ipcRenderer.invoke(IPC_CHANNEL, { method, params }),
};

contextBridge.exposeInMainWorld('chronoscope', api);
