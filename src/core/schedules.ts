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

/** Throws unless `options` is a plain object whose keys are all in `known` (a typo is not ignored). */
function checkScheduleOptions(name: string, options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`webgpu-optim: ${name}'s options must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new RangeError(`webgpu-optim: ${name} has no option "${key}" (known: ${known.join(', ')})`);
  }
}
function nonNegativeInteger(name: string, value: unknown) {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new RangeError(`webgpu-optim: ${name} must be an integer >= 0, got ${describeValue(value)}`);
}
function numberIn(name: string, value: unknown, low: number, high: number, lowOpen: boolean, range: string) {
  if (typeof value !== 'number' || !(lowOpen ? value > low : value >= low) || !(value <= high)) {
    throw new RangeError(`webgpu-optim: ${name} must be a number in ${range}, got ${describeValue(value)}`);
  }
}

/**
 * MultiStepLR: `lr · gamma^(number of milestones <= t)` — a milestone given twice counts twice,
 * as in torch. Milestones are step counts (integers >= 0), in any order.
 */
export function multiStepLr(options: { milestones: readonly number[]; gamma?: number }): LrSchedule {
  checkScheduleOptions('multiStepLr', options, ['milestones', 'gamma']);
  const { milestones, gamma = 0.1 } = options;
  if (!Array.isArray(milestones)) throw new TypeError(`webgpu-optim: multiStepLr.milestones must be an array of integers >= 0, got ${describeValue(milestones)}`);
  milestones.forEach((m, i) => nonNegativeInteger(`multiStepLr.milestones[${i}]`, m));
  finiteNonNegative('multiStepLr.gamma', gamma);
  const sorted = [...milestones].sort((a, b) => a - b);
  return (t, lr) => {
    let passed = 0;
    while (passed < sorted.length && sorted[passed]! <= t) passed++;
    return lr * gamma ** passed;
  };
}

/**
 * LinearLR (the usual warmup): the factor goes linearly from `startFactor` to `endFactor` over
 * `totalIters` steps, then stays: `lr · (startFactor + (endFactor − startFactor) · min(t, totalIters) / totalIters)`.
 * torch's defaults: startFactor 1/3, endFactor 1, totalIters 5.
 */
export function linearLr(options: { startFactor?: number; endFactor?: number; totalIters?: number } = {}): LrSchedule {
  checkScheduleOptions('linearLr', options, ['startFactor', 'endFactor', 'totalIters']);
  const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = options;
  numberIn('linearLr.startFactor', startFactor, 0, 1, true, '(0, 1]');
  numberIn('linearLr.endFactor', endFactor, 0, 1, false, '[0, 1]');
  positiveInteger('linearLr.totalIters', totalIters);
  return (t, lr) => lr * (startFactor + ((endFactor - startFactor) * Math.min(t, totalIters)) / totalIters);
}

/**
 * PolynomialLR: `lr · (1 − min(t, totalIters) / totalIters)^power` (0 from `totalIters` on).
 * torch's defaults: totalIters 5, power 1.
 */
export function polynomialLr(options: { totalIters?: number; power?: number } = {}): LrSchedule {
  checkScheduleOptions('polynomialLr', options, ['totalIters', 'power']);
  const { totalIters = 5, power = 1 } = options;
  positiveInteger('polynomialLr.totalIters', totalIters);
  finiteNonNegative('polynomialLr.power', power);
  return (t, lr) => lr * (1 - Math.min(t, totalIters) / totalIters) ** power;
}

/**
 * CosineAnnealingWarmRestarts (SGDR): cosine from `lr` to `etaMin` over a period of `T0` steps,
 * then a restart at `lr`; each period is `TMult` times the one before.
 * `etaMin + (lr − etaMin) · (1 + cos(π · Tcur / Ti)) / 2`. torch's defaults: TMult 1, etaMin 0.
 */
export function cosineAnnealingWarmRestarts(options: { T0: number; TMult?: number; etaMin?: number }): LrSchedule {
  checkScheduleOptions('cosineAnnealingWarmRestarts', options, ['T0', 'TMult', 'etaMin']);
  const { T0, TMult = 1, etaMin = 0 } = options;
  positiveInteger('cosineAnnealingWarmRestarts.T0', T0);
  positiveInteger('cosineAnnealingWarmRestarts.TMult', TMult);
  finiteNonNegative('cosineAnnealingWarmRestarts.etaMin', etaMin);
  return (t, lr) => {
    // As torch counts: Tcur wraps at the end of each period, the next period TMult times longer.
    let tCur = TMult === 1 ? t % T0 : t;
    let period = T0;
    while (tCur >= period) {
      tCur -= period;
      period *= TMult;
    }
    return etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * tCur) / period))) / 2;
  };
}

/**
 * SequentialLR: `schedules[0]` until `milestones[0]`, then `schedules[1]` restarted at its own
 * step 0, and so on (schedule i sees `t − milestones[i − 1]`). Milestones: positive integers,
 * strictly increasing, one fewer than the schedules.
 */
export function sequentialLr(schedules: readonly LrSchedule[], milestones: readonly number[]): LrSchedule {
  if (!Array.isArray(schedules) || schedules.length === 0) throw new TypeError(`webgpu-optim: sequentialLr.schedules must be a non-empty array of schedules, got ${describeValue(schedules)}`);
  schedules.forEach((s, i) => {
    if (typeof s !== 'function') throw new TypeError(`webgpu-optim: sequentialLr.schedules[${i}] must be a function (t, baseLr) => lr, got ${describeValue(s)}`);
  });
  if (!Array.isArray(milestones) || milestones.length !== schedules.length - 1) {
    throw new RangeError(`webgpu-optim: sequentialLr.milestones must be an array of ${schedules.length - 1} step counts (one fewer than the schedules), got ${describeValue(milestones)}`);
  }
  milestones.forEach((m, i) => {
    positiveInteger(`sequentialLr.milestones[${i}]`, m);
    if (i > 0 && !(m > milestones[i - 1]!)) throw new RangeError(`webgpu-optim: sequentialLr.milestones must increase strictly, got ${describeValue(milestones)}`);
  });
  const parts = [...schedules];
  const starts = [0, ...milestones];
  return (t, lr) => {
    let i = starts.length - 1;
    while (starts[i]! > t) i--;
    return parts[i]!(t - starts[i]!, lr);
  };
}

/** The same as {@link sequentialLr}. */
export const sequential = sequentialLr;
