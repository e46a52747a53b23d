/**
 * The CPU reference against PyTorch 1.13 itself: tests/golden/torch-1.13.json holds torch.optim's
 * parameters after each of 8 steps and its final state, for ordinary and edge gradients (0, −0,
 * ±1e-30, ±1e20, sign flips), made by scripts/torch-golden.py with the portable CPU kernels (every
 * f32 operation rounded on its own). The twin must match to the bit: 0 ULP.
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer } from '../../src/index.js';
import golden from '../golden/torch-1.13.json';

const f32 = (text: string) => {
  const binary = atob(text);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
};
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe(`PyTorch ${golden.torch}`, () => {
  test.each(golden.cases.map((c, i) => [`${c.name} ${JSON.stringify(c.options)}`, i] as const))('%s: every step and the final state, bit for bit', (_label, index) => {
    const c = golden.cases[index]!;
    const ref = createReferenceOptimizer(c.name as 'adam', [{ name: 'p', data: f32(c.params0) }], c.options as never);
    c.grads.forEach((g, step) => {
      ref.step([f32(g)]);
      expect(bits(ref.params[0]!), `params after step ${step + 1}`).toEqual(bits(f32(c.params[step]!)));
    });
    const state = ref.stateDict().state[0]!;
    for (const [slot, values] of Object.entries(c.state)) {
      expect(state[slot], `slot ${slot}`).toBeInstanceOf(Float32Array);
      expect(bits(state[slot] as Float32Array), `slot ${slot}`).toEqual(bits(f32(values)));
    }
    // Scalar state (NAdam's mu_product): the float32 value PyTorch keeps.
    for (const [name, value] of Object.entries((c as { scalars?: Record<string, number> }).scalars ?? {})) expect(state[name], name).toBe(value);
  });

  test('covers every optimizer PyTorch 1.13 has among ours', () => {
    expect(new Set(golden.cases.map((c) => c.name))).toEqual(new Set(['sgd', 'adagrad', 'rmsprop', 'adadelta', 'adam', 'adamw', 'adamax', 'nadam', 'radam', 'rprop']));
  });
});
