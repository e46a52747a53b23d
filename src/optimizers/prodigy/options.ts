/**
 * Prodigy's options: the authors' `prodigyopt.Prodigy` keyword arguments in camelCase, with their
 * defaults, and the checks that refuse a bad value (naming the option and the value) before
 * anything is made. Which options are global (read from the first group, as the authors do) and
 * which are per group: docs/semantics.md § Prodigy.
 */
import { describeValue } from '../../core/describe-value.js';
import { is } from '../../core/validate.js';
import type { ProdigyOptions } from './definition.js';

export type { ProdigyOptions };

/** The authors' defaults (`beta3: undefined` is their `None`: √β₂). */
export const PRODIGY_DEFAULTS: Readonly<ProdigyOptions> = {
  lr: 1,
  betas: [0.9, 0.999],
  beta3: undefined,
  eps: 1e-8,
  weightDecay: 0,
  decouple: true,
  useBiasCorrection: false,
  safeguardWarmup: false,
  d0: 1e-6,
  dCoef: 1,
  growthRate: Infinity,
  sliceP: 1,
};

const NAME = 'prodigy';

function positive(name: string, value: unknown): void {
  is.finite(NAME, name, value);
  if ((value as number) <= 0) throw new RangeError(`webgpu-optim: ${NAME}: ${name} must be > 0, got ${describeValue(value)}`);
}

/** Every option's check (the authors refuse d0, lr, eps ≤ 0 and betas outside [0, 1)). */
export const PRODIGY_CHECKS: { readonly [K in keyof ProdigyOptions]-?: (name: string, value: unknown) => void } = {
  lr: positive,
  betas: (name, value) => is.unitPair(NAME, name, value),
  beta3: (name, value) => {
    if (value !== undefined) is.unitInterval(NAME, name, value);
  },
  eps: positive,
  weightDecay: (name, value) => is.nonNegative(NAME, name, value),
  decouple: (name, value) => is.boolean(NAME, name, value),
  useBiasCorrection: (name, value) => is.boolean(NAME, name, value),
  safeguardWarmup: (name, value) => is.boolean(NAME, name, value),
  d0: positive,
  dCoef: positive,
  // The authors take any factor (below 1, d shrinks towards d_max's floor); Infinity: unbounded.
  growthRate: (name, value) => {
    if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
      throw new RangeError(`webgpu-optim: ${NAME}: ${name} must be a number > 0 (Infinity: unbounded), got ${describeValue(value)}`);
    }
  },
  // The kernel reads it as an f32 scalar: integers up to 2²⁴ are exact there.
  sliceP: (name, value) => {
    if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_SLICE_P) {
      throw new RangeError(`webgpu-optim: ${NAME}: ${name} must be an integer in [1, ${MAX_SLICE_P}], got ${describeValue(value)}`);
    }
  },
};

/** The largest sliceP (an f32 holds every integer up to it). */
export const MAX_SLICE_P = 2 ** 24;

/**
 * One group's options: the defaults, then `base` (the optimizer's options), then `group` (the
 * group's own), each value checked; an unknown name is refused. Throws before anything is made.
 */
export function resolveProdigyOptions(base: Readonly<Record<string, unknown>>, group: Readonly<Record<string, unknown>> = {}): ProdigyOptions {
  const merged: Record<string, unknown> = { ...PRODIGY_DEFAULTS };
  for (const source of [base, group]) {
    for (const [name, value] of Object.entries(source)) {
      if (!(name in PRODIGY_CHECKS)) throw new TypeError(`webgpu-optim: ${NAME}: unknown option ${describeValue(name)}`);
      PRODIGY_CHECKS[name as keyof ProdigyOptions](name, value);
      merged[name] = value;
    }
  }
  return merged as unknown as ProdigyOptions;
}
