import { MOMENT_SLOTS, momentScalars } from '../adam-scalars.js';
import { cautiousNoQ8, cautiousPasses } from '../cautious.js';
import { defineOptimizer } from '../../core/definition.js';
import { is } from '../../core/validate.js';
import { adamReference } from './reference.js';
import source from './adam.wgsl?raw';

/** torch.optim.Adam / AdamW options. */
export interface AdamOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  /**
   * Cautious updates (Liang et al. 2024, C-Optim's c_adamw.py): the step of an element is dropped
   * where the new first moment disagrees in sign with the gradient (m·g ≤ 0), and the kept ones are
   * divided by max(kept fraction of the tensor, 1e-3). Weight decay is not masked.
   */
  cautious: boolean;
}

function adamFamily(name: 'adam' | 'adamw', decoupled: boolean) {
  return defineOptimizer<AdamOptions, AdamScalar>({
    name,
    kernel: { name: 'adam', source },
    defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: decoupled ? 1e-2 : 0, amsgrad: false, maximize: false, cautious: false },
    required: [],
    structural: ['amsgrad', 'maximize', 'cautious'],
    tensorSums: 'cautious only: (elements whose m·d > 0, elements) per tensor',
    passes: cautiousPasses,
    noQ8State: cautiousNoQ8,
    notInTorch: ['cautious'],
    checks: { lr: is.nonNegative, betas: is.unitPair, eps: is.nonNegative, weightDecay: is.nonNegative, amsgrad: is.boolean, maximize: is.boolean, cautious: is.boolean },
    defines: (groups) => ({ AMSGRAD: groups[0]!.amsgrad, MAXIMIZE: groups[0]!.maximize, DECOUPLED: decoupled, CAUTIOUS: groups[0]!.cautious }),
    slots: (d) => [
      ...MOMENT_SLOTS,
      ...(d.AMSGRAD ? [{ name: 'max_exp_avg_sq', wgsl: 'maxExpAvgSq', squared: true }] : []),
    ],
    groupSlots: (_o, d) => ['exp_avg', 'exp_avg_sq', ...(d.AMSGRAD ? ['max_exp_avg_sq'] : [])],
    initialValue: () => 0,
    scalars: {
      ...momentScalars,
      negStepSize: { doc: 'f(−lr / (1 − β₁ᵗ))', base: (o) => -o.lr, perStep: (o, t) => 1 - o.betas[0] ** t, combine: 'divide' },
      bc2Sqrt: { doc: 'f(√(1 − β₂ᵗ))', perStep: (o, t) => Math.sqrt(1 - o.betas[1] ** t), combine: 'replace' },
      eps: { doc: 'f(eps), added outside the square root, after the bias correction', value: (o) => o.eps },
      weightDecay: { doc: 'Adam: f(weight_decay), coupled into the gradient (0 for AdamW)', value: (o) => (decoupled ? 0 : o.weightDecay) },
      decayFactor: { doc: 'AdamW: f(1 − lr·weight_decay), applied to the old parameter (1 for Adam)', value: (o) => (decoupled ? 1 - o.lr * o.weightDecay : 1) },
    },
    reference: adamReference,
  });
}

export type AdamScalar = 'beta1' | 'oneMinusBeta1' | 'beta2' | 'oneMinusBeta2' | 'negStepSize' | 'bc2Sqrt' | 'eps' | 'weightDecay' | 'decayFactor';

/**
 * Adam (torch.optim.Adam), L2 weight decay coupled into the gradient:
 * `m = β₁m + (1−β₁)d`, `v = β₂v + (1−β₂)d²` (AMSGrad: `v̂ = max(v̂, v)`),
 * `p −= lr/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + eps)`. Kingma & Ba 2015, https://arxiv.org/abs/1412.6980
 */
export const adam = adamFamily('adam', false);

/**
 * AdamW (torch.optim.AdamW): `p *= 1 − lr·wd` (decoupled, default wd 1e-2), then Adam without L2.
 * Loshchilov & Hutter 2019, https://arxiv.org/abs/1711.05101
 */
export const adamw = adamFamily('adamw', true);
