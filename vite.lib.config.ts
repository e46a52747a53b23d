import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/**
 * The library as one ESM file with the WGSL sources inlined (`npm run build:lib`), so plain Node
 * (with the `webgpu` package) and bundler-less pages can import it; types go to dist/types.
 */
export default defineConfig({
  build: {
    outDir: 'dist/lib',
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: { entry: resolve(import.meta.dirname, 'src/index.ts'), formats: ['es'], fileName: () => 'webgpu-optim.js' },
  },
});
