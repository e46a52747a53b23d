import { adagradReference } from '../reference/adagrad.js';
import type { OptimizerDefinition } from './definition.js';
import { checkBoolean, checkNonNegative } from './validate.js';

/** torch.optim.Adagrad options. */
export interface AdagradOptions {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

/**
 * Adagrad (torch.optim.Adagrad): `clr = lr / (1 + (t−1)·lrDecay)`, `sum += d²`,
 * `p −= clr·d / (√sum + eps)`. https://pytorch.org/docs/1.13/generated/torch.optim.Adagrad.html
 */
export const adagrad: OptimizerDefinition<AdagradOptions> = {
  name: 'adagrad',
  family: 'adagrad',
  defaults: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false },
  required: [],
  structural: ['maximize'],
  validate(o) {
    checkNonNegative('adagrad', 'lr', o.lr);
    checkNonNegative('adagrad', 'lrDecay', o.lrDecay);
    checkNonNegative('adagrad', 'weightDecay', o.weightDecay);
    checkNonNegative('adagrad', 'initialAccumulatorValue', o.initialAccumulatorValue);
    checkNonNegative('adagrad', 'eps', o.eps);
    checkBoolean('adagrad', 'maximize', o.maximize);
  },
  defines: (groups) => ({ MAXIMIZE: groups[0]!.maximize }),
  slots: () => [{ name: 'sum', binding: 4 }],
  groupSlots: () => ['sum'],
  initialValue: (_slot, o) => o.initialAccumulatorValue,
  scalarNames: ['negClr', 'weightDecay', 'eps'],
  scalars: (o, step, deviceStep) => [deviceStep ? -o.lr : -(o.lr / (1 + (step - 1) * o.lrDecay)), o.weightDecay, o.eps],
  stepTable: (o, step) => [1 + (step - 1) * o.lrDecay, 0],
  applyStepTable: (scalars, [denominator]) => {
    scalars[0] = Math.fround(scalars[0]! / denominator);
  },
  reference: adagradReference,
};
