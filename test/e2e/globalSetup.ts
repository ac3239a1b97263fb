import { ensureRendererBuilt } from '../support/rendererBuild';

/** Builds the renderer when it is missing or older than its sources, so the browser tests test this code. */
export default function setup(): void {
  const r = ensureRendererBuilt((m) => console.log(m));
  if (!r.ok) {
    console.error(r.output);
    throw new Error('electron-vite build failed; the browser tests need the built renderer');
  }
}
