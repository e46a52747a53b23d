import { optimizerNames, type OptimizerOptions, type OptimizerName, type OptimizerOptionsMap } from '../../src/index.js';
import type { Tolerance } from './allclose.js';

/**
 * GPU vs reference tolerance. The reference rounds every operation to f32 as PyTorch does; a GPU
 * compiler may contract a·b + c into one FMA (WGSL allows it), which changes the last bit of a
 * rounding and, over 10 steps, a few ULP of state. rtol 1e-5 (≈ 80 ULP) covers that; atol 1e-7
 * covers values that land near zero through cancellation, where relative error means nothing.
 * A wrong formula (eps placement, bias correction, step-1 rule) is off by far more.
 * SwiftShader (CI) is bit-exact against the reference: the parity run logs the largest difference.
 */
export const PARITY_TOLERANCE: Tolerance = { atol: 1e-7, rtol: 1e-5 };

/**
 * The option matrix every parity suite walks: each optimizer, each option on and off. Typed by the
 * registry: an optimizer registered without a matrix here does not compile.
 *
 * Every optimizer that takes eps has one row where eps is large against what it is added to (the
 * parity gradients are 0.01…10 in magnitude, so √v̂ and √sum go down to ~0.003–0.01, and the small
 * tensors' norms to ~0.01): doubling eps in a kernel then moves the result far beyond
 * PARITY_TOLERANCE, where the default eps (1e-8) is lost in the rounding. These rows sit before the
 * last one, which stays each optimizer's richest configuration.
 */
export const OPTION_MATRIX: { readonly [K in OptimizerName]: readonly OptimizerOptions<OptimizerOptionsMap[K]>[] } = {
  sgd: [
    { lr: 0.1 },
    { lr: 0.1, momentum: 0.9 },
    { lr: 0.1, momentum: 0.9, dampening: 0.5 },
    { lr: 0.1, momentum: 0.9, nesterov: true },
    { lr: 0.1, weightDecay: 0.01 },
    { lr: 0.05, momentum: 0.9, weightDecay: 0.01, maximize: true },
    { lr: 0.05, momentum: 0.5, nesterov: true, maximize: true, weightDecay: 0.1 },
  ],
  ema_momentum: [{}, { lr: 0.05, beta: 0.8, weightDecay: 0.01, maximize: true }],
  adagrad: [
    {},
    { lrDecay: 0.01 },
    { weightDecay: 0.1 },
    { initialAccumulatorValue: 0.1 },
    { eps: 0.1 },
    { maximize: true, eps: 1e-6, lrDecay: 0.1 },
  ],
  rmsprop: [
    {},
    { centered: true },
    { momentum: 0.9 },
    { centered: true, momentum: 0.9 },
    { weightDecay: 0.01, alpha: 0.9 },
    { eps: 0.1 },
    { maximize: true, eps: 1e-6 },
  ],
  adadelta: [{}, { rho: 0.95, eps: 1e-5 }, { weightDecay: 0.1 }, { eps: 0.01 }, { maximize: true, lr: 0.5 }],
  adam: [
    {},
    { amsgrad: true },
    { weightDecay: 0.01 },
    { maximize: true },
    { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6 },
    { eps: 0.1 },
    { amsgrad: true, weightDecay: 0.1, maximize: true },
  ],
  adamw: [{}, { amsgrad: true }, { weightDecay: 0 }, { eps: 0.1 }, { maximize: true, weightDecay: 0.1, lr: 0.01 }],
  adamax: [{}, { weightDecay: 0.01 }, { lr: 0.01, betas: [0.8, 0.99], eps: 1e-3 }, { eps: 0.1 }, { maximize: true, weightDecay: 0.1 }],
  nadam: [{}, { momentumDecay: 0.05, betas: [0.8, 0.99] }, { weightDecay: 0.1, eps: 1e-3 }, { eps: 0.1 }, { decoupledWeightDecay: true, weightDecay: 0.1, lr: 0.01 }],
  // betas[1] 0.9: ρₜ > 5 from step 6 on, so 10 steps cover both branches.
  radam: [{}, { betas: [0.9, 0.9] }, { weightDecay: 0.1, betas: [0.8, 0.9] }, { betas: [0.9, 0.9], eps: 0.1 }, { decoupledWeightDecay: true, weightDecay: 0.1, lr: 0.01, betas: [0.9, 0.9], eps: 1e-3 }],
  rprop: [{}, { etas: [0.3, 1.5], stepSizes: [1e-3, 0.05] }, { maximize: true, lr: 0.1 }],
  lion: [{}, { betas: [0.5, 0.9] }, { lr: 0.01, weightDecay: 0.5, betas: [0.95, 0.98] }],
  adafactor: [
    {},
    { lr: 0.05, weightDecay: 0.1 },
    { eps: [1e-30, 1e-3], beta2Decay: -0.5, d: 2 },
    { eps: [0.1, 1] },
    { maximize: true, eps: [1e-6, 0.01], lr: 0.02, weightDecay: 0.01, beta2Decay: -0.6 },
  ],
  lamb: [{ lr: 0.01 }, { lr: 0.01, weightDecay: 0.01 }, { lr: 0.003, betas: [0.8, 0.99], eps: 1e-3 }, { lr: 0.01, eps: 0.1 }, { lr: 0.02, weightDecay: 0.1, eps: 1e-8, betas: [0.85, 0.95] }],
  lars: [
    { lr: 0.5 },
    { lr: 0.5, weightDecay: 0.01 },
    { lr: 0.1, trustCoefficient: 0.02, eps: 1e-6, momentum: 0.5 },
    { lr: 0.5, eps: 1 },
    { lr: 0.2, trustCoefficient: 0.01, eps: 1e-4, momentum: 0.8, nesterov: true, weightDecay: 0.1 },
  ],
  adamw_schedule_free: [{}, { warmupSteps: 4 }, { weightDecay: 0.1, r: 1, weightLrPower: 1, betas: [0.8, 0.99] }, { eps: 0.1 }, { lr: 0.01, eps: 1e-3, warmupSteps: 3 }],
};

/** Odd and aligned sizes in one set: 1, 3, 63, 64, 65, 1000 and one large odd tensor. */
export const ODD_SIZES = [1, 3, 63, 64, 65, 1000, 100_003];

/**
 * Per registered optimizer: its plainest and its richest configuration from the matrix. The feature
 * suites walk these, so a newly registered optimizer is in every suite without a hand-written list.
 */
export const REGISTERED: readonly { name: OptimizerName; plain: Record<string, unknown>; rich: Record<string, unknown> }[] = optimizerNames.map((name) => {
  const matrix = OPTION_MATRIX[name] as readonly Record<string, unknown>[];
  return { name, plain: matrix[0]!, rich: matrix[matrix.length - 1]! };
});
