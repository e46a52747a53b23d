/**
 * AdEMAMix beyond the goldens: option refusals (each naming the option and value, nothing changed),
 * the warmup schedulers' values, the slots at β₁ = 0, and the control path's β₃ₜ (a step-table row
 * holds four step scalars; AdEMAMix has five, so β₃ₜ is 1 − f(1 − β₃ₜ) there, on the GPU and in the twin).
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer, toTorchCheckpoint } from '../../src/index.js';
import type { StepScalar } from '../../src/core/definition.js';
import { ademamix, type AdemamixOptions } from '../../src/optimizers/ademamix/definition.js';
import { halfLifeWarmup, linearWarmup } from '../../src/optimizers/ademamix/schedulers.js';
import { applyStepEntries, hyperWgsl, namedScalars, packScalars, scalarLayout, stepEntries } from '../../src/core/scalars.js';

const one = () => [new Float32Array([1, 2, 3])];

describe('ademamix options', () => {
  test.each([
    [{ betas: [0.9, 0.999] }, /ademamix: betas must be a triple \[β₁, β₂, β₃\], got/],
    [{ betas: [0.9, 0.999, 1] }, /ademamix: betas\[2\] must be in \[0, 1\), got 1/],
    [{ betas: [-0.1, 0.999, 0.9999] }, /ademamix: betas\[0\] must be in \[0, 1\), got -0.1/],
    [{ alpha: -1 }, /ademamix: alpha must be >= 0, got -1/],
    [{ alphaWarmup: 2.5 }, /ademamix: alphaWarmup must be an integer >= 0, got 2.5/],
    [{ beta3Warmup: -3 }, /ademamix: beta3Warmup must be an integer >= 0, got -3/],
    [{ beta3Warmup: '10' }, /ademamix: beta3Warmup must be an integer >= 0, got "10"/],
    [{ eps: NaN }, /ademamix: eps must be a finite number, got NaN/],
    [{ weightDecay: -0.1 }, /ademamix: weightDecay must be >= 0, got -0.1/],
  ])('refuses %j', (options, message) => {
    expect(() => createReferenceOptimizer('ademamix', one(), options as never)).toThrow(message);
    const ref = createReferenceOptimizer('ademamix', one());
    expect(() => ref.setHyperparameters(options as never)).toThrow(message);
    expect(ref.groups[0]).toMatchObject({ betas: [0.9, 0.999, 0.9999], alpha: 2, alphaWarmup: null, beta3Warmup: null, eps: 1e-8, weightDecay: 0 });
  });

  test('the authors\' defaults; null warmups mean none', () => {
    const ref = createReferenceOptimizer('ademamix', one(), { alphaWarmup: null, beta3Warmup: 0 });
    expect(ref.groups[0]).toMatchObject({ lr: 1e-3, betas: [0.9, 0.999, 0.9999], alpha: 2, alphaWarmup: null, beta3Warmup: 0, eps: 1e-8, weightDecay: 0 });
  });
});

describe('ademamix schedulers (the authors\' linear_warmup_scheduler and linear_hl_warmup_scheduler)', () => {
  test('α rises linearly from 0 and stays at its end from t = warmup on', () => {
    expect([1, 2, 3, 4, 5, 9].map((t) => linearWarmup(t, 8, 0, 4))).toEqual([2, 4, 6, 8, 8, 8]);
  });
  test('β₃ rises from β₁ linearly in the half-life, reaching its end at t = warmup', () => {
    // The half-life of β, inverse of the authors' f_inv (their f adds 1e-8 to β: the end point's).
    const halfLife = (beta: number) => Math.log(0.5) / Math.log(beta);
    const end = Math.log(0.5) / Math.log(0.9999 + 1e-8);
    const values = [0, 1, 5, 9, 10, 11].map((t) => halfLifeWarmup(t, 0.9999, 0.9, 10));
    expect(values[0]).toBeCloseTo(0.9, 7);
    expect(values.slice(4)).toEqual([0.9999, 0.9999]);
    // Half-lives equally spaced: 10% of the way per step.
    const h = values.slice(0, 4).map(halfLife);
    const [h0, h1, h5, h9] = h as [number, number, number, number];
    expect((h1 - h0) / (end - h0)).toBeCloseTo(0.1, 9);
    expect((h5 - h0) / (end - h0)).toBeCloseTo(0.5, 9);
    expect((h9 - h0) / (end - h0)).toBeCloseTo(0.9, 9);
  });
});

describe('ademamix state', () => {
  test('β₁ = 0 keeps no exp_avg_fast (the authors\' None) and uses the gradient itself', () => {
    const ref = createReferenceOptimizer('ademamix', one(), { betas: [0, 0.999, 0.9999], alpha: 0, lr: 0.1 });
    ref.step([new Float32Array([1, -1, 0])]);
    expect(Object.keys(ref.stateDict().state[0]!).sort()).toEqual(['exp_avg_slow', 'exp_avg_sq']);
    // Step 1, α = 0: p −= lr · g/(|g| + eps) (the bias corrections cancel to within rounding).
    const [p0, p1, p2] = ref.params[0]!;
    expect(p0).toBeCloseTo(0.9, 6);
    expect(p1).toBeCloseTo(2.1, 6);
    expect(p2).toBe(3);
  });
  test('a group with β₁ = 0 beside one with β₁ > 0 has the slot only where β₁ > 0', () => {
    const two = [{ name: 'a', data: new Float32Array(2) }, { name: 'b', data: new Float32Array(2) }];
    const ref = createReferenceOptimizer('ademamix', two, { groups: [{ tensors: ['b'], betas: [0, 0.999, 0.9999] }] });
    ref.step([new Float32Array([1, 2]), new Float32Array([3, 4])]);
    const sd = ref.stateDict();
    expect(Object.keys(sd.state[0]!).sort()).toEqual(['exp_avg_fast', 'exp_avg_slow', 'exp_avg_sq']);
    expect(Object.keys(sd.state[1]!).sort()).toEqual(['exp_avg_slow', 'exp_avg_sq']);
  });
});

test('no torch.optim class: a checkpoint in PyTorch\'s structure is refused by name (state dicts and JSON carry it)', () => {
  const ref = createReferenceOptimizer('ademamix', one());
  ref.step([new Float32Array([1, 2, 3])]);
  expect(() => toTorchCheckpoint(ref.stateDict())).toThrow(/torch\.optim has no "ademamix"/);
});

describe('ademamix on the control path: β₃ₜ computed on the device step', () => {
  const options = { ...ademamix.defaults, betas: [0.8, 0.99, 0.995] as const, beta3Warmup: 10, alphaWarmup: 5 };
  test('four step-table entries; β₃ₜ derived from 1 − β₃ₜ in the generated WGSL and in the twin', () => {
    expect(scalarLayout(ademamix).stepFields).toEqual(['bc1', 'bc2Sqrt', 'alpha', 'oneMinusBeta3']);
    expect(scalarLayout(ademamix).derivedFields).toEqual(['beta3']);
    expect(hyperWgsl(ademamix)).toContain('  h.oneMinusBeta3 = s.w;\n  h.beta3 = 1.0 - h.oneMinusBeta3;\n');
    for (const t of [1, 4, 9, 10, 30]) {
      const host = packScalars(ademamix, [options], t);
      const device = packScalars(ademamix, [options], t, { deviceStep: true });
      applyStepEntries(ademamix, device, stepEntries(ademamix, options, t));
      const h = namedScalars(ademamix, device);
      const exact = namedScalars(ademamix, host);
      expect(h.beta3).toBe(Math.fround(1 - h.oneMinusBeta3));
      // Every other scalar is the host's exact value; β₃ₜ within one f32 ulp of it.
      for (const name of ['bc1', 'bc2Sqrt', 'alpha', 'oneMinusBeta3', 'beta1', 'eps'] as const) expect(h[name], name).toBe(exact[name]);
      expect(Math.abs(h.beta3 - exact.beta3)).toBeLessThanOrEqual(2 ** -24);
    }
  });
  test('a scalar computed on the device step must replace, not divide', () => {
    const beta3 = { ...ademamix.scalars.beta3, combine: 'divide' as const, base: () => 1 };
    const odd = { ...ademamix, scalars: { ...ademamix.scalars, beta3 } };
    expect(() => scalarLayout(odd)).toThrow(/ademamix: scalar beta3 is computed on the device step \(onDeviceStep\), so its combine must be 'replace'/);
    // Without onDeviceStep, five step scalars are one more than a step-table row holds.
    const { onDeviceStep: _, ...plain } = ademamix.scalars.beta3 as StepScalar<AdemamixOptions>;
    expect(() => scalarLayout({ ...ademamix, scalars: { ...ademamix.scalars, beta3: plain } })).toThrow(/ademamix declares 5 step-dependent scalars; at most 4/);
  });
});
