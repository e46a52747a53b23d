/** The digits as TF.js tensors for the CNN: images [n, side, side, 1] and one-hot labels. */
import * as tf from '@tensorflow/tfjs-core';
import type { ImageSet } from '../../common/cnn/images.js';
import type { CnnSize } from '../../common/cnn/model.js';
import { digits, type Dataset } from '../data/datasets.js';

/** Training and held-out images (the first `trainPerClass` of each digit train; the next ones are held out). */
export async function digitImages(size: CnnSize): Promise<{ train: ImageSet; test: ImageSet }> {
  return splitImages(await digits(size.trainPerClass + size.testPerClass), size);
}

/** `all` (rows interleaved by class, as `digits` gives them) as the network's training and held-out images. */
export function splitImages(all: Dataset, size: CnnSize): { train: ImageSet; test: ImageSet } {
  const perClass = all.labels.length / 10;
  if (perClass < size.trainPerClass + size.testPerClass) throw new Error(`demo: the mnist package has ${perClass} images per digit, ${size.trainPerClass + size.testPerClass} wanted`);
  const split = size.trainPerClass * 10; // rows are interleaved by class, so every prefix is balanced
  const part = (from: number, to: number): ImageSet => {
    const labels = all.labels.slice(from, to);
    const tensors = tf.tidy(() => {
      const images = tf.tensor4d(all.features.subarray(from * 784, to * 784), [to - from, 28, 28, 1]);
      const x = (size.side === 14 ? tf.avgPool(images, 2, 2, 'valid') : images) as tf.Tensor4D;
      return { x, y: tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), 10) as tf.Tensor2D };
    });
    return { ...tensors, labels };
  };
  return { train: part(0, split), test: part(split, split + size.testPerClass * 10) };
}
