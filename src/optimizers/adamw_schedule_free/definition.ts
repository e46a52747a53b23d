import { defineOptimizer } from '../../core/definition.js';
import { stepFold } from '../../core/step-fold.js';
import { fr } from '../../core/twin-math.js';
import { is } from '../../core/validate.js';
import { switchMode } from '../adamw_schedule_free_paper/reference.js';
import { scheduleFreeReference } from './reference.js';
import source from './adamw_schedule_free.wgsl?raw';

/** Schedule-Free AdamW options (facebookresearch/schedule_free `AdamWScheduleFree`, release 1.3 on). */
export interface ScheduleFreeOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  warmupSteps: number;
  r: number;
  weightLrPower: number;
  /** An EMA of the gradient inside the AdamW step (upstream `inner_momentum`); 0 keeps no `exp_avg`. */
  innerMomentum: number;
}

export type ScheduleFreeScalar =
  | 'beta2' | 'oneMinusBeta2' | 'bc2' | 'innerMomentum' | 'oneMinusInnerMomentum' | 'bc1' | 'eps' | 'weightDecay'
  | 'beta1' | 'toEvalWeight' | 'toTrainWeight' | 'ckp1' | 'negLr' | 'yCoefficient';

/** The step's learning rate: lr · warmup (no bias correction folded in since release 1.3). */
const stepLr = (o: ScheduleFreeOptions, t: number) => o.lr * (t - 1 < o.warmupSteps ? t / o.warmupSteps : 1);

/** lr_max, this step's weight and weight_sum after step t, float64 in step order (memoized: see step-fold.ts). */
const weights = stepFold<ScheduleFreeOptions, { lrMax: number; weight: number; weightSum: number }>(
  'adamw_schedule_free: the averaging weight',
  (o) => `${o.lr}:${o.warmupSteps}:${o.r}:${o.weightLrPower}`,
  { lrMax: -1, weight: 0, weightSum: 0 },
  (state, o, t) => {
    const lrMax = Math.max(stepLr(o, t), state.lrMax);
    const weight = t ** o.r * lrMax ** o.weightLrPower;
    return { lrMax, weight, weightSum: state.weightSum + weight };
  },
);

/** ckₜ₊₁ = weight / weight_sum (0 while every weight is 0). */
const ckp1 = (o: ScheduleFreeOptions, t: number) => {
  const { weight, weightSum } = weights(o, t);
  return weightSum === 0 ? 0 : weight / weightSum;
};

/**
 * Schedule-Free AdamW — Defazio et al. 2024, "The Road Less Scheduled"
 * (https://arxiv.org/abs/2405.15682), with the semantics of facebookresearch/schedule_free's
 * `AdamWScheduleFree` since release 1.3: the parameters hold y = (1−β₁)z + β₁x while training;
 * each step `v = β₂v + (1−β₂)g²`, `d = g` (or, with innerMomentum μ ≠ 0, `m = μm + (1−μ)g`,
 * `d = m/(1−μᵗ)`), `gₙ = d/(√(v/(1−β₂ᵗ)) + eps) (+ wd·y)`,
 * `y = lerp(y, z, cₜ₊₁) + lrₜ(β₁(1−cₜ₊₁) − 1)·gₙ`, `z −= lrₜ·gₙ`, with `lrₜ = lr·warmup` and
 * `cₜ₊₁ = wₜ/Σw`, `wₜ = tʳ·lr_maxᵖ`. `eval()` switches the parameters to the average x, `train()`
 * back to y. It needs no lr schedule (refused); lr, warmupSteps, r, weightLrPower and innerMomentum
 * are fixed once stepping has begun (the weights' and the bias correction's history). The form
 * before release 1.3 is `adamw_schedule_free_paper`.
 */
export const adamwScheduleFree = defineOptimizer<ScheduleFreeOptions, ScheduleFreeScalar>({
  name: 'adamw_schedule_free',
  kernel: { name: 'adamw_schedule_free', source },
  defaults: { lr: 0.0025, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2, innerMomentum: 0 },
  required: [],
  structural: [],
  fixedOnceStarted: ['lr', 'betas', 'warmupSteps', 'r', 'weightLrPower', 'innerMomentum'],
  noLrSchedule: 'Schedule-Free AdamW replaces the schedule (warmupSteps is its warmup)',
  groupStepCount: 'its bias correction and averaging weights (k, lr_max, weight_sum) are its group\'s, advanced by every step; a tensor without gradient is left as it is',
  modes: { initial: 'train', switchTwin: ({ param, state, h, to }) => switchMode(param, state.z!, to === 'eval' ? h.toEvalWeight : h.toTrainWeight) },
  checks: { lr: is.nonNegative, betas: is.unitPair, eps: is.nonNegative, weightDecay: is.nonNegative, warmupSteps: is.count, r: is.nonNegative, weightLrPower: is.nonNegative, innerMomentum: is.unitInterval },
  validate(o) {
    if (!(o.betas[0] > 0)) throw new RangeError(`webgpu-optim: adamw_schedule_free: betas[0] must be > 0 (eval() divides by it), got ${o.betas[0]}`);
  },
  defines: (groups) => ({ MAXIMIZE: false, INNER_MOMENTUM: groups.some((o) => o.innerMomentum !== 0) }),
  slots: (d) => [
    { name: 'z', wgsl: 'zSeq', alwaysF32: true },
    { name: 'exp_avg_sq', wgsl: 'expAvgSq', squared: true },
    ...(d.INNER_MOMENTUM ? [{ name: 'exp_avg', wgsl: 'expAvg' }] : []),
  ],
  groupSlots: (o, d) => ['z', 'exp_avg_sq', ...(d.INNER_MOMENTUM && o.innerMomentum !== 0 ? ['exp_avg'] : [])],
  initialValue: () => 0,
  initialFromParams: ['z'],
  scalars: {
    beta2: { doc: 'f(β₂)', value: (o) => o.betas[1] },
    oneMinusBeta2: { doc: 'f(1 − β₂)', value: (o) => 1 - o.betas[1] },
    bc2: { doc: 'f(1 − β₂ᵗ): v is divided by it inside the square root', perStep: (o, t) => 1 - o.betas[1] ** t, combine: 'replace' },
    innerMomentum: { doc: 'f(μ), inner_momentum; 0: this group keeps no exp_avg', value: (o) => o.innerMomentum },
    oneMinusInnerMomentum: { doc: 'f(1 − μ)', value: (o) => 1 - o.innerMomentum },
    bc1: { doc: 'f(1 − μᵗ): exp_avg is divided by it', perStep: (o, t) => 1 - o.innerMomentum ** t, combine: 'replace' },
    eps: { doc: 'f(eps), added outside the square root, after the bias correction', value: (o) => o.eps },
    weightDecay: { doc: 'f(weight_decay), taken at y', value: (o) => o.weightDecay },
    toEvalWeight: { doc: 'f(1 − 1/β₁): eval() sets p = lerp(y, z, it) = x', value: (o) => 1 - 1 / o.betas[0] },
    toTrainWeight: { doc: 'f(1 − β₁): train() sets p = lerp(x, z, it) = y', value: (o) => 1 - o.betas[0] },
    beta1: { doc: 'f(β₁) (yCoefficient on the control path)', value: (o) => o.betas[0] },
    ckp1: { doc: 'f(cₜ₊₁) = f(wₜ / Σw)', perStep: ckp1, combine: 'replace' },
    negLr: { doc: 'f(−lrₜ)', perStep: (o, t) => -stepLr(o, t), combine: 'replace' },
    // Five step-dependent scalars, four table entries: on the control path (the GPU counts the
    // steps) yCoefficient is made from the others in f32; the host path takes the exact value.
    yCoefficient: {
      doc: 'f(lrₜ·(β₁(1 − cₜ₊₁) − 1))',
      perStep: (o, t) => stepLr(o, t) * (o.betas[0] * (1 - ckp1(o, t)) - 1),
      combine: 'replace',
      onDeviceStep: {
        wgsl: 'h.negLr * (1.0 - h.beta1 * (1.0 - h.ckp1))',
        twin: (h) => fr(h.negLr! * fr(1 - fr(h.beta1! * fr(1 - h.ckp1!)))),
      },
    },
  },
  reference: scheduleFreeReference,
});
