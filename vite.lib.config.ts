import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/**
 * The library as ESM (the core, and webgpu-optim/tfjs sharing it) with the WGSL sources inlined (`npm run build:lib`), so plain Node
 * (with the `webgpu` package) and bundler-less pages can import it; types go to dist/types.
 */
export default defineConfig({
  build: {
    outDir: 'dist/lib',
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: {
      entry: { 'webgpu-optim': resolve(import.meta.dirname, 'src/index.ts'), tfjs: resolve(import.meta.dirname, 'src/tfjs/index.ts') },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    // TF.js is the user's (a peer dependency): webgpu-optim/tfjs must use their copy, not a second one.
    rollupOptions: { external: [/^@tensorflow\//], output: { chunkFileNames: 'shared-[hash].js' } },
  },
});
