import { adamReference } from '../reference/adam.js';
import type { OptimizerDefinition } from './definition.js';
import { checkBoolean, checkNonNegative, checkUnitInterval } from './validate.js';

/** torch.optim.Adam / AdamW options. */
export interface AdamOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

function validateAdam(name: string, o: AdamOptions): void {
  checkNonNegative(name, 'lr', o.lr);
  if (!Array.isArray(o.betas) || o.betas.length !== 2) {
    throw new TypeError(`webgpu-optim: ${name}: betas must be a pair [beta1, beta2], got ${String(o.betas)}`);
  }
  checkUnitInterval(name, 'betas[0]', o.betas[0]);
  checkUnitInterval(name, 'betas[1]', o.betas[1]);
  checkNonNegative(name, 'eps', o.eps);
  checkNonNegative(name, 'weightDecay', o.weightDecay);
  checkBoolean(name, 'amsgrad', o.amsgrad);
  checkBoolean(name, 'maximize', o.maximize);
}

function adamFamily(name: 'adam' | 'adamw', decoupled: boolean): OptimizerDefinition<AdamOptions> {
  return {
    name,
    family: 'adam',
    defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: decoupled ? 1e-2 : 0, amsgrad: false, maximize: false },
    required: [],
    structural: ['amsgrad', 'maximize'],
    validate: (o) => validateAdam(name, o),
    defines: (groups) => ({ AMSGRAD: groups[0]!.amsgrad, MAXIMIZE: groups[0]!.maximize, DECOUPLED: decoupled }),
    slots: (d) => [
      { name: 'exp_avg', binding: 4 },
      { name: 'exp_avg_sq', binding: 5 },
      ...(d.AMSGRAD ? [{ name: 'max_exp_avg_sq', binding: 6 }] : []),
    ],
    groupSlots: (_o, d) => ['exp_avg', 'exp_avg_sq', ...(d.AMSGRAD ? ['max_exp_avg_sq'] : [])],
    initialValue: () => 0,
    scalarNames: ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'negStepSize', 'bc2Sqrt', 'eps', 'weightDecay', 'decayFactor'],
    scalars(o, step, deviceStep) {
      const [beta1, beta2] = o.betas;
      const bc1 = deviceStep ? 1 : 1 - beta1 ** step;
      const bc2 = deviceStep ? 1 : 1 - beta2 ** step;
      return [
        beta1,
        1 - beta1,
        beta2,
        1 - beta2,
        -(o.lr / bc1),
        Math.sqrt(bc2),
        o.eps,
        decoupled ? 0 : o.weightDecay,
        decoupled ? 1 - o.lr * o.weightDecay : 1,
      ];
    },
    stepTable: (o, step) => [1 - o.betas[0] ** step, Math.sqrt(1 - o.betas[1] ** step)],
    applyStepTable(scalars, [bc1, bc2Sqrt]) {
      scalars[4] = Math.fround(scalars[4]! / bc1);
      scalars[5] = bc2Sqrt;
    },
    reference: adamReference,
  };
}

/**
 * Adam (torch.optim.Adam), L2 weight decay coupled into the gradient:
 * `m = β₁m + (1−β₁)d`, `v = β₂v + (1−β₂)d²` (AMSGrad: `v̂ = max(v̂, v)`),
 * `p −= lr/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + eps)`. https://arxiv.org/abs/1412.6980
 */
export const adam = adamFamily('adam', false);

/**
 * AdamW (torch.optim.AdamW): `p *= 1 − lr·wd` (decoupled, default wd 1e-2), then Adam without L2.
 * https://arxiv.org/abs/1711.05101
 */
export const adamw = adamFamily('adamw', true);

