/**
 * `tf.train.*` with the same arguments and defaults, running this library's kernels: swap
 * `tf.train.adam(0.01)` for `train.adam(0.01)`. The arguments map onto the PyTorch-named options
 * (docs/tfjs.md lists each mapping). Where TF.js's algorithm differs from PyTorch's, the result
 * follows PyTorch's (this library's semantics) and the difference is written beside the factory.
 */
import { describeValue, isThenable } from '../core/describe-value.js';
import type { OptimizerName } from '../optimizers/registry.js';
import { WebGPUOptimizer } from './optimizer.js';

/** TF.js's default epsilon (its backend's `epsilon()` for float32) where an argument is left out. */
const TFJS_EPSILON = 1e-7;

function epsilonOf(epsilon: number | null | undefined): number {
  return epsilon ?? TFJS_EPSILON;
}

/** The arguments that are not numbers. */
const NOT_NUMBERS: Record<string, 'boolean'> = { useNesterov: 'boolean', centered: 'boolean' };

/**
 * Refuses an argument of the wrong type, naming it as `tf.train.<call>` does (the ranges are the
 * optimizer's checks). An options object where a number goes is the likely mix-up with
 * WebGPUOptimizer's options, and the message says so.
 */
function checkArguments(call: keyof typeof train, optimizer: OptimizerName, args: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(args)) {
    const expected = NOT_NUMBERS[name] ?? 'number';
    if (typeof value === expected) continue;
    const isOptions = value !== null && typeof value === 'object' && !Array.isArray(value) && !ArrayBuffer.isView(value) && !isThenable(value);
    const hint = isOptions
      ? `: train.${call} takes tf.train.${call}'s positional arguments (train.${call}(0.01)); an options object with PyTorch's names goes to new WebGPUOptimizer('${optimizer}', { lr: 0.01 })`
      : '';
    throw new TypeError(`webgpu-optim/tfjs: train.${call}: ${name} must be a ${expected}, got ${describeValue(value)}${hint}`);
  }
}

export const train = {
  /** `tf.train.sgd(learningRate)`: p ← p − lr·g. Same algorithm. */
  sgd(learningRate: number): WebGPUOptimizer<'sgd'> {
    checkArguments('sgd', 'sgd', { learningRate });
    return new WebGPUOptimizer('sgd', { lr: learningRate });
  },

  /**
   * `tf.train.momentum(learningRate, momentum, useNesterov = false)`: b ← m·b + g; p ← p − lr·b
   * (Nesterov: p ← p − lr·(g + m·b)). Same algorithm.
   */
  momentum(learningRate: number, momentum: number, useNesterov = false): WebGPUOptimizer<'sgd'> {
    checkArguments('momentum', 'sgd', { learningRate, momentum, useNesterov });
    return new WebGPUOptimizer('sgd', { lr: learningRate, momentum, nesterov: useNesterov });
  },

  /**
   * `tf.train.adagrad(learningRate, initialAccumulatorValue = 0.1)`. Differs: TF.js divides by
   * √(sum + ε), PyTorch (and this) by √sum + ε, with ε = 1e-7 here.
   */
  adagrad(learningRate: number, initialAccumulatorValue = 0.1): WebGPUOptimizer<'adagrad'> {
    checkArguments('adagrad', 'adagrad', { learningRate, initialAccumulatorValue });
    return new WebGPUOptimizer('adagrad', { lr: learningRate, initialAccumulatorValue, eps: TFJS_EPSILON });
  },

  /**
   * `tf.train.adadelta(learningRate = 0.001, rho = 0.95, epsilon = 1e-7)`. Differs: TF.js divides
   * by √(E[g²] + ε) with E[g²] from before this step's update; PyTorch (and this) uses the updated one.
   */
  adadelta(learningRate = 0.001, rho = 0.95, epsilon?: number | null): WebGPUOptimizer<'adadelta'> {
    checkArguments('adadelta', 'adadelta', { learningRate, rho, epsilon: epsilonOf(epsilon) });
    return new WebGPUOptimizer('adadelta', { lr: learningRate, rho, eps: epsilonOf(epsilon) });
  },

  /**
   * `tf.train.adam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7)`. Same
   * algorithm (bias corrections applied in another order: results agree to float32 rounding).
   */
  adam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number | null): WebGPUOptimizer<'adam'> {
    checkArguments('adam', 'adam', { learningRate, beta1, beta2, epsilon: epsilonOf(epsilon) });
    return new WebGPUOptimizer('adam', { lr: learningRate, betas: [beta1, beta2], eps: epsilonOf(epsilon) });
  },

  /**
   * `tf.train.adamax(learningRate = 0.002, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7, decay = 0)`.
   * Differs: TF.js divides by max(β2·u, |g|) + ε, PyTorch (and this) by max(β2·u, |g| + ε).
   * `decay` (TF.js's per-step lr decay) other than 0 is refused: set `learningRate` in a callback.
   */
  adamax(learningRate = 0.002, beta1 = 0.9, beta2 = 0.999, epsilon?: number | null, decay = 0): WebGPUOptimizer<'adamax'> {
    checkArguments('adamax', 'adamax', { learningRate, beta1, beta2, epsilon: epsilonOf(epsilon), decay });
    if (decay !== 0) throw new Error(`webgpu-optim/tfjs: train.adamax: decay ${decay} is not supported; set optimizer.learningRate in a callback`);
    return new WebGPUOptimizer('adamax', { lr: learningRate, betas: [beta1, beta2], eps: epsilonOf(epsilon) });
  },

  /**
   * `tf.train.rmsprop(learningRate, decay = 0.9, momentum = 0, epsilon = 1e-7, centered = false)`.
   * Differs: TF.js divides by √(v + ε), PyTorch (and this) by √v + ε.
   */
  rmsprop(learningRate: number, decay = 0.9, momentum = 0, epsilon?: number | null, centered = false): WebGPUOptimizer<'rmsprop'> {
    checkArguments('rmsprop', 'rmsprop', { learningRate, decay, momentum, epsilon: epsilonOf(epsilon), centered });
    return new WebGPUOptimizer('rmsprop', { lr: learningRate, alpha: decay, momentum, eps: epsilonOf(epsilon), centered });
  },
};
