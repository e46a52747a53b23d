import { adadeltaReference } from '../reference/adadelta.js';
import type { OptimizerDefinition } from './definition.js';
import { checkBoolean, checkNonNegative, checkUnitInterval } from './validate.js';

/** torch.optim.Adadelta options. */
export interface AdadeltaOptions {
  lr: number;
  rho: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

/**
 * Adadelta (torch.optim.Adadelta): `sq = ρ·sq + (1−ρ)·d²`, `Δ = √(acc + eps)/√(sq + eps)·d`,
 * `acc = ρ·acc + (1−ρ)·Δ²`, `p −= lr·Δ`. https://pytorch.org/docs/1.13/generated/torch.optim.Adadelta.html
 */
export const adadelta: OptimizerDefinition<AdadeltaOptions> = {
  name: 'adadelta',
  family: 'adadelta',
  defaults: { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false },
  required: [],
  structural: ['maximize'],
  validate(o) {
    checkNonNegative('adadelta', 'lr', o.lr);
    checkUnitInterval('adadelta', 'rho', o.rho);
    checkNonNegative('adadelta', 'eps', o.eps);
    checkNonNegative('adadelta', 'weightDecay', o.weightDecay);
    checkBoolean('adadelta', 'maximize', o.maximize);
  },
  defines: (groups) => ({ MAXIMIZE: groups[0]!.maximize }),
  slots: () => [
    { name: 'square_avg', binding: 4 },
    { name: 'acc_delta', binding: 5 },
  ],
  groupSlots: () => ['square_avg', 'acc_delta'],
  initialValue: () => 0,
  scalarNames: ['negLr', 'weightDecay', 'rho', 'oneMinusRho', 'eps'],
  scalars: (o) => [-o.lr, o.weightDecay, o.rho, 1 - o.rho, o.eps],
  stepTable: () => [0, 0],
  applyStepTable: () => {},
  reference: adadeltaReference,
};
