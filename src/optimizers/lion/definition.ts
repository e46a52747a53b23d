import { cautiousNoQ8, cautiousPasses } from '../cautious.js';
import { defineOptimizer } from '../../core/definition.js';
import { is } from '../../core/validate.js';
import { lionReference } from './reference.js';
import source from './lion.wgsl?raw';

/** Lion options (Chen et al. 2023). */
export interface LionOptions {
  lr: number;
  betas: readonly [number, number];
  weightDecay: number;
  /**
   * Cautious updates (Liang et al. 2024, C-Optim's c_lion.py): the signed step of an element is
   * dropped where it disagrees in sign with the gradient, and the kept ones are multiplied by
   * elements / (kept + 1) of the tensor. Weight decay is not masked.
   */
  cautious: boolean;
}

export type LionScalar = 'beta1' | 'oneMinusBeta1' | 'beta2' | 'oneMinusBeta2' | 'negLr' | 'decayFactor';

/**
 * Lion, "EvoLved Sign Momentum" — Chen et al. 2023, "Symbolic Discovery of Optimization
 * Algorithms", Algorithm 2 (https://arxiv.org/abs/2302.06675):
 * `c = β₁m + (1−β₁)g`, `p ← p·(1 − lr·λ) − lr·sign(c)`, `m ← β₂m + (1−β₂)g`. One state slot.
 * Operation order and roundings as the authors' PyTorch port (lucidrains/lion-pytorch):
 * decay, then the signed step, then the momentum.
 */
export const lion = defineOptimizer<LionOptions, LionScalar>({
  name: 'lion',
  kernel: { name: 'lion', source },
  defaults: { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, cautious: false },
  required: [],
  structural: ['cautious'],
  tensorSums: 'cautious only: (elements whose sign(c)·g > 0, elements) per tensor',
  passes: cautiousPasses,
  noQ8State: cautiousNoQ8,
  checks: { lr: is.nonNegative, betas: is.unitPair, weightDecay: is.nonNegative, cautious: is.boolean },
  defines: (groups) => ({ MAXIMIZE: false, CAUTIOUS: groups[0]!.cautious }),
  slots: () => [{ name: 'exp_avg', wgsl: 'expAvg' }],
  groupSlots: () => ['exp_avg'],
  initialValue: () => 0,
  scalars: {
    beta1: { doc: 'f(β₁), interpolation of the update direction', value: (o) => o.betas[0] },
    oneMinusBeta1: { doc: 'f(1 − β₁)', value: (o) => 1 - o.betas[0] },
    beta2: { doc: 'f(β₂), the momentum decay', value: (o) => o.betas[1] },
    oneMinusBeta2: { doc: 'f(1 − β₂)', value: (o) => 1 - o.betas[1] },
    negLr: { doc: 'f(−lr)', value: (o) => -o.lr },
    decayFactor: { doc: 'f(1 − lr·λ), applied to the parameter first (always, ×1 when λ = 0)', value: (o) => 1 - o.lr * o.weightDecay },
  },
  reference: lionReference,
});
