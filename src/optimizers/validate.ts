/** Validation helpers shared by the optimizer definitions; every message names the optimizer. */

export function checkFinite(optimizer: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`webgpu-optim: ${optimizer}: ${name} must be a finite number, got ${String(value)}`);
  }
  return value;
}

export function checkNonNegative(optimizer: string, name: string, value: unknown): void {
  if (checkFinite(optimizer, name, value) < 0) {
    throw new RangeError(`webgpu-optim: ${optimizer}: ${name} must be >= 0, got ${String(value)}`);
  }
}

/** A decay rate in [0, 1). */
export function checkUnitInterval(optimizer: string, name: string, value: unknown): void {
  const v = checkFinite(optimizer, name, value);
  if (v < 0 || v >= 1) {
    throw new RangeError(`webgpu-optim: ${optimizer}: ${name} must be in [0, 1), got ${String(value)}`);
  }
}

export function checkBoolean(optimizer: string, name: string, value: unknown): void {
  if (typeof value !== 'boolean') {
    throw new TypeError(`webgpu-optim: ${optimizer}: ${name} must be a boolean, got ${String(value)}`);
  }
}
