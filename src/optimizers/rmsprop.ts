import { rmspropReference } from '../reference/rmsprop.js';
import type { OptimizerDefinition } from './definition.js';
import { checkBoolean, checkNonNegative, checkUnitInterval } from './validate.js';

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

/**
 * RMSprop (torch.optim.RMSprop): `sq = α·sq + (1−α)·d²`; centered: `ga = α·ga + (1−α)·d`,
 * `avg = √(sq − ga²) + eps`, else `avg = √sq + eps`; with momentum `b = μ·b + d/avg`, `p −= lr·b`,
 * else `p −= lr·d/avg`. https://pytorch.org/docs/1.13/generated/torch.optim.RMSprop.html
 */
export const rmsprop: OptimizerDefinition<RmspropOptions> = {
  name: 'rmsprop',
  family: 'rmsprop',
  defaults: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false },
  required: [],
  structural: ['centered', 'maximize'],
  validate(o) {
    checkNonNegative('rmsprop', 'lr', o.lr);
    checkUnitInterval('rmsprop', 'alpha', o.alpha);
    checkNonNegative('rmsprop', 'eps', o.eps);
    checkNonNegative('rmsprop', 'weightDecay', o.weightDecay);
    checkNonNegative('rmsprop', 'momentum', o.momentum);
    checkBoolean('rmsprop', 'centered', o.centered);
    checkBoolean('rmsprop', 'maximize', o.maximize);
  },
  defines: (groups) => ({
    CENTERED: groups[0]!.centered,
    MOMENTUM: groups.some((o) => o.momentum > 0),
    MAXIMIZE: groups[0]!.maximize,
  }),
  slots: (d) => [
    { name: 'square_avg', binding: 4 },
    ...(d.CENTERED ? [{ name: 'grad_avg', binding: 5 }] : []),
    ...(d.MOMENTUM ? [{ name: 'momentum_buffer', binding: 6 }] : []),
  ],
  groupSlots: (o, d) => [
    'square_avg',
    ...(d.CENTERED ? ['grad_avg'] : []),
    ...(d.MOMENTUM && o.momentum > 0 ? ['momentum_buffer'] : []),
  ],
  initialValue: () => 0,
  scalarNames: ['negLr', 'weightDecay', 'alpha', 'oneMinusAlpha', 'eps', 'momentum'],
  scalars: (o) => [-o.lr, o.weightDecay, o.alpha, 1 - o.alpha, o.eps, o.momentum],
  stepTable: () => [0, 0],
  applyStepTable: () => {},
  reference: rmspropReference,
};
