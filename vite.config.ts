import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/** Serves and builds the demo and the benchmark page; the library itself is plain ESM in src/. */
export default defineConfig({
  server: { host: 'localhost' },
  build: {
    outDir: 'dist',
    target: 'es2022',
    rollupOptions: {
      input: {
        demo: resolve(import.meta.dirname, 'demo/index.html'),
        paths: resolve(import.meta.dirname, 'demo/paths.html'),
        train: resolve(import.meta.dirname, 'demo/train.html'),
        cnn: resolve(import.meta.dirname, 'demo/cnn.html'),
        throughput: resolve(import.meta.dirname, 'bench/throughput.html'),
        bench: resolve(import.meta.dirname, 'bench/index.html'),
      },
    },
  },
});
