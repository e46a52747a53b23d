import { defineOptimizer } from '../../core/definition.js';
import { stepFold } from '../../core/step-fold.js';
import { is } from '../../core/validate.js';
import { scheduleFreePaperReference, switchMode } from './reference.js';
import source from './adamw_schedule_free_paper.wgsl?raw';

/** Schedule-Free AdamW options, the paper's form (facebookresearch/schedule_free `AdamWScheduleFreePaper`). */
export interface ScheduleFreePaperOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  warmupSteps: number;
  r: number;
  weightLrPower: number;
}

export type ScheduleFreePaperScalar =
  | 'beta2' | 'oneMinusBeta2' | 'eps' | 'weightDecay' | 'toEvalWeight' | 'toTrainWeight' | 'ckp1' | 'yCoefficient' | 'negLr';

/** The step's learning rate: lr · warmup · √(1 − β₂ᵗ) (the bias correction folded into lr). */
const stepLr = (o: ScheduleFreePaperOptions, t: number) => o.lr * (t - 1 < o.warmupSteps ? t / o.warmupSteps : 1) * Math.sqrt(1 - o.betas[1] ** t);

/** lr_max, this step's weight and weight_sum after step t, float64 in step order (memoized: see step-fold.ts). */
const weights = stepFold<ScheduleFreePaperOptions, { lrMax: number; weight: number; weightSum: number }>(
  'adamw_schedule_free_paper: the averaging weight',
  (o) => `${o.lr}:${o.betas[1]}:${o.warmupSteps}:${o.r}:${o.weightLrPower}`,
  { lrMax: -1, weight: 0, weightSum: 0 },
  (state, o, t) => {
    const lrMax = Math.max(stepLr(o, t), state.lrMax);
    const weight = t ** o.r * lrMax ** o.weightLrPower;
    return { lrMax, weight, weightSum: state.weightSum + weight };
  },
);

/** ckₜ₊₁ = weight / weight_sum (0 while every weight is 0). */
const ckp1 = (o: ScheduleFreePaperOptions, t: number) => {
  const { weight, weightSum } = weights(o, t);
  return weightSum === 0 ? 0 : weight / weightSum;
};

/**
 * Schedule-Free AdamW as published — Defazio et al. 2024, "The Road Less Scheduled"
 * (https://arxiv.org/abs/2405.15682), with the semantics of facebookresearch/schedule_free's
 * `AdamWScheduleFreePaper` (its `AdamWScheduleFree` before release 1.3; `adamw_schedule_free` is
 * the current form). Kept for runs trained with it: the parameters hold y = (1−β₁)z + β₁x while training; each step
 * `gₙ = g/(√v + eps) (+ wd·y)`, `y = lerp(y, z, cₜ₊₁) + lrₜ(β₁(1−cₜ₊₁) − 1)·gₙ`, `z −= lrₜ·gₙ`,
 * with `lrₜ = lr·warmup·√(1−β₂ᵗ)` and `cₜ₊₁ = wₜ/Σw`, `wₜ = tʳ·lr_maxᵖ`. `eval()` switches the
 * parameters to the average x, `train()` back to y. It needs no lr schedule (refused); lr, betas,
 * warmupSteps, r and weightLrPower are fixed once stepping has begun (the weights' history).
 */
export const adamwScheduleFreePaper = defineOptimizer<ScheduleFreePaperOptions, ScheduleFreePaperScalar>({
  name: 'adamw_schedule_free_paper',
  kernel: { name: 'adamw_schedule_free_paper', source },
  defaults: { lr: 0.0025, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2 },
  required: [],
  structural: [],
  fixedOnceStarted: ['lr', 'betas', 'warmupSteps', 'r', 'weightLrPower'],
  noLrSchedule: 'Schedule-Free AdamW replaces the schedule (warmupSteps is its warmup)',
  groupStepCount: 'its bias correction and averaging weights (k, lr_max, weight_sum) are its group\'s, advanced by every step; a tensor without gradient is left as it is',
  modes: { initial: 'train', switchTwin: ({ param, state, h, to }) => switchMode(param, state.z!, to === 'eval' ? h.toEvalWeight : h.toTrainWeight) },
  checks: { lr: is.nonNegative, betas: is.unitPair, eps: is.nonNegative, weightDecay: is.nonNegative, warmupSteps: is.count, r: is.nonNegative, weightLrPower: is.nonNegative },
  validate(o) {
    if (!(o.betas[0] > 0)) throw new RangeError(`webgpu-optim: adamw_schedule_free_paper: betas[0] must be > 0 (eval() divides by it), got ${o.betas[0]}`);
  },
  defines: () => ({ MAXIMIZE: false }),
  slots: () => [
    { name: 'z', wgsl: 'zSeq', alwaysF32: true },
    { name: 'exp_avg_sq', wgsl: 'expAvgSq', squared: true },
  ],
  groupSlots: () => ['z', 'exp_avg_sq'],
  initialValue: () => 0,
  initialFromParams: ['z'],
  scalars: {
    beta2: { doc: 'f(β₂)', value: (o) => o.betas[1] },
    oneMinusBeta2: { doc: 'f(1 − β₂)', value: (o) => 1 - o.betas[1] },
    eps: { doc: 'f(eps), added outside the square root', value: (o) => o.eps },
    weightDecay: { doc: 'f(weight_decay), taken at y', value: (o) => o.weightDecay },
    toEvalWeight: { doc: 'f(1 − 1/β₁): eval() sets p = lerp(y, z, it) = x', value: (o) => 1 - 1 / o.betas[0] },
    toTrainWeight: { doc: 'f(1 − β₁): train() sets p = lerp(x, z, it) = y', value: (o) => 1 - o.betas[0] },
    ckp1: { doc: 'f(cₜ₊₁) = f(wₜ / Σw)', perStep: ckp1, combine: 'replace' },
    yCoefficient: { doc: 'f(lrₜ·(β₁(1 − cₜ₊₁) − 1))', perStep: (o, t) => stepLr(o, t) * (o.betas[0] * (1 - ckp1(o, t)) - 1), combine: 'replace' },
    negLr: { doc: 'f(−lrₜ)', perStep: (o, t) => -stepLr(o, t), combine: 'replace' },
  },
  reference: scheduleFreePaperReference,
});
