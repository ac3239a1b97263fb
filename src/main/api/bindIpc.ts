import { IPC_CHANNEL } from '../../shared/ipc';
import type { Api } from './handlers';

/** The slice of Electron's ipcMain we need; structural so tests pass a plain object (Bruno's pattern). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: unknown, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** Serves the handler table on one IPC channel carrying `{ method, params }`; returns an unbind function. */
export function bindIpc(ipc: IpcMainLike, api: Pick<Api, 'dispatch'>): () => void {
  ipc.handle(IPC_CHANNEL, (_event, request) => {
    const r = (typeof request === 'object' && request !== null ? request : {}) as Record<string, unknown>;
    return api.dispatch(r.method, r.params);
  });
  return () => ipc.removeHandler(IPC_CHANNEL);
}
