/**
 * Training features around the update, shared by the GPU engine and the CPU twin: learning-rate
 * schedule, gradient clipping (by value, by global or per-group norm), loss scaling with
 * non-finite skip (like torch.cuda.amp.GradScaler), and gradient accumulation.
 */
import type { LrSchedule } from '../core/schedules.js';
import { describeValue } from '../core/describe-value.js';

export interface GradClipping {
  /** clip_grad_value_: clamp every gradient element to [−maxValue, maxValue]. */
  maxValue?: number;
  /** clip_grad_norm_: scale gradients by min(1, maxNorm / (norm + 1e-6)). */
  maxNorm?: number;
  /** 2 (default) or 'inf' (largest |g|). */
  normType?: 2 | 'inf';
  /** Clip each group by its own norm instead of the norm over all tensors. */
  perGroup?: boolean;
}

export interface LossScaling {
  /** Starting scale (GradScaler's init_scale). Default 65536. */
  initScale?: number;
  /** Default 2. */
  growthFactor?: number;
  /** Default 0.5. */
  backoffFactor?: number;
  /** Steps without non-finite gradients before the scale grows. Default 2000. */
  growthInterval?: number;
  /** false: a constant scale. Default true. */
  dynamic?: boolean;
}

export interface TrainingOptions {
  /** `(t, baseLr) => lr` for each group, t = optimizer steps taken so far. */
  lrSchedule?: LrSchedule;
  gradClipping?: GradClipping;
  /** Gradients arrive multiplied by the loss scale; they are unscaled before use. */
  lossScaling?: LossScaling | boolean;
  /** Skip the step (parameters and state untouched) when a gradient is NaN or ±Inf. Default: on with lossScaling. */
  skipNonFinite?: boolean;
  /**
   * Accumulate `steps` micro-batches' gradients (sum, or mean with `average`) and update on every
   * `steps`-th call. After `params.zeroGrad()`, each call adds only the tensors it marks, and the
   * update leaves untouched a tensor no call of its window marked (PyTorch's rule; not with `average`).
   */
  accumulation?: { steps: number; average?: boolean };
  /** Compute the gradient norm every step (for `getLastGradNorm`) even without clipping. */
  computeGradNorm?: boolean;
}

export interface ResolvedTraining {
  schedule?: LrSchedule;
  /** Infinity when off. */
  clipValue: number;
  /** Infinity when off. */
  maxNorm: number;
  normInf: boolean;
  perGroup: boolean;
  scaling?: Required<LossScaling>;
  skipNonFinite: boolean;
  accumulationSteps: number;
  average: boolean;
  /** Whether the GPU-resident control path (stats, finalize, device step counter) is needed. */
  control: boolean;
}

const KEYS = ['lrSchedule', 'gradClipping', 'lossScaling', 'skipNonFinite', 'accumulation', 'computeGradNorm'] as const;

function fail(message: string, type: 'range' | 'type' = 'range'): never {
  throw type === 'type' ? new TypeError(`webgpu-optim: ${message}`) : new RangeError(`webgpu-optim: ${message}`);
}

/** A finite number > 0 (or ≥ 0) that stays finite in float32, where the GPU keeps it. */
function positive(name: string, v: unknown, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    fail(`${name} must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${describeValue(v)}`);
  }
  if (!Number.isFinite(Math.fround(v))) fail(`${name} = ${v} overflows float32`);
  return v;
}

function boolean(name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') fail(`${name} must be a boolean, got ${describeValue(v)}`, 'type');
  return v;
}

/** A plain object whose keys are all known (a typo is an error, not an ignored option). */
function section<T extends object>(name: string, v: unknown, known: readonly (keyof T & string)[]): Partial<T> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`${name} must be an object, got ${describeValue(v)}`, 'type');
  for (const key of Object.keys(v)) {
    if (!known.includes(key as keyof T & string)) fail(`unknown ${name} option "${key}"; known: ${known.join(', ')}`);
  }
  return v as Partial<T>;
}

function integer(name: string, v: unknown, min: number, max: number): number {
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) fail(`${name} must be an integer in [${min}, ${max}], got ${describeValue(v)}`);
  return v as number;
}

function resolveScaling(lossScaling: unknown): Required<LossScaling> | undefined {
  if (lossScaling === undefined || lossScaling === false) return undefined;
  const s = lossScaling === true ? {} : section<LossScaling>('lossScaling', lossScaling, ['initScale', 'growthFactor', 'backoffFactor', 'growthInterval', 'dynamic']);
  const scaling = {
    initScale: positive('lossScaling.initScale', s.initScale ?? 2 ** 16),
    growthFactor: positive('lossScaling.growthFactor', s.growthFactor ?? 2),
    backoffFactor: positive('lossScaling.backoffFactor', s.backoffFactor ?? 0.5),
    growthInterval: integer('lossScaling.growthInterval', s.growthInterval ?? 2000, 1, 2 ** 32 - 1),
    dynamic: boolean('lossScaling.dynamic', s.dynamic, true),
  };
  if (!(scaling.growthFactor > 1)) fail(`lossScaling.growthFactor must be > 1, got ${scaling.growthFactor}`);
  if (!(scaling.backoffFactor < 1)) fail(`lossScaling.backoffFactor must be < 1, got ${scaling.backoffFactor}`);
  return scaling;
}

/** Pulls the training options out of `options`, checked. Returns the rest untouched. */
export function resolveTraining<T extends object>(options: T & TrainingOptions): { training: ResolvedTraining; rest: T } {
  const rest = { ...options } as Record<string, unknown>;
  for (const key of KEYS) delete rest[key];
  const { lrSchedule, lossScaling, skipNonFinite } = options;
  const computeGradNorm = boolean('computeGradNorm', options.computeGradNorm, false);
  if (lrSchedule !== undefined && typeof lrSchedule !== 'function') fail('lrSchedule must be a function (t, baseLr) => lr', 'type');
  if (lossScaling !== undefined && typeof lossScaling !== 'boolean' && (lossScaling === null || typeof lossScaling !== 'object')) {
    fail(`lossScaling must be true, false or an object, got ${describeValue(lossScaling)}`, 'type');
  }
  const clipping = section<GradClipping>('gradClipping', options.gradClipping, ['maxValue', 'maxNorm', 'normType', 'perGroup']);
  const clipValue = clipping.maxValue === undefined ? Infinity : positive('gradClipping.maxValue', clipping.maxValue);
  const maxNorm = clipping.maxNorm === undefined ? Infinity : positive('gradClipping.maxNorm', clipping.maxNorm);
  const normType = clipping.normType ?? 2;
  if (normType !== 2 && normType !== 'inf') fail(`gradClipping.normType must be 2 or 'inf', got ${describeValue(normType)}`);
  const perGroup = boolean('gradClipping.perGroup', clipping.perGroup, false);
  const scaling = resolveScaling(lossScaling);
  const accumulation = section<{ steps: number; average: boolean }>('accumulation', options.accumulation, ['steps', 'average']);
  if (options.accumulation !== undefined && accumulation.steps === undefined) fail('accumulation.steps is required (e.g. { steps: 4 })');
  const steps = integer('accumulation.steps', accumulation.steps ?? 1, 1, 2 ** 24);
  const average = boolean('accumulation.average', accumulation.average, false) && steps > 1;
  const skip = boolean('skipNonFinite', skipNonFinite, Boolean(scaling));
  const training: ResolvedTraining = {
    schedule: lrSchedule,
    clipValue,
    maxNorm,
    normInf: normType === 'inf',
    perGroup,
    scaling,
    skipNonFinite: skip,
    accumulationSteps: steps,
    average,
    control: Number.isFinite(clipValue) || Number.isFinite(maxNorm) || Boolean(scaling) || skip || average || computeGradNorm,
  };
  return { training, rest: rest as T };
}
