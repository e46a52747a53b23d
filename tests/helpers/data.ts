/** Deterministic test data. */

/** mulberry32, seeded: every run sees the same numbers (shared with the demo). */
import { seededRandom } from '../../common/random.js';

export const rng = seededRandom;

/** Values in ±scale with a spread of magnitudes (so sign flips and small/large entries occur). */
export function randomArray(length: number, random: () => number, scale = 1): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const magnitude = 10 ** (random() * 3 - 2); // 0.01 … 10
    out[i] = (random() < 0.5 ? -1 : 1) * magnitude * scale;
  }
  return out;
}

export function namedTensors(sizes: readonly number[], seed: number) {
  const random = rng(seed);
  return sizes.map((size, i) => ({ name: `t${i}_${size}`, data: randomArray(size, random) }));
}

/** Gradients that hit the edges of f32 arithmetic, cycled over the tensor. */
export const SPECIAL_GRADIENTS = [NaN, Infinity, -Infinity, 1e20, -1e20, 1e-30, -1e-30, 0, -0, 3.5e38, 1e-38, 1];
