// The service worker (src/sw.ts) as one classic script at /sw.js; scripts/inject-manifest.mjs then
// writes the precache list (every file of the app shell, with its hash) into it.
import { defineConfig } from 'vite';

export default defineConfig({
  define: { 'process.env.NODE_ENV': '"production"' }, // Workbox's logging out of the build
  build: {
    target: 'es2022', outDir: 'dist', emptyOutDir: false, sourcemap: false, copyPublicDir: false,
    lib: { entry: 'src/sw.ts', formats: ['iife'], name: 'sw', fileName: () => 'sw.js' },
  },
});
