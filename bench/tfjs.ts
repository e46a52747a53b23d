/** TF.js competitors: the same optimizer through `tf.train.*().applyGradients` on one backend. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import type { TfjsRunner } from './suite.js';
import type { BenchOptimizer } from './workloads.js';

let unique = 0;

function tfOptimizer(opt: BenchOptimizer): tf.Optimizer | undefined {
  switch (opt.name) {
    case 'sgd':
      return tf.train.momentum(0.01, 0.9);
    case 'adagrad':
      return tf.train.adagrad(0.01);
    case 'rmsprop':
      return tf.train.rmsprop(0.01, 0.99, 0, 1e-8);
    case 'adadelta':
      return tf.train.adadelta(1, 0.9, 1e-6);
    case 'adam':
      return tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
    case 'adamax':
      return tf.train.adamax(2e-3, 0.9, 0.999, 1e-8);
    default:
      return undefined; // TF.js has no AdamW
  }
}

export function tfjsRunner(backend: 'webgpu' | 'cpu'): TfjsRunner {
  return {
    async setup(opt, sizes) {
      if (!(await tf.setBackend(backend))) return { skipped: `TF.js ${backend} backend unavailable` };
      await tf.ready();
      const optimizer = tfOptimizer(opt);
      if (!optimizer) return { skipped: `TF.js has no ${opt.name}` };
      const run = unique++;
      const vars = sizes.map((n, i) => tf.tidy(() => tf.variable(tf.fill([n], 0.5), true, `bench${run}_${i}`)));
      const grads: Record<string, tf.Tensor> = Object.fromEntries(vars.map((v, i) => [v.name, tf.fill([sizes[i]!], 0.01)]));
      return {
        async steps(k) {
          for (let s = 0; s < k; s++) optimizer.applyGradients(grads);
          // Reading one element waits for every queued update (the GPU queue is in order).
          const probe = tf.tidy(() => tf.slice(vars[vars.length - 1]!, 0, 1));
          await probe.data();
          probe.dispose();
        },
        dispose() {
          optimizer.dispose();
          for (const v of vars) v.dispose();
          for (const g of Object.values(grads)) g.dispose();
        },
      };
    },
  };
}

export const tfjsVersion = tf.version_core;
