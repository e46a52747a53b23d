/**
 * End-to-end training time: TF.js `model.fit` epochs of the demo's CNN with TF.js's own Adam
 * against webgpu-optim's (webgpu-optim/tfjs), same model, data, batches and device. The first
 * epoch compiles pipelines and is left out; the rest give the median.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { buildCnn, CNN_SIZES, type CnnSizeName } from '../common/cnn/model.js';
import { fitRun, medianOf } from '../common/cnn/fit.js';
import { CNN_OPTIMIZERS, type Implementation } from '../common/cnn/optimizers.js';
import type { ImageSet } from '../common/cnn/images.js';
import { seededRandom } from '../common/random.js';

export interface FitRow {
  network: CnnSizeName;
  description: string;
  optimizer: string;
  implementation: Implementation;
  images: number;
  batchSize: number;
  /** Times of the epochs after the first (ms). */
  epochMs: number[];
  median: number;
}

const BATCH = 50;

/** Seeded random images and labels of the network's input shape (the values do not change the time). */
function randomImages(side: number, count: number, seed: number): ImageSet {
  const random = seededRandom(seed);
  const pixels = Float32Array.from({ length: count * side * side }, () => random());
  const labels = Uint32Array.from({ length: count }, () => Math.floor(random() * 10));
  return {
    x: tf.tensor4d(pixels, [count, side, side, 1]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), 10) as tf.Tensor2D),
    labels,
  };
}

export async function measureFit(networks: readonly CnnSizeName[], epochs: number, progress?: (message: string) => void): Promise<FitRow[]> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js webgpu backend unavailable');
  await tf.ready();
  const adam = CNN_OPTIMIZERS.find((o) => o.label === 'Adam')!;
  const rows: FitRow[] = [];
  for (const network of networks) {
    const size = CNN_SIZES[network];
    const train = randomImages(size.side, size.trainPerClass * 10, 1);
    const test = randomImages(size.side, 10, 2);
    for (const implementation of ['tf.train', 'webgpu-optim'] as const) {
      progress?.(`model.fit · ${network} network · Adam from ${implementation}`);
      const model = buildCnn(size, 1);
      const optimizer = adam.make(implementation, 1e-3);
      const run = await fitRun(model, optimizer, train, test, { epochs, batchSize: BATCH, lr: 1e-3, halveEvery: 1000 });
      const epochMs = run.epochMs.slice(1);
      rows.push({ network, description: size.label, optimizer: 'adam', implementation, images: size.trainPerClass * 10, batchSize: BATCH, epochMs, median: medianOf(epochMs) });
      model.dispose();
      optimizer.dispose();
    }
    tf.dispose([train.x, train.y, test.x, test.y]);
  }
  return rows;
}
