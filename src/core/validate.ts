/** Validation helpers shared by the optimizer definitions; every message names the optimizer. */
import { describeValue } from './describe-value.js';

/** The largest finite float32. Values above it become ±Infinity in the kernel's f32 scalars. */
export const F32_MAX = 3.4028234663852886e38;

/** A finite number that stays finite in float32 (the kernels read every scalar as f32). */
function checkFinite(optimizer: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`webgpu-optim: ${optimizer}: ${name} must be a finite number, got ${describeValue(value)}`);
  }
  if (!Number.isFinite(Math.fround(value))) {
    throw new RangeError(`webgpu-optim: ${optimizer}: ${name} = ${value} overflows float32 (largest ${F32_MAX})`);
  }
  return value;
}

function checkNonNegative(optimizer: string, name: string, value: unknown): void {
  if (checkFinite(optimizer, name, value) < 0) {
    throw new RangeError(`webgpu-optim: ${optimizer}: ${name} must be >= 0, got ${describeValue(value)}`);
  }
}

/** A decay rate in [0, 1). */
function checkUnitInterval(optimizer: string, name: string, value: unknown): void {
  const v = checkFinite(optimizer, name, value);
  if (v < 0 || v >= 1) {
    throw new RangeError(`webgpu-optim: ${optimizer}: ${name} must be in [0, 1), got ${describeValue(value)}`);
  }
}

function checkBoolean(optimizer: string, name: string, value: unknown): void {
  if (typeof value !== 'boolean') {
    throw new TypeError(`webgpu-optim: ${optimizer}: ${name} must be a boolean, got ${describeValue(value)}`);
  }
}

/** A pair of numbers, e.g. betas. */
function checkPair(optimizer: string, name: string, value: unknown): void {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new TypeError(`webgpu-optim: ${optimizer}: ${name} must be a pair [a, b], got ${describeValue(value)}`);
  }
}

/** A check of one option's value; throws a message naming the optimizer, the option and the value. */
export type OptionCheck = (optimizer: string, name: string, value: unknown) => void;

/** The check of an option that takes one of these strings (Muon's adjustLrFn); the message lists them. */
export function oneOf(...values: readonly [string, string, ...string[]]): OptionCheck {
  const quoted = values.map((v) => `'${v}'`);
  const listed = `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
  return (optimizer, name, value) => {
    if (typeof value !== 'string' || !values.includes(value)) throw new RangeError(`webgpu-optim: ${optimizer}: ${name} must be ${listed}, got ${describeValue(value)}`);
  };
}

/** Option checks by kind, for a definition's `checks` table. */
export const is = {
  finite: checkFinite as OptionCheck,
  nonNegative: checkNonNegative,
  unitInterval: checkUnitInterval,
  boolean: checkBoolean,
  /** An integer ≥ 0 (a number of steps). */
  count: (optimizer: string, name: string, value: unknown) => {
    if (!Number.isSafeInteger(value) || (value as number) < 0) {
      throw new RangeError(`webgpu-optim: ${optimizer}: ${name} must be an integer >= 0, got ${describeValue(value)}`);
    }
  },
  /** A pair of finite numbers (ranges between them are the definition's own rule). */
  pair: (optimizer: string, name: string, value: unknown) => {
    checkPair(optimizer, name, value);
    checkFinite(optimizer, `${name}[0]`, (value as number[])[0]);
    checkFinite(optimizer, `${name}[1]`, (value as number[])[1]);
  },
  /** A pair of decay rates, each in [0, 1) (Adam's betas). */
  unitPair: (optimizer: string, name: string, value: unknown) => {
    checkPair(optimizer, name, value);
    checkUnitInterval(optimizer, `${name}[0]`, (value as number[])[0]);
    checkUnitInterval(optimizer, `${name}[1]`, (value as number[])[1]);
  },
} satisfies Record<string, OptionCheck>;
