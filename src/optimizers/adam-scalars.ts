/** Scalar-schema entries and state slots shared by the Adam family (Adam, AdamW, NAdam, RAdam, LAMB). */
import type { FixedScalar, SlotSpec } from '../core/definition.js';

/** Adam's two moments, in PyTorch's names: their slots and the names every tensor keeps. */
export const MOMENT_SLOTS: readonly SlotSpec[] = [
  { name: 'exp_avg', wgsl: 'expAvg' },
  { name: 'exp_avg_sq', wgsl: 'expAvgSq', squared: true },
];
export const MOMENT_SLOT_NAMES: readonly string[] = MOMENT_SLOTS.map((s) => s.name);

type Betas = { betas: readonly [number, number] };
type Decay = { lr: number; weightDecay: number; decoupledWeightDecay: boolean };

/** The moments' decay rates, each `1 − β` rounded once from float64. */
export const momentScalars = {
  beta1: { doc: 'f(β₁)', value: (o) => o.betas[0] },
  oneMinusBeta1: { doc: 'f(1 − β₁), rounded once from float64', value: (o) => 1 - o.betas[0] },
  beta2: { doc: 'f(β₂)', value: (o) => o.betas[1] },
  oneMinusBeta2: { doc: 'f(1 − β₂)', value: (o) => 1 - o.betas[1] },
} satisfies Record<string, FixedScalar<Betas>>;

/** Weight decay coupled into the gradient, or decoupled (`p·(1 − lr·wd)` first, PyTorch 2.x's option). */
export const weightDecayScalars = {
  weightDecay: { doc: 'f(weight_decay), coupled into the gradient (0 when decoupled)', value: (o) => (o.decoupledWeightDecay ? 0 : o.weightDecay) },
  decayFactor: { doc: 'decoupled: f(1 − lr·weight_decay), else 1', value: (o) => (o.decoupledWeightDecay ? 1 - o.lr * o.weightDecay : 1) },
} satisfies Record<string, FixedScalar<Decay>>;
