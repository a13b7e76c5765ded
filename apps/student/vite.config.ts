// The app shell: one HTML page, one JS bundle, one CSS file (the service worker is built apart,
// vite.sw.config.ts, so its precache list can name these files).
import { defineConfig } from 'vite';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, sourcemap: false, assetsInlineLimit: 0 },
  test: { environment: 'node', include: ['tests/unit/**/*.test.ts'] },
});
