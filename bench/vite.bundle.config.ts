import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/**
 * `npm run bench:bundle`: bench/node-entry.ts and everything it imports (the library, TF.js,
 * jax-js) as one ES module in dist/bench, so `BENCH_BUNDLE=dist/bench/node-entry.js node
 * bench/run-node.mjs` runs on a machine that has Node and the `webgpu` package but no dev
 * dependencies.
 */
export default defineConfig({
  root: resolve(import.meta.dirname, '..'),
  ssr: { noExternal: true, external: ['webgpu'] },
  build: {
    ssr: resolve(import.meta.dirname, 'node-entry.ts'),
    outDir: resolve(import.meta.dirname, '../dist/bench'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
  },
});
