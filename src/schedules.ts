import { describeValue } from './describe-value.js';

/**
 * Learning-rate schedules: pure functions `(t, baseLr) => lr`, where `t` counts the optimizer
 * steps already taken (0 for the first step) and `baseLr` is the group's `lr` hyperparameter.
 * The optimizer evaluates the schedule on the host for each step and writes the result into that
 * step's scalar slot, so no pipeline changes and several steps recorded into one encoder each get
 * their own learning rate. Semantics follow torch.optim.lr_scheduler stepped once per iteration.
 */
export type LrSchedule = (t: number, baseLr: number) => number;

function positiveInteger(name: string, value: number) {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`webgpu-optim: ${name} must be a positive integer, got ${describeValue(value)}`);
}
function finiteNonNegative(name: string, value: number) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`webgpu-optim: ${name} must be a finite number >= 0, got ${describeValue(value)}`);
  }
}

/** The base learning rate, unchanged (bit-identical to no schedule). */
export const constantLr = (): LrSchedule => (_t, lr) => lr;

/** StepLR: `lr · gamma^⌊t / stepSize⌋` (e.g. halve every k epochs: stepSize = k · stepsPerEpoch, gamma 0.5). */
export function stepDecay({ stepSize, gamma = 0.1 }: { stepSize: number; gamma?: number }): LrSchedule {
  positiveInteger('stepDecay.stepSize', stepSize);
  finiteNonNegative('stepDecay.gamma', gamma);
  return (t, lr) => lr * gamma ** Math.floor(t / stepSize);
}

/** ExponentialLR: `lr · gamma^t`. */
export function exponentialDecay({ gamma }: { gamma: number }): LrSchedule {
  finiteNonNegative('exponentialDecay.gamma', gamma);
  return (t, lr) => lr * gamma ** t;
}

/**
 * Linear warmup from `lr · warmupStartFactor` to `lr` over `warmupSteps`, then cosine annealing
 * to `minLr` at `totalSteps` (and `minLr` after).
 */
export function cosineWithWarmup({
  warmupSteps,
  totalSteps,
  minLr = 0,
  warmupStartFactor = 0,
}: { warmupSteps: number; totalSteps: number; minLr?: number; warmupStartFactor?: number }): LrSchedule {
  if (!Number.isSafeInteger(warmupSteps) || warmupSteps < 0) throw new RangeError(`webgpu-optim: cosineWithWarmup.warmupSteps must be an integer >= 0, got ${describeValue(warmupSteps)}`);
  positiveInteger('cosineWithWarmup.totalSteps', totalSteps);
  if (warmupSteps > totalSteps) throw new RangeError('webgpu-optim: cosineWithWarmup.warmupSteps must not exceed totalSteps');
  finiteNonNegative('cosineWithWarmup.minLr', minLr);
  finiteNonNegative('cosineWithWarmup.warmupStartFactor', warmupStartFactor);
  return (t, lr) => {
    if (t < warmupSteps) return lr * (warmupStartFactor + (1 - warmupStartFactor) * (t / warmupSteps));
    if (t >= totalSteps) return minLr;
    const progress = (t - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/**
 * OneCycleLR (cosine annealing, learning rate only): from `maxLr / divFactor` up to `maxLr` over
 * `pctStart · totalSteps`, then down to `maxLr / (divFactor · finalDivFactor)`. `maxLr` defaults
 * to the group's `lr`.
 */
export function oneCycle({
  totalSteps,
  maxLr,
  pctStart = 0.3,
  divFactor = 25,
  finalDivFactor = 1e4,
}: { totalSteps: number; maxLr?: number; pctStart?: number; divFactor?: number; finalDivFactor?: number }): LrSchedule {
  positiveInteger('oneCycle.totalSteps', totalSteps);
  if (!(pctStart > 0 && pctStart < 1)) throw new RangeError(`webgpu-optim: oneCycle.pctStart must be in (0, 1), got ${describeValue(pctStart)}`);
  if (maxLr !== undefined) finiteNonNegative('oneCycle.maxLr', maxLr);
  if (!(divFactor > 0) || !(finalDivFactor > 0)) throw new RangeError('webgpu-optim: oneCycle.divFactor and finalDivFactor must be > 0');
  const cos = (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  // torch: the phase ends at steps pctStart·total − 1 and total − 1.
  const upEnd = pctStart * totalSteps - 1;
  const downEnd = totalSteps - 1;
  return (t, lr) => {
    const peak = maxLr ?? lr;
    const initial = peak / divFactor;
    const final = initial / finalDivFactor;
    if (t <= upEnd) return cos(initial, peak, upEnd > 0 ? t / upEnd : 1);
    return cos(peak, final, Math.min(1, (t - upEnd) / (downEnd - upEnd)));
  };
}

/** The learning rate a schedule gives, checked: a finite lr >= 0 that stays finite in float32. */
export function scheduledLr(schedule: LrSchedule | undefined, t: number, baseLr: number): number {
  if (!schedule) return baseLr;
  const lr = schedule(t, baseLr);
  if (typeof lr !== 'number' || !Number.isFinite(Math.fround(lr)) || lr < 0) {
    throw new RangeError(`webgpu-optim: the lr schedule returned ${String(lr)} at step ${t}; it must be a number >= 0, finite in float32`);
  }
  return lr;
}

/** Throws unless `schedule` is undefined or a function `(t, baseLr) => lr`. */
export function checkSchedule(schedule: unknown): asserts schedule is LrSchedule | undefined {
  if (schedule !== undefined && typeof schedule !== 'function') {
    throw new TypeError(`webgpu-optim: the lr schedule must be a function (t, baseLr) => lr, got ${describeValue(schedule)}`);
  }
}
