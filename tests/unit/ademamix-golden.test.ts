/**
 * The CPU reference of AdEMAMix against its authors' code: tests/golden/ademamix.json holds the
 * parameters after each of 12 steps and the final state of apple/ml-ademamix's `AdEMAMix`
 * (pytorch/ademamix.py at c3d73c09, run unmodified under PyTorch 1.13 with the portable CPU
 * kernels), for ordinary and edge gradients (0, −0, ±1e-30, ±1e20, sign flips), with and without
 * the α and β₃ warmups and at β₁ = 0; made by scripts/ademamix-golden.py. The twin must match to
 * the bit: 0 ULP (the GPU matches the twin bit for bit in the parity suite).
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer } from '../../src/index.js';
import golden from '../golden/ademamix.json';

const f32 = (text: string) => {
  const binary = atob(text);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
};
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe(`AdEMAMix: ${golden.source}, PyTorch ${golden.torch}`, () => {
  test.each(golden.cases.map((c, i) => [JSON.stringify(c.options), i] as const))('%s: every step and the final state, bit for bit', (_label, index) => {
    const c = golden.cases[index]!;
    const ref = createReferenceOptimizer('ademamix', [{ name: 'p', data: f32(c.params0) }], c.options as never);
    c.grads.forEach((g, step) => {
      ref.step([f32(g)]);
      expect(bits(ref.params[0]!), `params after step ${step + 1}`).toEqual(bits(f32(c.params[step]!)));
    });
    const state = ref.stateDict().state[0]!;
    // The same slots as the authors keep (no exp_avg_fast at β₁ = 0), each bit for bit.
    expect(Object.keys(state).filter((k) => state[k] instanceof Float32Array).sort()).toEqual(Object.keys(c.state).sort());
    for (const [slot, values] of Object.entries(c.state)) {
      expect(bits(state[slot] as Float32Array), `slot ${slot}`).toEqual(bits(f32(values)));
    }
  });

  test('the vectors cover the warmups (during and after), β₁ = 0, weight decay and α = 0', () => {
    const options = golden.cases.map((c) => c.options as Record<string, unknown>);
    expect(options.some((o) => typeof o.alphaWarmup === 'number' && o.alphaWarmup < golden.steps)).toBe(true);
    expect(options.some((o) => typeof o.beta3Warmup === 'number' && o.beta3Warmup < golden.steps)).toBe(true);
    expect(options.some((o) => Array.isArray(o.betas) && o.betas[0] === 0 && typeof o.beta3Warmup === 'number')).toBe(true);
    expect(options.some((o) => o.weightDecay !== undefined && o.weightDecay !== 0)).toBe(true);
    expect(options.some((o) => o.alpha === 0)).toBe(true);
  });
});
