import { defineOptimizer } from '../../core/definition.js';
import { describeValue } from '../../core/describe-value.js';
import { is, type OptionCheck } from '../../core/validate.js';
import { ademamixReference } from './reference.js';
import { halfLifeWarmup, linearWarmup } from './schedulers.js';
import source from './ademamix.wgsl?raw';

/** AdEMAMix options (apple/ml-ademamix's `AdEMAMix`, camelCase), with its defaults. */
export interface AdemamixOptions {
  lr: number;
  /** [β₁, β₂, β₃]: the fast EMA of the gradient, the EMA of its square, the slow EMA (each in [0, 1)). */
  betas: readonly [number, number, number];
  /** The slow EMA's weight in the update (its final value when `alphaWarmup` is set). */
  alpha: number;
  /** Steps over which β₃ rises from β₁ to its final value, linearly in the half-life (null: none). */
  beta3Warmup: number | null;
  /** Steps over which α rises linearly from 0 to its final value (null: none). */
  alphaWarmup: number | null;
  eps: number;
  /** Added to the update as `wd·p` (then scaled by lr with it: AdamW-like, decoupled from the moments). */
  weightDecay: number;
}

export type AdemamixScalar =
  | 'beta1' | 'oneMinusBeta1' | 'beta2' | 'oneMinusBeta2' | 'bc1' | 'bc2Sqrt' | 'alpha' | 'beta3' | 'oneMinusBeta3' | 'eps' | 'weightDecay' | 'negLr';

const checkBetas: OptionCheck = (optimizer, name, value) => {
  if (!Array.isArray(value) || value.length !== 3) {
    throw new TypeError(`webgpu-optim: ${optimizer}: ${name} must be a triple [β₁, β₂, β₃], got ${describeValue(value)}`);
  }
  value.forEach((beta, k) => is.unitInterval(optimizer, `${name}[${k}]`, beta));
};

/** A number of warmup steps, or null for none. */
const checkWarmup: OptionCheck = (optimizer, name, value) => {
  if (value !== null) is.count(optimizer, name, value);
};

/** αₜ: linear from 0 over alphaWarmup steps (the authors' `linear_warmup_scheduler`). */
const alphaAt = (o: AdemamixOptions, t: number) => (o.alphaWarmup === null ? o.alpha : linearWarmup(t, o.alpha, 0, o.alphaWarmup));
/** β₃ₜ: from β₁, linear in the half-life over beta3Warmup steps (the authors' `linear_hl_warmup_scheduler`). */
const beta3At = (o: AdemamixOptions, t: number) => (o.beta3Warmup === null ? o.betas[2] : halfLifeWarmup(t, o.betas[2], o.betas[0], o.beta3Warmup));

/**
 * AdEMAMix — Pagliardini, Ablin & Grangier 2024, "The AdEMAMix Optimizer: Better, Faster, Older"
 * (https://arxiv.org/abs/2409.03137), with the semantics of the authors' apple/ml-ademamix
 * (pytorch/ademamix.py): a fast EMA `m₁ = β₁m₁ + (1−β₁)g` (none at β₁ = 0: the gradient itself),
 * a slow EMA `m₂ = β₃ₜm₂ + (1−β₃ₜ)g` without bias correction, `v = β₂v + (1−β₂)g²`, and
 * `p −= lr·((m₁/(1−β₁ᵗ) + αₜ·m₂) / (√v/√(1−β₂ᵗ) + eps) + wd·p)`; αₜ and β₃ₜ warm up when
 * `alphaWarmup` / `beta3Warmup` are set. State: `exp_avg_fast`, `exp_avg_slow`, `exp_avg_sq`.
 */
export const ademamix = defineOptimizer<AdemamixOptions, AdemamixScalar>({
  name: 'ademamix',
  kernel: { name: 'ademamix', source },
  defaults: { lr: 1e-3, betas: [0.9, 0.999, 0.9999], alpha: 2, beta3Warmup: null, alphaWarmup: null, eps: 1e-8, weightDecay: 0 },
  required: [],
  structural: [],
  checks: { lr: is.nonNegative, betas: checkBetas, alpha: is.nonNegative, beta3Warmup: checkWarmup, alphaWarmup: checkWarmup, eps: is.nonNegative, weightDecay: is.nonNegative },
  // At β₁ = 0 the authors keep no fast EMA (exp_avg_fast is None): a group with β₁ = 0 has no slot.
  defines: (groups) => ({ FAST_EMA: groups.some((o) => o.betas[0] !== 0), MAXIMIZE: false }),
  slots: (d) => [
    ...(d.FAST_EMA ? [{ name: 'exp_avg_fast', wgsl: 'expAvgFast' }] : []),
    { name: 'exp_avg_slow', wgsl: 'expAvgSlow' },
    { name: 'exp_avg_sq', wgsl: 'expAvgSq', squared: true },
  ],
  groupSlots: (o, d) => [...(d.FAST_EMA && o.betas[0] !== 0 ? ['exp_avg_fast'] : []), 'exp_avg_slow', 'exp_avg_sq'],
  initialValue: () => 0,
  scalars: {
    beta1: { doc: 'f(β₁); 0: no fast EMA (the gradient itself)', value: (o) => o.betas[0] },
    oneMinusBeta1: { doc: 'f(1 − β₁)', value: (o) => 1 - o.betas[0] },
    beta2: { doc: 'f(β₂)', value: (o) => o.betas[1] },
    oneMinusBeta2: { doc: 'f(1 − β₂)', value: (o) => 1 - o.betas[1] },
    bc1: { doc: 'f(1 − β₁ᵗ), divides the fast EMA', perStep: (o, t) => 1 - o.betas[0] ** t, combine: 'replace' },
    bc2Sqrt: { doc: 'f(√(1 − β₂ᵗ))', perStep: (o, t) => Math.sqrt(1 - o.betas[1] ** t), combine: 'replace' },
    alpha: { doc: 'f(αₜ), the slow EMA\'s weight', perStep: alphaAt, combine: 'replace' },
    oneMinusBeta3: { doc: 'f(1 − β₃ₜ)', perStep: (o, t) => 1 - beta3At(o, t), combine: 'replace' },
    beta3: {
      doc: 'f(β₃ₜ) (control path: 1 − f(1 − β₃ₜ) in f32, a step-table row holds four values)',
      perStep: beta3At,
      combine: 'replace',
      onDeviceStep: { wgsl: '1.0 - h.oneMinusBeta3', twin: (h) => Math.fround(1 - h.oneMinusBeta3!) },
    },
    eps: { doc: 'f(eps), added outside the square root, after the bias correction', value: (o) => o.eps },
    weightDecay: { doc: 'f(weight_decay), added to the update as wd·p', value: (o) => o.weightDecay },
    negLr: { doc: 'f(−lr)', value: (o) => -o.lr },
  },
  reference: ademamixReference,
});
