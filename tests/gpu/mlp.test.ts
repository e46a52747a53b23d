/**
 * The demo's GPU training code (gather, dense + ReLU, softmax cross-entropy and their gradients)
 * against the float64 CPU version. f32 sums over up to 64 terms stay within rtol 1e-4 / atol 1e-6.
 */
import { expect, test } from 'vitest';
import { moons } from '../../demo/data/datasets.js';
import { seededRandom } from '../../common/random.js';
import { cpuMlpStep } from '../../demo/mlp/cpu-mlp.js';
import { createMlp, initialWeights, uploadDataset } from '../../demo/mlp/mlp.js';
import { createParameterSet } from '../../src/index.js';
import { expectAllClose } from '../helpers/allclose.js';
import { withDevice } from '../helpers/gpu.js';

const TOL = { atol: 1e-6, rtol: 1e-4 };

test.each([
  ['moons, 3 layers, batch 64', [2, 16, 16, 2], 64, 'he'],
  ['20 inputs, 10 classes, batch 7', [20, 33, 10], 7, 'xavier'],
  ['batch 1', [20, 5, 3], 1, 'he'],
] as const)('%s: forward, loss, accuracy and every gradient match', async (_label, layers, batch, init) => {
  await withDevice(async (device) => {
    const random = seededRandom(3);
    const count = 200;
    const data = layers[0] === 2 ? moons(count, 0.1, 1) : {
      features: Float32Array.from({ length: count * layers[0] }, () => random() * 2 - 1),
      labels: Uint32Array.from({ length: count }, () => Math.floor(random() * layers[layers.length - 1]!)),
    };
    const weights = initialWeights(layers, init, seededRandom(7));
    const params = createParameterSet(device, weights);
    const gpuData = uploadDataset(device, data.features, data.labels, layers[0], layers[layers.length - 1]!);
    const mlp = createMlp(device, params, layers, gpuData, batch);
    const rows = Uint32Array.from({ length: batch }, (_, i) => (i * 37 + 11) % count);
    mlp.setBatch(rows);
    const encoder = device.createCommandEncoder({ label: 'test:mlp' });
    mlp.recordForward(encoder);
    mlp.recordBackward(encoder);
    device.queue.submit([encoder.finish()]);
    const expected = cpuMlpStep(layers, Object.fromEntries(weights.map((w) => [w.name, w.data])), data.features, data.labels, rows);
    expectAllClose(await mlp.readLogits(), expected.logits, TOL, 'logits');
    const metrics = await mlp.readMetrics();
    expect(Math.abs(metrics.loss - expected.loss)).toBeLessThanOrEqual(1e-4 * expected.loss + 1e-6);
    expect(metrics.accuracy).toBe(expected.accuracy);
    const grads = await params.readGrads();
    params.tensors.forEach((t, i) => expectAllClose(grads[i]!, expected.grads[t.name]!, TOL, `d${t.name}`));
    // The gradients are not all zero (the check is not vacuous).
    expect(grads.some((g) => g.some((v) => Math.abs(v) > 1e-3))).toBe(true);
    mlp.destroy();
    gpuData.destroy();
    params.destroy();
  });
});
