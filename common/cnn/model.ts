/**
 * The classic optimizer comparison's network: conv → pool → conv → pool → dense → softmax, in
 * TF.js layers, at two sizes: the article's (28 × 28 digits, 32 and 64 filters of 5 × 5, 1024
 * hidden units) for a GPU, and a small one (14 × 14, 4 and 8 filters of 3 × 3, no hidden dense
 * layer) that a software adapter trains in seconds.
 */
import * as tfl from '@tensorflow/tfjs-layers';

export interface CnnSize {
  label: string;
  /** Side of the input image (28: as shipped; 14: 2 × 2 average-pooled). */
  side: 14 | 28;
  filters: [number, number];
  kernel: number;
  /** Hidden units of the dense layer before the softmax (0: none). */
  hidden: number;
  /** Training and held-out images per digit. */
  trainPerClass: number;
  testPerClass: number;
}

export const CNN_SIZES = {
  article: { label: 'article: 28×28, 32/64 filters 5×5, dense 1024, 8000 images (for a GPU)', side: 28, filters: [32, 64], kernel: 5, hidden: 1024, trainPerClass: 800, testPerClass: 60 },
  small: { label: 'small: 14×14, 4/8 filters 3×3, 500 images (fits a software adapter)', side: 14, filters: [4, 8], kernel: 3, hidden: 0, trainPerClass: 50, testPerClass: 20 },
} as const satisfies Record<string, CnnSize>;

export type CnnSizeName = keyof typeof CNN_SIZES;

/** The network with seeded initial weights: every optimizer starts from the same ones. */
export function buildCnn(size: CnnSize, seed: number): tfl.Sequential {
  const model = tfl.sequential();
  const [f1, f2] = size.filters;
  model.add(tfl.layers.conv2d({ inputShape: [size.side, size.side, 1], filters: f1, kernelSize: size.kernel, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed }) }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.conv2d({ filters: f2, kernelSize: size.kernel, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: seed + 1 }) }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.flatten());
  if (size.hidden > 0) model.add(tfl.layers.dense({ units: size.hidden, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: seed + 2 }) }));
  model.add(tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 3 }) }));
  return model;
}
