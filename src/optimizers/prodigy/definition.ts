import { defineOptimizer } from '../../core/definition.js';
import { PRODIGY_CHECKS, PRODIGY_DEFAULTS } from './options.js';
import { initialProdigyWords, prodigyDictEntries, prodigyDictWords, prodigyPass } from './scalars-pass.js';
import { prodigySetReference } from './twin.js';
import source from './prodigy.wgsl?raw';

/** Prodigy options (Mishchenko & Defazio 2023), named and defaulted as the authors' `prodigyopt` package. */
export interface ProdigyOptions {
  /** Scales the Prodigy step size d (the authors recommend leaving it at 1). Equal in every group. */
  lr: number;
  /** β₁, β₂ of the moments (β₁ = 0 keeps no exp_avg). Read from the first group. */
  betas: readonly [number, number];
  /** β₃ of s and of d's numerator; undefined: √β₂. Read from the first group. */
  beta3: number | undefined;
  /** Added to √v, times d: √v + d·eps. */
  eps: number;
  /** L2 penalty (decouple false: added to the gradient) or decoupled decay (p ← p − wd·dlr·p). */
  weightDecay: number;
  /** AdamW-style decoupled weight decay. Read from the first group. */
  decouple: boolean;
  /** Adam's bias correction in dlr: √(1 − β₂ᵏ⁺¹) / (1 − β₁ᵏ⁺¹). Read from the first group. */
  useBiasCorrection: boolean;
  /** s grows by (d/d0)·d·g instead of (d/d0)·dlr·g (lr out of d's denominator during warm-up). */
  safeguardWarmup: boolean;
  /** The initial estimate of d. */
  d0: number;
  /** d̂ = dCoef · numerator / Σ|s|. Read from the first group. */
  dCoef: number;
  /** d grows by at most this factor per step (Infinity: unbounded). Read from the first group. */
  growthRate: number;
  /**
   * d's sums take every sliceP-th element of each (flattened) tensor (1: all, the exact method): s
   * moves and ⟨g, p0 − p⟩ sums there only. s and p0 keep the tensor's length here (the others stay 0 and the initial values). Equal in every group.
   */
  sliceP: number;
}

export type ProdigyScalar =
  | 'beta1'
  | 'oneMinusBeta1'
  | 'beta2'
  | 'oneMinusBeta2'
  | 'beta3'
  | 'lr'
  | 'd0'
  | 'eps'
  | 'weightDecay'
  | 'dCoef'
  | 'growthRate'
  | 'biasCorrection'
  | 'safeguardWarmup'
  | 'sliceP';

/**
 * The options the authors read from the first group only (d is one estimate for the whole set):
 * here they must be equal in every group, refused otherwise, naming the option.
 */
const GLOBAL_OPTIONS = ['betas', 'beta3', 'decouple', 'useBiasCorrection', 'd0', 'dCoef', 'growthRate', 'sliceP'] as const;

/**
 * Prodigy — Mishchenko & Defazio 2023, "Prodigy: An Expeditiously Adaptive Parameter-Free Learner"
 * (https://arxiv.org/abs/2306.06101), with the semantics of the authors' `prodigyopt` package
 * (konstmish/prodigy, prodigyopt/prodigy.py @ 3efb213): Adam whose step size d is estimated from
 * the whole set each step, d̂ = dCoef · Σ (d/d0)·dlr·⟨g, p0 − p⟩ (β₃-averaged) / Σ|s|, on the GPU
 * without readback (docs/semantics.md § Prodigy). State `exp_avg` (β₁ > 0), `exp_avg_sq`, `s`,
 * `p0`; the set's d, d_numerator, d_max, d_hat, k in a buffer its pass keeps.
 */
export const prodigy = defineOptimizer<ProdigyOptions, ProdigyScalar>({
  name: 'prodigy',
  kernel: { name: 'prodigy', source },
  defaults: PRODIGY_DEFAULTS,
  required: [],
  structural: [...GLOBAL_OPTIONS, 'lr'],
  tensorSums: '(Σ g·(p0 − p), Σ|s|) per tensor, g after the coupled decay, s as just updated',
  passes: [prodigyPass],
  partialsStore: 'the moments and s',
  groupStepCount: "its d, d_max, d_numerator and bias correction are the set's, advanced by every step that moves d (k); a tensor without gradient adds nothing to d's sums and is left as it is",
  noQ8State: () => "Prodigy's s and p0 are not moving averages of the gradient (p0 is a point, s a weighted sum that d's denominator adds up); use stateFormat 'f32', 'bf16' or 'f16'",
  checks: Object.fromEntries(Object.entries(PRODIGY_CHECKS).map(([name, check]) => [name, (_optimizer: string, option: string, value: unknown) => check(option, value)])) as never,
  defines: (groups) => ({ MAXIMIZE: false, FIRST_MOMENT: groups[0]!.betas[0] > 0, DECOUPLED: groups[0]!.decouple }),
  slots: (d) => [
    ...(d.FIRST_MOMENT ? [{ name: 'exp_avg', wgsl: 'expAvg' }] : []),
    { name: 'exp_avg_sq', wgsl: 'expAvgSq', squared: true },
    // d's denominator adds |s| up and its numerator takes p0 − p: kept in f32 in every format.
    { name: 's', wgsl: 'prodigyS', alwaysF32: true },
    { name: 'p0', wgsl: 'prodigyP0', alwaysF32: true },
  ],
  groupSlots: (_o, d) => [...(d.FIRST_MOMENT ? ['exp_avg'] : []), 'exp_avg_sq', 's', 'p0'],
  initialValue: () => 0,
  initialFromParams: ['p0'],
  scalars: {
    beta1: { doc: 'f(β₁) of the first group (the authors read it there)', value: (o) => o.betas[0] },
    oneMinusBeta1: { doc: 'f(1 − β₁), times d', value: (o) => 1 - o.betas[0] },
    beta2: { doc: 'f(β₂)', value: (o) => o.betas[1] },
    oneMinusBeta2: { doc: 'f(1 − β₂), times d²', value: (o) => 1 - o.betas[1] },
    beta3: { doc: 'f(β₃), or f(√β₂) when beta3 is undefined', value: (o) => o.beta3 ?? Math.sqrt(o.betas[1]) },
    lr: { doc: 'f(lr) (the schedule\'s), the same in every group', value: (o) => o.lr },
    d0: { doc: 'f(d0): s and the numerator grow by (d/d0)·…', value: (o) => o.d0 },
    eps: { doc: 'f(eps): √v + d·eps', value: (o) => o.eps },
    weightDecay: { doc: 'f(weight_decay): coupled (g + wd·p) or decoupled (p − wd·dlr·p)', value: (o) => o.weightDecay },
    dCoef: { doc: 'f(d_coef): d̂ = d_coef · numerator / Σ|s|', value: (o) => o.dCoef },
    growthRate: { doc: 'f(growth_rate) (Infinity: unbounded)', value: (o) => o.growthRate },
    biasCorrection: { doc: '1: dlr includes √(1 − β₂ᵏ⁺¹)/(1 − β₁ᵏ⁺¹); 0: it does not', value: (o) => (o.useBiasCorrection ? 1 : 0) },
    safeguardWarmup: { doc: '1: s grows by (d/d0)·d·g; 0: by (d/d0)·dlr·g', value: (o) => (o.safeguardWarmup ? 1 : 0) },
    sliceP: { doc: 'slice_p: s and d\'s numerator take the elements whose index in the flattened tensor it divides', value: (o) => o.sliceP },
  },
  reference: () => {
    throw new Error('webgpu-optim: prodigy steps the whole set at once (setReference)');
  },
  setState: (groups, tensorGroup) => initialProdigyWords(Math.fround(groups[0]!.d0), tensorGroup),
  setReference: prodigySetReference,
  setStateDict: { read: prodigyDictEntries, words: (entries, initial, groups, fail, step) => prodigyDictWords(entries, initial, groups[0]!.betas, fail, step) },
});
