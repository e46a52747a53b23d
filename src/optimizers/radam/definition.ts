import { MOMENT_SLOT_NAMES, MOMENT_SLOTS, momentScalars, weightDecayScalars } from '../adam-scalars.js';
import { defineOptimizer } from '../../core/definition.js';
import { is } from '../../core/validate.js';
import { radamReference } from './reference.js';
import source from './radam.wgsl?raw';

/** torch.optim.RAdam options (`decoupledWeightDecay` as in PyTorch 2.x). */
export interface RadamOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  decoupledWeightDecay: boolean;
}

export type RadamScalar =
  | 'beta1' | 'oneMinusBeta1' | 'beta2' | 'oneMinusBeta2' | 'lr' | 'eps' | 'weightDecay' | 'decayFactor' | 'bc1' | 'bc2Sqrt' | 'rect';

/** ρ∞ = 2/(1 − β₂) − 1 and ρₜ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ), the length of the approximated moving average. */
function radamRho(beta2: number, t: number): { rhoInf: number; rhoT: number } {
  const rhoInf = 2 / (1 - beta2) - 1;
  return { rhoInf, rhoT: rhoInf - (2 * t * beta2 ** t) / (1 - beta2 ** t) };
}

/** The rectification term of step t, or 0 while ρₜ ≤ 5 (then the step is SGD with momentum). */
function radamRect(beta2: number, t: number): number {
  const { rhoInf, rhoT } = radamRho(beta2, t);
  if (!(rhoT > 5)) return 0;
  return Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
}

/**
 * RAdam (torch.optim.RAdam): Adam's moments, `m̂ = m/(1−β₁ᵗ)`; when ρₜ > 5,
 * `p −= lr · m̂ · √(1−β₂ᵗ)/(√v + eps) · r_t`, else `p −= lr · m̂`. The switch depends on t only, so
 * the host decides it with the step's scalars. Liu et al. 2020, https://arxiv.org/abs/1908.03265
 */
export const radam = defineOptimizer<RadamOptions, RadamScalar>({
  name: 'radam',
  kernel: { name: 'radam', source },
  defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false },
  required: [],
  structural: ['decoupledWeightDecay'],
  checks: { lr: is.nonNegative, betas: is.unitPair, eps: is.nonNegative, weightDecay: is.nonNegative, decoupledWeightDecay: is.boolean },
  defines: (groups) => ({ MAXIMIZE: false, DECOUPLED: groups[0]!.decoupledWeightDecay }),
  slots: () => MOMENT_SLOTS,
  groupSlots: () => MOMENT_SLOT_NAMES,
  initialValue: () => 0,
  scalars: {
    ...momentScalars,
    lr: { doc: 'f(lr)', value: (o) => o.lr },
    eps: { doc: 'f(eps), added outside the square root', value: (o) => o.eps },
    ...weightDecayScalars,
    bc1: { doc: 'f(1 − β₁ᵗ)', perStep: (o, t) => 1 - o.betas[0] ** t, combine: 'replace' },
    bc2Sqrt: { doc: 'f(√(1 − β₂ᵗ))', perStep: (o, t) => Math.sqrt(1 - o.betas[1] ** t), combine: 'replace' },
    rect: { doc: 'f(r_t) when ρₜ > 5, else 0 (the un-rectified step)', perStep: (o, t) => radamRect(o.betas[1], t), combine: 'replace' },
  },
  reference: radamReference,
});
