import type { PreloadApi } from '@shared/ipc';

declare global {
  interface Window {
    /** Present only inside Electron, where the preload exposes the typed API. */
    chronoscope?: PreloadApi;
  }
}
