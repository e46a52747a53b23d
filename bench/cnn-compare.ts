/**
 * The demo's CNN comparison without a page (for a machine with a GPU and Node only): the six
 * optimizers from webgpu-optim/tfjs on one network size, from the same initial weights and
 * batches, with the demo's learning rates and step decay. Returns each one's epoch losses and
 * held-out accuracy.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { digitsFrom } from '../demo/data/datasets.js';
import { fitRun } from '../demo/cnn/fit.js';
import { buildCnn, CNN_SIZES, type CnnSizeName } from '../demo/cnn/model.js';
import { CNN_OPTIMIZERS } from '../demo/cnn/optimizers.js';
import type { ImageSet } from '../demo/cnn/data.js';

export async function compareCnn(raw: readonly (readonly number[])[], network: CnnSizeName, epochs: number, halveEvery: number) {
  if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js webgpu backend unavailable');
  const size = CNN_SIZES[network];
  const all = digitsFrom(raw, size.trainPerClass + size.testPerClass);
  const split = size.trainPerClass * 10;
  const part = (from: number, to: number): ImageSet => {
    const labels = all.labels.slice(from, to);
    const t = tf.tidy(() => {
      const images = tf.tensor4d(all.features.subarray(from * 784, to * 784), [to - from, 28, 28, 1]);
      return { x: (size.side === 14 ? tf.avgPool(images, 2, 2, 'valid') : images) as tf.Tensor4D, y: tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), 10) as tf.Tensor2D };
    });
    return { ...t, labels };
  };
  const train = part(0, split);
  const test = part(split, all.labels.length);
  const runs = [];
  for (const o of CNN_OPTIMIZERS) {
    const model = buildCnn(size, 1);
    const optimizer = o.make('webgpu-optim', o.lr);
    const p = await fitRun(model, optimizer, train, test, { epochs, batchSize: 50, lr: o.lr, halveEvery });
    runs.push({ label: o.label, lr: o.lr, epochLosses: p.epochLosses, testAccuracy: p.testAccuracy, epochMs: p.epochMs });
    model.dispose();
    optimizer.dispose();
  }
  return { network, epochs, halveEvery, runs };
}
