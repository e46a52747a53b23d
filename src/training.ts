/**
 * Training features around the update, shared by the GPU engine and the CPU twin: learning-rate
 * schedule, gradient clipping (by value, by global or per-group norm), loss scaling with
 * non-finite skip (like torch.cuda.amp.GradScaler), and gradient accumulation.
 */
import type { LrSchedule } from './schedules.js';

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
  /** Accumulate `steps` micro-batches' gradients (sum, or mean with `average`) and update on every `steps`-th call. */
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

const KEYS = ['lrSchedule', 'gradClipping', 'lossScaling', 'skipNonFinite', 'accumulation', 'computeGradNorm'];

function positive(name: string, v: unknown, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new RangeError(`webgpu-optim: ${name} must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${String(v)}`);
  }
  return v;
}

/** Pulls the training options out of `options`, checked. Returns the rest untouched. */
export function resolveTraining<T extends object>(options: T & TrainingOptions): { training: ResolvedTraining; rest: T } {
  const rest = { ...options } as Record<string, unknown>;
  for (const key of KEYS) delete rest[key];
  const { lrSchedule, gradClipping = {}, lossScaling, skipNonFinite, accumulation, computeGradNorm = false } = options;
  if (typeof computeGradNorm !== 'boolean') throw new TypeError('webgpu-optim: computeGradNorm must be a boolean');
  if (lrSchedule !== undefined && typeof lrSchedule !== 'function') throw new TypeError('webgpu-optim: lrSchedule must be a function (t, baseLr) => lr');
  if (gradClipping === null || typeof gradClipping !== 'object') throw new TypeError('webgpu-optim: gradClipping must be an object');
  for (const key of Object.keys(gradClipping)) {
    if (!['maxValue', 'maxNorm', 'normType', 'perGroup'].includes(key)) throw new Error(`webgpu-optim: unknown gradClipping option "${key}"`);
  }
  const clipValue = gradClipping.maxValue === undefined ? Infinity : positive('gradClipping.maxValue', gradClipping.maxValue);
  const maxNorm = gradClipping.maxNorm === undefined ? Infinity : positive('gradClipping.maxNorm', gradClipping.maxNorm);
  const normType = gradClipping.normType ?? 2;
  if (normType !== 2 && normType !== 'inf') throw new RangeError(`webgpu-optim: gradClipping.normType must be 2 or 'inf', got ${String(normType)}`);
  let scaling: Required<LossScaling> | undefined;
  if (lossScaling) {
    const s = lossScaling === true ? {} : lossScaling;
    for (const key of Object.keys(s)) {
      if (!['initScale', 'growthFactor', 'backoffFactor', 'growthInterval', 'dynamic'].includes(key)) throw new Error(`webgpu-optim: unknown lossScaling option "${key}"`);
    }
    scaling = {
      initScale: positive('lossScaling.initScale', s.initScale ?? 2 ** 16),
      growthFactor: positive('lossScaling.growthFactor', s.growthFactor ?? 2),
      backoffFactor: positive('lossScaling.backoffFactor', s.backoffFactor ?? 0.5),
      growthInterval: s.growthInterval ?? 2000,
      dynamic: s.dynamic ?? true,
    };
    if (!(scaling.growthFactor > 1)) throw new RangeError('webgpu-optim: lossScaling.growthFactor must be > 1');
    if (!(scaling.backoffFactor < 1)) throw new RangeError('webgpu-optim: lossScaling.backoffFactor must be < 1');
    if (!Number.isSafeInteger(scaling.growthInterval) || scaling.growthInterval < 1) throw new RangeError('webgpu-optim: lossScaling.growthInterval must be a positive integer');
  }
  const steps = accumulation?.steps ?? 1;
  if (!Number.isSafeInteger(steps) || steps < 1 || steps > 2 ** 24) throw new RangeError(`webgpu-optim: accumulation.steps must be a positive integer, got ${String(steps)}`);
  const average = Boolean(accumulation?.average) && steps > 1;
  const skip = skipNonFinite ?? Boolean(scaling);
  if (typeof skip !== 'boolean') throw new TypeError('webgpu-optim: skipNonFinite must be a boolean');
  const training: ResolvedTraining = {
    schedule: lrSchedule,
    clipValue,
    maxNorm,
    normInf: normType === 'inf',
    perGroup: Boolean(gradClipping.perGroup),
    scaling,
    skipNonFinite: skip,
    accumulationSteps: steps,
    average,
    control: Number.isFinite(clipValue) || Number.isFinite(maxNorm) || Boolean(scaling) || skip || average || computeGradNorm,
  };
  return { training, rest: rest as T };
}

/** Flags word of the control buffer (see shaders/control.wgsl). */
export function controlFlags(t: ResolvedTraining): number {
  return (
    (t.scaling?.dynamic ? 1 : 0) |
    (t.skipNonFinite ? 2 : 0) |
    (t.perGroup ? 4 : 0) |
    (t.normInf ? 8 : 0) |
    (t.scaling ? 16 : 0) |
    (Number.isFinite(t.maxNorm) ? 32 : 0)
  );
}

/** Words of the control header before the per-group entries. */
export const CONTROL_HEADER_WORDS = 16;
export const CONTROL_GROUP_WORDS = 4;

/** The control block as read back (GPU) or kept (CPU twin). */
export interface ControlSnapshot {
  /** Optimizer steps taken (skipped ones do not count). */
  step: number;
  lossScale: number;
  growthTracker: number;
  /** Norm over all tensors of the last step's gradients (after unscaling and value clipping). */
  totalNorm: number;
  groupNorms: number[];
  foundInf: boolean;
  /** Whether the last step was skipped for non-finite gradients. */
  skipped: boolean;
}
