/** Deterministic test data. */

/** mulberry32: a small seeded PRNG, so every run sees the same numbers. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
