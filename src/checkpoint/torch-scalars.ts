/**
 * An optimizer checkpoint's `scalars`: `{"<i>": {step, mu_product?}}`, keyed by parameter index
 * (decimal, 0 … n−1, no other keys), each an object of finite numbers. A parameter torch holds no
 * state for may have no entry.
 */
import { isObject, shown, type Fail } from '../core/refusal.js';
import { parseStrictJson } from '../core/strict-json.js';

/** A canonical decimal index: "0", "7", "12", never "07", "+1" or "1.0". */
export const DECIMAL_INDEX = /^(0|[1-9][0-9]*)$/;

/** Parameter i's scalars (prototype-free; empty where the file has none), for i in 0 … n−1. */
export function readScalars(text: string, n: number, fail: Fail): Record<string, number>[] {
  const scalars = parseStrictJson(text, 'metadata.scalars', fail);
  if (!isObject(scalars)) fail(`metadata.scalars must be a JSON object keyed by parameter index, got ${shown(scalars)}`);
  const result = Array.from({ length: n }, () => Object.create(null) as Record<string, number>);
  for (const [key, entry] of Object.entries(scalars as object)) {
    if (!DECIMAL_INDEX.test(key) || Number(key) >= n) fail(`metadata.scalars has the key ${JSON.stringify(key)}; keys are parameter indices "0" … "${n - 1}"`);
    if (!isObject(entry)) fail(`scalars["${key}"] must be an object of numbers, got ${shown(entry)}`);
    for (const [name, value] of Object.entries(entry as object)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(`scalars["${key}"].${name} must be a finite number, got ${shown(value)}`);
      result[Number(key)]![name] = value;
    }
  }
  return result;
}
