/**
 * The six optimizers of the classic comparison, each as this library's TF.js optimizer
 * (`webgpu-optim/tfjs`) and as TF.js's own, with the same arguments. The learning rates are
 * each optimizer's best of the grid in docs/tfjs.md ("The CNN comparison") on the small network.
 */
import * as tf from '@tensorflow/tfjs-core';
import { train } from '../../src/tfjs/index.js';

export type Implementation = 'webgpu-optim' | 'tf.train';

export interface CnnOptimizer {
  label: string;
  lr: number;
  make(implementation: Implementation, lr: number): tf.Optimizer;
}

const pair = (label: string, lr: number, ours: (lr: number) => tf.Optimizer, theirs: (lr: number) => tf.Optimizer): CnnOptimizer => ({
  label,
  lr,
  make: (implementation, rate) => (implementation === 'webgpu-optim' ? ours(rate) : theirs(rate)),
});

export const CNN_OPTIMIZERS: readonly CnnOptimizer[] = [
  pair('SGD', 0.4, (lr) => train.sgd(lr), (lr) => tf.train.sgd(lr)),
  pair('Momentum', 0.2, (lr) => train.momentum(lr, 0.9), (lr) => tf.train.momentum(lr, 0.9)),
  pair('Nesterov', 0.1, (lr) => train.momentum(lr, 0.9, true), (lr) => tf.train.momentum(lr, 0.9, true)),
  pair('AdaGrad', 0.4, (lr) => train.adagrad(lr), (lr) => tf.train.adagrad(lr)),
  pair('RMSProp', 0.04, (lr) => train.rmsprop(lr), (lr) => tf.train.rmsprop(lr)),
  pair('Adam', 0.04, (lr) => train.adam(lr), (lr) => tf.train.adam(lr)),
];

/** Sets the learning rate of either kind (TF.js's own optimizers read the field each step). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}
