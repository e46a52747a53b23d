import { defineOptimizer } from '../../core/definition.js';
import { is } from '../../core/validate.js';
import { adamaxReference } from './reference.js';
import source from './adamax.wgsl?raw';

/** torch.optim.Adamax options. */
export interface AdamaxOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

export type AdamaxScalar = 'beta1' | 'oneMinusBeta1' | 'beta2' | 'negClr' | 'eps' | 'weightDecay';

/**
 * Adamax (torch.optim.Adamax), Adam with the infinity norm: `m = β₁m + (1−β₁)d`,
 * `u = max(β₂u, |d| + eps)`, `p −= lr/(1−β₁ᵗ) · m/u`. Kingma & Ba 2015 (§7.1),
 * https://arxiv.org/abs/1412.6980
 */
export const adamax = defineOptimizer<AdamaxOptions, AdamaxScalar>({
  name: 'adamax',
  kernel: { name: 'adamax', source },
  defaults: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false },
  required: [],
  structural: ['maximize'],
  checks: { lr: is.nonNegative, betas: is.unitPair, eps: is.nonNegative, weightDecay: is.nonNegative, maximize: is.boolean },
  defines: (groups) => ({ MAXIMIZE: groups[0]!.maximize }),
  slots: () => [
    { name: 'exp_avg', wgsl: 'expAvg' },
    { name: 'exp_inf', wgsl: 'expInf', nonNegative: true },
  ],
  groupSlots: () => ['exp_avg', 'exp_inf'],
  initialValue: () => 0,
  scalars: {
    beta1: { doc: 'f(β₁)', value: (o) => o.betas[0] },
    oneMinusBeta1: { doc: 'f(1 − β₁)', value: (o) => 1 - o.betas[0] },
    beta2: { doc: 'f(β₂)', value: (o) => o.betas[1] },
    negClr: { doc: 'f(−lr / (1 − β₁ᵗ)): the bias correction is on m only', base: (o) => -o.lr, perStep: (o, t) => 1 - o.betas[0] ** t, combine: 'divide' },
    eps: { doc: 'f(eps), added to |d| before the maximum', value: (o) => o.eps },
    weightDecay: { doc: 'f(weight_decay)', value: (o) => o.weightDecay },
  },
  reference: adamaxReference,
});
