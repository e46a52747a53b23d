/**
 * The built library imported by plain Node (no Vite, no bundler) runs on Dawn and matches its own
 * CPU reference. scripts/test.sh builds dist/lib first and sets Dawn's Vulkan variables.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect, test } from 'vitest';

test('dist/lib in plain Node with the webgpu package: Adam + AMSGrad + groups equals the reference', () => {
  expect(existsSync('dist/lib/webgpu-optim.js'), 'run npm run build:lib first (npm test does)').toBe(true);
  const out = execFileSync(process.execPath, ['tests/node/plain-node.mjs'], { encoding: 'utf8', timeout: 60_000 });
  const result = JSON.parse(out.trim().split('\n').pop()!);
  expect(result.errors).toEqual([]);
  expect(result.steps).toBe(5);
  expect(result.moved).toBe(true);
  // Same tolerance reasoning as the GPU parity tests; SwiftShader gives 0.
  expect(result.maxDiff).toBeLessThanOrEqual(1e-6);
}, 90_000);
