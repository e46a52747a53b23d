import { factoredSlots } from '../../passes/factored.js';
import { tensorSumsPass } from '../../passes/tensor-sums.js';
import { factoredStatePass } from '../../passes/factored-state.js';
import { defineOptimizer } from '../../core/definition.js';
import { is, type OptionCheck } from '../../core/validate.js';
import { adafactorReference } from './reference.js';
import source from './adafactor.wgsl?raw';
import { describeValue } from '../../core/describe-value.js';

/** torch.optim.Adafactor's options (PyTorch 2.5+), with its defaults. */
export interface AdafactorOptions {
  /** The largest relative step size ρₜ = min(lr, 1/√t), and the weight decay's multiplier. */
  lr: number;
  /** τ in 1 − β̂₂ₜ = t^τ (≤ 0). */
  beta2Decay: number;
  /** [eps1, eps2]: eps1 (null: float32's machine epsilon, 2⁻²³) floors the second moment, eps2 the parameter RMS. */
  eps: readonly [number | null, number];
  /** The update-clipping threshold (≥ 1). */
  d: number;
  /** Decoupled: `p ·= 1 − lr·wd` first. */
  weightDecay: number;
  maximize: boolean;
}

export type AdafactorScalar = 'beta2Weight' | 'rho' | 'eps1' | 'eps1Sq' | 'eps2' | 'd' | 'decayFactor';

/** float32's machine epsilon, torch.finfo(torch.float32).eps: eps1's default. */
export const F32_EPSILON = 2 ** -23;

const eps1Of = (o: AdafactorOptions) => o.eps[0] ?? F32_EPSILON;

const checkEps: OptionCheck = (optimizer, name, value) => {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new TypeError(`webgpu-optim: ${optimizer}: ${name} must be a pair [eps1 | null, eps2], got ${describeValue(value)}`);
  }
  if (value[0] !== null) is.nonNegative(optimizer, `${name}[0]`, value[0]);
  is.nonNegative(optimizer, `${name}[1]`, value[1]);
};

/**
 * Adafactor — Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory
 * Cost" (https://arxiv.org/abs/1804.04235), with the semantics of torch.optim.Adafactor (PyTorch
 * 2.5+): a tensor of ≥ 2 dimensions keeps running means of g² over its rows (`row_var`) and
 * columns (`col_var`), so its state is O(rows + cols); vectors keep `variance`. Per step:
 * `1 − β̂₂ = t^τ`, `ρ = min(lr, 1/√t)`, `α = max(eps2, RMS(p))·ρ`, `p ·= 1 − lr·wd`,
 * `V̂ = row·col / max(mean(row), eps1)`, `u = g / √max(V̂, eps1²)`, `p −= α / max(1, RMS(u)/d) · u`.
 * No momentum. An lr schedule is refused: ρ is its schedule.
 */
export const adafactor = defineOptimizer<AdafactorOptions, AdafactorScalar>({
  name: 'adafactor',
  kernel: { name: 'adafactor', source },
  defaults: { lr: 1e-2, beta2Decay: -0.8, eps: [null, 1e-3], d: 1, weightDecay: 0, maximize: false },
  required: [],
  structural: ['maximize'],
  noLrSchedule: 'its relative step size min(lr, 1/√t) is its schedule (torch.optim.Adafactor)',
  tensorSums: '(‖p‖², ‖u‖²) per tensor, p before the weight decay, u the normalized gradient',
  passes: [factoredStatePass, tensorSumsPass],
  shapedSlots: factoredSlots,
  checks: { lr: is.nonNegative, beta2Decay: is.finite, eps: checkEps, d: is.finite, weightDecay: is.nonNegative, maximize: is.boolean },
  validate(o) {
    if (o.beta2Decay > 0) throw new RangeError(`webgpu-optim: adafactor: beta2Decay must be <= 0, got ${o.beta2Decay}`);
    if (o.d < 1) throw new RangeError(`webgpu-optim: adafactor: d (the clipping threshold) must be >= 1, got ${o.d}`);
  },
  defines: (groups) => ({ MAXIMIZE: groups[0]!.maximize }),
  slots: () => [],
  groupSlots: () => [],
  initialValue: () => 0,
  scalars: {
    beta2Weight: { doc: 'f(t^τ): the lerp weight 1 − β̂₂ₜ of the second moments', perStep: (o, t) => t ** o.beta2Decay, combine: 'replace' },
    rho: { doc: 'f(min(lr, 1/√t)): the relative step size', perStep: (o, t) => Math.min(o.lr, 1 / Math.sqrt(t)), combine: 'replace' },
    eps1: { doc: 'f(eps1): the floor of the mean row factor', value: eps1Of },
    eps1Sq: { doc: 'f(eps1²): the floor of the second-moment estimate', value: (o) => eps1Of(o) ** 2 },
    eps2: { doc: 'f(eps2): the floor of RMS(p) in α', value: (o) => o.eps[1] },
    d: { doc: 'f(d): the update-clipping threshold', value: (o) => o.d },
    decayFactor: { doc: 'f(1 − lr·wd), applied first (exactly 1 when wd = 0)', value: (o) => 1 - o.lr * o.weightDecay },
  },
  reference: adafactorReference,
});
