import { defineOptimizer } from '../../core/definition.js';
import { is } from '../../core/validate.js';
import { adadeltaReference } from './reference.js';
import source from './adadelta.wgsl?raw';

/** torch.optim.Adadelta options. */
export interface AdadeltaOptions {
  lr: number;
  rho: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

export type AdadeltaScalar = 'negLr' | 'weightDecay' | 'rho' | 'oneMinusRho' | 'eps';

/**
 * Adadelta (torch.optim.Adadelta): `sq = ρ·sq + (1−ρ)·d²`, `Δ = √(acc + eps)/√(sq + eps)·d`,
 * `acc = ρ·acc + (1−ρ)·Δ²`, `p −= lr·Δ`. Zeiler 2012, https://arxiv.org/abs/1212.5701
 */
export const adadelta = defineOptimizer<AdadeltaOptions, AdadeltaScalar>({
  name: 'adadelta',
  kernel: { name: 'adadelta', source },
  defaults: { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false },
  required: [],
  structural: ['maximize'],
  checks: { lr: is.nonNegative, rho: is.unitInterval, eps: is.nonNegative, weightDecay: is.nonNegative, maximize: is.boolean },
  defines: (groups) => ({ MAXIMIZE: groups[0]!.maximize }),
  slots: () => [
    { name: 'square_avg', wgsl: 'squareAvg', squared: true },
    { name: 'acc_delta', wgsl: 'accDelta', squared: true },
  ],
  groupSlots: () => ['square_avg', 'acc_delta'],
  initialValue: () => 0,
  scalars: {
    negLr: { doc: 'f(−lr)', value: (o) => -o.lr },
    weightDecay: { doc: 'f(weight_decay)', value: (o) => o.weightDecay },
    rho: { doc: 'f(ρ)', value: (o) => o.rho },
    oneMinusRho: { doc: 'f(1 − ρ)', value: (o) => 1 - o.rho },
    eps: { doc: 'f(eps), added inside both square roots', value: (o) => o.eps },
  },
  reference: adadeltaReference,
});
