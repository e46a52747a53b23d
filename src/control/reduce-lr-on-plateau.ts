import { describeValue } from '../core/describe-value.js';

/**
 * ReduceLROnPlateau (torch.optim.lr_scheduler, 1.13): a small host-side object fed the metric the
 * caller already has (a validation loss, an accuracy), which multiplies each group's `lr` by
 * `factor` when the metric has not improved for more than `patience` calls. It changes the groups
 * through the optimizer's `setHyperparameters`, so it works with the GPU optimizer and the CPU
 * twin alike; an lr schedule, if any, then scales the reduced `lr`.
 */

/** What the plateau needs of an optimizer: its groups' `lr` and a way to set it (both optimizers have them). */
export interface LrAdjustable {
  readonly groups: readonly Readonly<{ lr?: unknown }>[];
  setHyperparameters(partial: { lr: number }, group?: number): void;
}

/** torch's options, camelCased; each defaults to torch's value. */
export interface ReduceLrOnPlateauOptions {
  /** 'min' (default): lower is better (a loss); 'max': higher is better (an accuracy). */
  mode?: 'min' | 'max';
  /** The lr is multiplied by this, in [0, 1) (default 0.1). */
  factor?: number;
  /** Calls without improvement tolerated before a reduction (integer >= 0, default 10). */
  patience?: number;
  /** How much better counts as better (>= 0, default 1e-4). */
  threshold?: number;
  /** 'rel' (default): better than best · (1 ∓ threshold); 'abs': better than best ∓ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** Calls after a reduction during which bad calls are not counted (integer >= 0, default 0). */
  cooldown?: number;
  /** Lower bound of the lr: one number, or one per group (>= 0, default 0). */
  minLr?: number | readonly number[];
  /** A reduction smaller than this is not made (>= 0, default 1e-8). */
  eps?: number;
}

/** The plateau's counters (torch's `best`, `num_bad_epochs`, `cooldown_counter`, `last_epoch`). */
export interface PlateauState {
  best: number;
  numBadEpochs: number;
  cooldownCounter: number;
  lastEpoch: number;
}

export interface ReduceLrOnPlateau {
  /** Feeds one metric value (NaN counts as no improvement, as in torch); reduces the lrs when due. */
  step(metric: number): void;
  /** The counters now (a copy), to save beside the optimizer's state dict. */
  readonly state: Readonly<PlateauState>;
  /**
   * Restores counters saved from `state`, checked first (a refusal changes nothing). After a JSON
   * round trip `best` may be null: JSON has no ±Infinity, the value before any metric improved.
   */
  loadState(saved: Readonly<Omit<PlateauState, 'best'> & { best: number | null }>): void;
  /** Each group's lr after the last `step` (torch's `get_last_lr()`, read from the optimizer). */
  lastLr(): number[];
}

const OPTION_KEYS = ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps'];

function refuse(option: string, expected: string, value: unknown): never {
  throw new RangeError(`webgpu-optim: reduceLrOnPlateau.${option} must be ${expected}, got ${describeValue(value)}`);
}
const isFiniteAtLeastZero = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function checkOptimizer(optimizer: unknown): asserts optimizer is LrAdjustable {
  const o = optimizer as Partial<LrAdjustable> | null;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.groups) || typeof o.setHyperparameters !== 'function') {
    throw new TypeError(`webgpu-optim: reduceLrOnPlateau's optimizer must be an optimizer (groups and setHyperparameters), got ${describeValue(optimizer)}`);
  }
  o.groups.forEach((g, i) => {
    if (!isFiniteAtLeastZero(g?.lr)) throw new TypeError(`webgpu-optim: reduceLrOnPlateau: the optimizer's group ${i} has no lr hyperparameter (its lr is ${describeValue(g?.lr)})`);
  });
}

function resolveOptions(options: unknown, groups: number): Required<Omit<ReduceLrOnPlateauOptions, 'minLr'>> & { minLr: number[] } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) refuse('options', 'an object', options);
  for (const key of Object.keys(options)) if (!OPTION_KEYS.includes(key)) throw new RangeError(`webgpu-optim: reduceLrOnPlateau has no option "${key}" (known: ${OPTION_KEYS.join(', ')})`);
  const { mode = 'min', factor = 0.1, patience = 10, threshold = 1e-4, thresholdMode = 'rel', cooldown = 0, minLr = 0, eps = 1e-8 } = options as ReduceLrOnPlateauOptions;
  if (mode !== 'min' && mode !== 'max') refuse('mode', "'min' or 'max'", mode);
  if (!isFiniteAtLeastZero(factor) || factor >= 1) refuse('factor', 'a number in [0, 1)', factor);
  if (!isCount(patience)) refuse('patience', 'an integer >= 0', patience);
  if (!isFiniteAtLeastZero(threshold)) refuse('threshold', 'a finite number >= 0', threshold);
  if (thresholdMode !== 'rel' && thresholdMode !== 'abs') refuse('thresholdMode', "'rel' or 'abs'", thresholdMode);
  if (!isCount(cooldown)) refuse('cooldown', 'an integer >= 0', cooldown);
  if (!isFiniteAtLeastZero(eps)) refuse('eps', 'a finite number >= 0', eps);
  const minLrs = Array.isArray(minLr) ? [...(minLr as number[])] : Array.from({ length: groups }, () => minLr as number);
  if (minLrs.length !== groups) refuse('minLr', `a number or an array of ${groups} (one per group)`, minLr);
  minLrs.forEach((m, i) => {
    if (!isFiniteAtLeastZero(m)) refuse(Array.isArray(minLr) ? `minLr[${i}]` : 'minLr', 'a finite number >= 0', m);
  });
  return { mode, factor, patience, threshold, thresholdMode, cooldown, minLr: minLrs, eps };
}

const STATE_KEYS = ['best', 'numBadEpochs', 'cooldownCounter', 'lastEpoch'] as const;

/** `saved` as counters (null best: none yet), or a refusal naming the field and its value. */
function checkedState(saved: unknown, mode: 'min' | 'max'): PlateauState {
  if (typeof saved !== 'object' || saved === null || Array.isArray(saved)) {
    throw new TypeError(`webgpu-optim: reduceLrOnPlateau.loadState's argument must be an object with ${STATE_KEYS.join(', ')}, got ${describeValue(saved)}`);
  }
  const record = saved as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(STATE_KEYS as readonly string[]).includes(key)) throw new RangeError(`webgpu-optim: reduceLrOnPlateau.loadState: unknown field "${key}" (known: ${STATE_KEYS.join(', ')})`);
  }
  const best = record.best === null ? (mode === 'min' ? Infinity : -Infinity) : record.best;
  if (typeof best !== 'number' || Number.isNaN(best)) throw new TypeError(`webgpu-optim: reduceLrOnPlateau.loadState: best must be a number or null, got ${describeValue(record.best)}`);
  for (const key of STATE_KEYS.slice(1)) {
    if (!isCount(record[key])) throw new RangeError(`webgpu-optim: reduceLrOnPlateau.loadState: ${key} must be an integer >= 0, got ${describeValue(record[key])}`);
  }
  return { best, numBadEpochs: record.numBadEpochs as number, cooldownCounter: record.cooldownCounter as number, lastEpoch: record.lastEpoch as number };
}

/**
 * ReduceLROnPlateau for `optimizer` (the GPU optimizer or its CPU twin). Every option is checked
 * before anything is created; `step(metric)` checks the metric before changing anything.
 *
 * @example
 * const plateau = reduceLrOnPlateau(optimizer, { mode: 'min', factor: 0.5, patience: 3 });
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   trainOneEpoch();
 *   plateau.step(validationLoss()); // halves every group's lr after 4 epochs without improvement
 * }
 */
export function reduceLrOnPlateau(optimizer: LrAdjustable, options: ReduceLrOnPlateauOptions = {}): ReduceLrOnPlateau {
  checkOptimizer(optimizer);
  const o = resolveOptions(options, optimizer.groups.length);
  const state: PlateauState = { best: o.mode === 'min' ? Infinity : -Infinity, numBadEpochs: 0, cooldownCounter: 0, lastEpoch: 0 };
  const isBetter = (a: number, best: number): boolean => {
    if (o.mode === 'min') return o.thresholdMode === 'rel' ? a < best * (1 - o.threshold) : a < best - o.threshold;
    return o.thresholdMode === 'rel' ? a > best * (o.threshold + 1) : a > best + o.threshold;
  };
  const reduce = () => {
    // Every new lr is computed before the first is set (each is finite and >= 0, so valid).
    const changes: [number, number][] = [];
    optimizer.groups.forEach((group, i) => {
      const old = group.lr as number;
      const next = Math.max(old * o.factor, o.minLr[i]!);
      if (old - next > o.eps) changes.push([i, next]);
    });
    for (const [i, lr] of changes) optimizer.setHyperparameters({ lr }, i);
  };
  return {
    step(metric) {
      if (typeof metric !== 'number') throw new TypeError(`webgpu-optim: reduceLrOnPlateau.step's metric must be a number, got ${describeValue(metric)}`);
      // torch's step on a copy, committed only once the optimizer took the new lrs.
      const next = { ...state, lastEpoch: state.lastEpoch + 1 };
      if (isBetter(metric, next.best)) {
        next.best = metric;
        next.numBadEpochs = 0;
      } else next.numBadEpochs += 1;
      if (next.cooldownCounter > 0) {
        next.cooldownCounter -= 1;
        next.numBadEpochs = 0;
      }
      if (next.numBadEpochs > o.patience) {
        reduce();
        next.cooldownCounter = o.cooldown;
        next.numBadEpochs = 0;
      }
      Object.assign(state, next);
    },
    get state() {
      return { ...state };
    },
    loadState(saved) {
      Object.assign(state, checkedState(saved, o.mode));
    },
    lastLr: () => optimizer.groups.map((g) => g.lr as number),
  };
}
