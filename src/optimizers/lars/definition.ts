import { tensorSumsPass } from '../../passes/tensor-sums.js';
import { defineOptimizer } from '../../core/definition.js';
import { is } from '../../core/validate.js';
import { larsReference } from './reference.js';
import source from './lars.wgsl?raw';

/** LARS options, named and defaulted as optax.lars (`lr` is required there too). */
export interface LarsOptions {
  lr: number;
  /** Added to the gradient before the trust ratio: `u = g + wd·p`. */
  weightDecay: number;
  /** η in `η·‖p‖ / (‖u‖ + eps)`. */
  trustCoefficient: number;
  eps: number;
  momentum: number;
  nesterov: boolean;
  /** false: this group takes the plain step, ratio 1 (optax's `trust_ratio_mask`, e.g. for biases). */
  trustRatio: boolean;
}

export type LarsScalar = 'weightDecay' | 'trustCoefficient' | 'eps' | 'trustRatio' | 'negLr' | 'momentum';

/**
 * LARS, "Layer-wise Adaptive Rate Scaling" — You, Gitman & Ginsburg 2017, "Large Batch Training of
 * Convolutional Networks" (https://arxiv.org/abs/1708.03888), with the semantics of `optax.lars`:
 * `u = g + wd·p`, per tensor `r = η‖p‖ / (‖u‖ + eps)` (1 when either norm is 0),
 * `u = −lr·(r·u)`, then optax's trace: `t = u + μt`, `p = p + (nesterov ? u + μt : t)`.
 * State `trace` (optax's name; it holds lr-scaled steps, so it starts from 0 and needs no first-step rule).
 */
export const lars = defineOptimizer<LarsOptions, LarsScalar>({
  name: 'lars',
  kernel: { name: 'lars', source },
  defaults: { lr: NaN, weightDecay: 0, trustCoefficient: 0.001, eps: 0, momentum: 0.9, nesterov: false, trustRatio: true },
  required: ['lr'],
  structural: ['nesterov'],
  tensorSums: '(‖p‖², ‖u‖²) per tensor, u = g + wd·p',
  passes: [tensorSumsPass],
  checks: {
    lr: is.nonNegative,
    weightDecay: is.nonNegative,
    trustCoefficient: is.nonNegative,
    eps: is.nonNegative,
    momentum: is.unitInterval,
    nesterov: is.boolean,
    trustRatio: is.boolean,
  },
  defines: (groups) => ({ NESTEROV: groups[0]!.nesterov, MAXIMIZE: false }),
  slots: () => [{ name: 'trace', wgsl: 'trace' }],
  groupSlots: () => ['trace'],
  initialValue: () => 0,
  scalars: {
    weightDecay: { doc: 'f(weight_decay), u = g + wd·p (always added, as optax does)', value: (o) => o.weightDecay },
    trustCoefficient: { doc: 'f(η), the trust coefficient', value: (o) => o.trustCoefficient },
    eps: { doc: 'f(eps), added to ‖u‖', value: (o) => o.eps },
    trustRatio: { doc: '1: the trust ratio applies to this group; 0: ratio 1', value: (o) => (o.trustRatio ? 1 : 0) },
    negLr: { doc: 'f(−lr)', value: (o) => -o.lr },
    momentum: { doc: 'f(μ), the trace decay', value: (o) => o.momentum },
  },
  reference: larsReference,
});
