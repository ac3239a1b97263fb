import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { fileURLToPath } from 'node:url';

const shared = fileURLToPath(new URL('./src/shared', import.meta.url));
const alias = { '@shared': shared };

// Entry points are found by location (src/main, src/preload, src/renderer); only the exceptions are here.
export default defineConfig({
  main: {
    resolve: { alias },
    build: {
      rollupOptions: {
        input: {
          index: fileURLToPath(new URL('./src/main/index.ts', import.meta.url)),
          // The file store seals in a worker loaded from `./sealWorker.js` beside the bundle.
          sealWorker: fileURLToPath(new URL('./src/main/engine/file/sealWorker.ts', import.meta.url)),
          // User projections / replay handlers run in a worker loaded from `./userModuleWorker.js`.
          userModuleWorker: fileURLToPath(
            new URL('./src/main/engine/timetravel/userModuleWorker.ts', import.meta.url),
          ),
        },
      },
    },
  },
  preload: {
    resolve: { alias },
    // A sandboxed preload cannot require packages or be an ES module: bundle everything as CommonJS.
    build: {
      externalizeDeps: false,
      rollupOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    resolve: { alias },
    plugins: [react()],
    // Also served by the web host: ship it minified.
    build: { minify: 'esbuild' },
  },
});
