/**
 * One training run of the comparison: `model.fit` with a step-decay schedule (the lr halves
 * every `halveEvery` epochs), the loss of every batch, held-out accuracy after every epoch, and
 * the time of each epoch's fit (evaluation excluded).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ImageSet } from './images.js';
import { setLearningRate } from './optimizers.js';

export interface FitOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  halveEvery: number;
  /** Called after each batch and each epoch; return false to stop. */
  onProgress?: (progress: FitProgress) => boolean | void;
}

export interface FitProgress {
  batchLosses: number[];
  epochLosses: number[];
  testAccuracy: number[];
  epochMs: number[];
  lrs: number[];
}

/** The median of `xs` (the upper middle one for an even count; NaN when empty). */
export const medianOf = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** The lr of `epoch` (0-based): halved every `halveEvery` epochs. */
export const stepDecayLr = (lr: number, halveEvery: number, epoch: number) => lr * 0.5 ** Math.floor(epoch / halveEvery);

export async function fitRun(model: tfl.Sequential, optimizer: tf.Optimizer, train: ImageSet, test: ImageSet, options: FitOptions): Promise<FitProgress> {
  const progress: FitProgress = { batchLosses: [], epochLosses: [], testAccuracy: [], epochMs: [], lrs: [] };
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  let started = 0;
  await model.fit(train.x, train.y, {
    epochs: options.epochs,
    batchSize: options.batchSize,
    shuffle: false, // every optimizer sees the same batches in the same order
    verbose: 0,
    callbacks: {
      onEpochBegin: async (epoch) => {
        const lr = stepDecayLr(options.lr, options.halveEvery, epoch);
        setLearningRate(optimizer, lr);
        progress.lrs.push(lr);
        started = performance.now();
      },
      onBatchEnd: async (_batch, logs) => {
        progress.batchLosses.push(logs!.loss as number);
        if (options.onProgress?.(progress) === false) model.stopTraining = true;
      },
      onEpochEnd: async (_epoch, logs) => {
        progress.epochMs.push(performance.now() - started);
        progress.epochLosses.push(logs!.loss as number);
        progress.testAccuracy.push(await accuracy(model, test));
        if (options.onProgress?.(progress) === false) model.stopTraining = true;
      },
    },
  });
  return progress;
}

/** Share of `set` the model classifies right. */
export async function accuracy(model: tfl.Sequential, set: ImageSet): Promise<number> {
  const predicted = tf.tidy(() => tf.argMax(model.predict(set.x) as tf.Tensor, -1));
  const labels = (await predicted.data()) as Int32Array;
  predicted.dispose();
  let right = 0;
  labels.forEach((c, i) => (right += c === set.labels[i] ? 1 : 0));
  return right / set.labels.length;
}
