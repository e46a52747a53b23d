import { fr } from '../../core/twin-math.js';
import { MOMENT_SLOT_NAMES, MOMENT_SLOTS, momentScalars, weightDecayScalars } from '../adam-scalars.js';
import { defineOptimizer } from '../../core/definition.js';
import { stepFold } from '../../core/step-fold.js';
import { is } from '../../core/validate.js';
import { nadamReference } from './reference.js';
import source from './nadam.wgsl?raw';

/** torch.optim.NAdam options (`decoupledWeightDecay` as in PyTorch 2.x). */
export interface NadamOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  momentumDecay: number;
  decoupledWeightDecay: boolean;
}

export type NadamScalar =
  | 'beta1' | 'oneMinusBeta1' | 'beta2' | 'oneMinusBeta2' | 'eps' | 'weightDecay' | 'decayFactor' | 'gradCoefficient' | 'momentumCoefficient' | 'bc2';

/** μₜ = β₁(1 − ½·0.96^(tψ)), float64. */
const mu = (o: NadamOptions, t: number) => o.betas[0] * (1 - 0.5 * 0.96 ** (t * o.momentumDecay));

/**
 * mu_product after t steps: Π f(μₛ), each product rounded to f32 as PyTorch's 0-dim float32 state
 * is (memoized: see step-fold.ts).
 */
export const muProduct = stepFold<NadamOptions, number>(
  'nadam: mu_product',
  (o) => `${o.betas[0]}:${o.momentumDecay}`,
  1,
  (value, o, t) => fr(value * fr(mu(o, t))),
  // μ never decreases with t (β₁ ≥ 0, ψ ≥ 0) and stays below 1, so once f(value·f(μₜ₊₁)) is value
  // it is for every later step too: typically 0 or the smallest subnormal within a few hundred steps.
  (value, o, t) => value === 0 || fr(value * fr(mu(o, t + 1))) === value,
);

/** PyTorch 1.13's mu_product_next: (mu_product · μₜ) · μₜ₊₁ in f32 (μₜ counted twice, as 1.13 does). */
const muProductNext = (o: NadamOptions, t: number) => fr(fr(muProduct(o, t) * fr(mu(o, t))) * fr(mu(o, t + 1)));

/**
 * NAdam (torch.optim.NAdam): Adam with Nesterov momentum and momentum decay ψ:
 * `μₜ = β₁(1 − ½·0.96^(tψ))`, `p −= lr·(1−μₜ)/(1−Πμ)·d/denom + lr·μₜ₊₁/(1−Πμ·μₜ₊₁)·m/denom`,
 * `denom = √(v/(1−β₂ᵗ)) + eps`. Dozat 2016, https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ
 * `mu_product` follows from the steps taken, so β₁ and ψ are fixed once stepping has begun.
 */
export const nadam = defineOptimizer<NadamOptions, NadamScalar>({
  name: 'nadam',
  kernel: { name: 'nadam', source },
  defaults: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, decoupledWeightDecay: false },
  required: [],
  structural: ['decoupledWeightDecay'],
  fixedOnceStarted: ['betas', 'momentumDecay'],
  checks: { lr: is.nonNegative, betas: is.unitPair, eps: is.nonNegative, weightDecay: is.nonNegative, momentumDecay: is.nonNegative, decoupledWeightDecay: is.boolean },
  defines: (groups) => ({ MAXIMIZE: false, DECOUPLED: groups[0]!.decoupledWeightDecay }),
  slots: () => MOMENT_SLOTS,
  groupSlots: () => MOMENT_SLOT_NAMES,
  scalarState: { mu_product: muProduct },
  initialValue: () => 0,
  scalars: {
    ...momentScalars,
    eps: { doc: 'f(eps), added outside the square root', value: (o) => o.eps },
    ...weightDecayScalars,
    gradCoefficient: {
      doc: 'f(−lr·(1 − μₜ)/(1 − mu_product))',
      base: (o) => -o.lr,
      perStep: (o, t) => (1 - muProduct(o, t)) / (1 - mu(o, t)),
      combine: 'divide',
      exact: (o, t) => (-o.lr * (1 - mu(o, t))) / (1 - muProduct(o, t)),
    },
    momentumCoefficient: {
      doc: 'f(−lr·μₜ₊₁/(1 − mu_product_next))',
      base: (o) => -o.lr,
      perStep: (o, t) => (1 - muProductNext(o, t)) / mu(o, t + 1),
      combine: 'divide',
      exact: (o, t) => (-o.lr * mu(o, t + 1)) / (1 - muProductNext(o, t)),
    },
    bc2: { doc: 'f(1 − β₂ᵗ), inside the square root', perStep: (o, t) => 1 - o.betas[1] ** t, combine: 'replace' },
  },
  reference: nadamReference,
});
