import { defineOptimizer } from '../../core/definition.js';
import { is } from '../../core/validate.js';
import { rmspropReference } from './reference.js';
import source from './rmsprop.wgsl?raw';

/** torch.optim.RMSprop options. */
export interface RmspropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

export type RmspropScalar = 'negLr' | 'weightDecay' | 'alpha' | 'oneMinusAlpha' | 'eps' | 'momentum';

/**
 * RMSprop (torch.optim.RMSprop): `sq = α·sq + (1−α)·d²`; centered: `ga = α·ga + (1−α)·d`,
 * `avg = √(sq − ga²) + eps`, else `avg = √sq + eps`; with momentum `b = μ·b + d/avg`, `p −= lr·b`,
 * else `p −= lr·d/avg`. Hinton, Lecture 6e of "Neural Networks for Machine Learning" (2012);
 * centered: Graves 2013, https://arxiv.org/abs/1308.0850
 */
export const rmsprop = defineOptimizer<RmspropOptions, RmspropScalar>({
  name: 'rmsprop',
  kernel: { name: 'rmsprop', source },
  defaults: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false },
  required: [],
  structural: ['centered', 'maximize'],
  checks: {
    lr: is.nonNegative,
    alpha: is.unitInterval,
    eps: is.nonNegative,
    weightDecay: is.nonNegative,
    momentum: is.nonNegative,
    centered: is.boolean,
    maximize: is.boolean,
  },
  defines: (groups) => ({
    CENTERED: groups[0]!.centered,
    MOMENTUM: groups.some((o) => o.momentum > 0),
    MAXIMIZE: groups[0]!.maximize,
  }),
  slots: (d) => [
    { name: 'square_avg', wgsl: 'squareAvg', squared: true },
    ...(d.CENTERED ? [{ name: 'grad_avg', wgsl: 'gradAvg' }] : []),
    ...(d.MOMENTUM ? [{ name: 'momentum_buffer', wgsl: 'momentumBuffer' }] : []),
  ],
  groupSlots: (o, d) => [
    'square_avg',
    ...(d.CENTERED ? ['grad_avg'] : []),
    ...(d.MOMENTUM && o.momentum > 0 ? ['momentum_buffer'] : []),
  ],
  initialValue: () => 0,
  scalars: {
    negLr: { doc: 'f(−lr)', value: (o) => -o.lr },
    weightDecay: { doc: 'f(weight_decay)', value: (o) => o.weightDecay },
    alpha: { doc: 'f(α)', value: (o) => o.alpha },
    oneMinusAlpha: { doc: 'f(1 − α)', value: (o) => 1 - o.alpha },
    eps: { doc: 'f(eps), added outside the square root, after centering', value: (o) => o.eps },
    momentum: { doc: 'f(momentum); 0: this group takes the plain step', value: (o) => o.momentum },
  },
  reference: rmspropReference,
});
