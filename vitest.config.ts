import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';

/**
 * Chromium with WebGPU. On a machine without a GPU (CI, here) Debian's Chromium runs WebGPU on
 * SwiftShader, a CPU implementation: results are exact WebGPU semantics, timings are CPU timings.
 * CHROMIUM_PATH overrides the binary; WEBGPU_ADAPTER=hardware drops the SwiftShader flags.
 */
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const software = process.env.WEBGPU_ADAPTER !== 'hardware';
export const chromiumArgs = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  ...(software ? ['--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader'] : ['--enable-features=Vulkan', '--use-angle=vulkan']),
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'gpu-node',
          include: ['tests/gpu/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['tests/helpers/node-webgpu.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'gpu',
          include: ['tests/gpu/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One browser page: SwiftShader uses both cores for each dispatch already.
          fileParallelism: false,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: { executablePath: chromium, args: chromiumArgs },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
