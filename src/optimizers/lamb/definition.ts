import { MOMENT_SLOT_NAMES, MOMENT_SLOTS, momentScalars } from '../adam-scalars.js';
import { tensorSumsPass } from '../../passes/tensor-sums.js';
import { defineOptimizer } from '../../core/definition.js';
import { is } from '../../core/validate.js';
import { lambReference } from './reference.js';
import source from './lamb.wgsl?raw';

/** LAMB options, named and defaulted as optax.lamb (`lr` is required there too). */
export interface LambOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  /** Decoupled weight decay, added to the Adam direction before the trust ratio (optax's `weight_decay`). */
  weightDecay: number;
}

export type LambScalar = 'beta1' | 'oneMinusBeta1' | 'beta2' | 'oneMinusBeta2' | 'bc1' | 'bc2' | 'eps' | 'weightDecay' | 'negLr';

/**
 * LAMB, "Layer-wise Adaptive Moments for Batch training" — You et al. 2020, "Large Batch
 * Optimization for Deep Learning: Training BERT in 76 minutes", Algorithm 2
 * (https://arxiv.org/abs/1904.00962), with the semantics of `optax.lamb`:
 * `m = (1−β₁)g + β₁m`, `v = (1−β₂)g² + β₂v`, `u = m̂ / (√v̂ + eps) + wd·p` (bias-corrected moments),
 * then per tensor `r = ‖p‖ / ‖u‖` (1 when either norm is 0) and `p = p − lr·(r·u)`.
 * State `exp_avg`, `exp_avg_sq` (optax's `mu`, `nu`).
 */
export const lamb = defineOptimizer<LambOptions, LambScalar>({
  name: 'lamb',
  kernel: { name: 'lamb', source },
  defaults: { lr: NaN, betas: [0.9, 0.999], eps: 1e-6, weightDecay: 0 },
  required: ['lr'],
  structural: [],
  tensorSums: '(‖p‖², ‖u‖²) per tensor, u the Adam direction with weight decay',
  passes: [tensorSumsPass],
  partialsStore: 'the moments',
  checks: { lr: is.nonNegative, betas: is.unitPair, eps: is.nonNegative, weightDecay: is.nonNegative },
  defines: () => ({ MAXIMIZE: false }),
  slots: () => MOMENT_SLOTS,
  groupSlots: () => MOMENT_SLOT_NAMES,
  initialValue: () => 0,
  scalars: {
    ...momentScalars,
    bc1: { doc: 'f(1 − β₁ᵗ), the first moment divided by it', perStep: (o, t) => 1 - o.betas[0] ** t, combine: 'replace' },
    bc2: { doc: 'f(1 − β₂ᵗ), the second moment divided by it (inside the root)', perStep: (o, t) => 1 - o.betas[1] ** t, combine: 'replace' },
    eps: { doc: 'f(eps), added to √v̂', value: (o) => o.eps },
    weightDecay: { doc: 'f(weight_decay), u + wd·p (always added, as optax does)', value: (o) => o.weightDecay },
    negLr: { doc: 'f(−lr)', value: (o) => -o.lr },
  },
  reference: lambReference,
});
