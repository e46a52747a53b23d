import { defineOptimizer } from '../../core/definition.js';
import { is } from '../../core/validate.js';
import { adagradReference } from './reference.js';
import source from './adagrad.wgsl?raw';

/** torch.optim.Adagrad options. */
export interface AdagradOptions {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

export type AdagradScalar = 'negClr' | 'weightDecay' | 'eps';

/**
 * Adagrad (torch.optim.Adagrad): `clr = lr / (1 + (t−1)·lrDecay)`, `sum += d²`,
 * `p −= clr·d / (√sum + eps)`. Duchi, Hazan & Singer 2011, https://jmlr.org/papers/v12/duchi11a.html
 */
export const adagrad = defineOptimizer<AdagradOptions, AdagradScalar>({
  name: 'adagrad',
  kernel: { name: 'adagrad', source },
  defaults: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false },
  required: [],
  structural: ['maximize'],
  checks: { lr: is.nonNegative, lrDecay: is.nonNegative, weightDecay: is.nonNegative, initialAccumulatorValue: is.nonNegative, eps: is.nonNegative, maximize: is.boolean },
  defines: (groups) => ({ MAXIMIZE: groups[0]!.maximize }),
  slots: () => [{ name: 'sum', wgsl: 'sum', squared: true }],
  groupSlots: () => ['sum'],
  initialValue: (_slot, o) => o.initialAccumulatorValue,
  scalars: {
    negClr: { doc: 'f(−lr / (1 + (t − 1)·lr_decay))', base: (o) => -o.lr, perStep: (o, t) => 1 + (t - 1) * o.lrDecay, combine: 'divide' },
    weightDecay: { doc: 'f(weight_decay)', value: (o) => o.weightDecay },
    eps: { doc: 'f(eps), added outside the square root', value: (o) => o.eps },
  },
  reference: adagradReference,
});
