/**
 * PyTorch's step rule against torch 1.13 itself: tests/golden/step-rule.json (made by
 * scripts/torch-golden-step-rule.py) holds torch.optim's parameters after each of 8 steps over three
 * tensors, some of them without gradient on some steps (`zero_grad(set_to_none=True)`, then only
 * some `grad`s set; one step with none at all), and each parameter's final state and own `step`.
 * The CPU twin, given `null` for a tensor without gradient, must match to the bit, and its state dict
 * must carry each tensor's own step as torch's `state[i]['step']`.
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer } from '../../src/index.js';
import golden from '../golden/step-rule.json';

const f32 = (text: string) => {
  const binary = atob(text);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
};
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe(`PyTorch ${golden.torch}: a parameter whose grad is None is skipped`, () => {
  test.each(golden.cases.map((c, i) => [`${c.name} ${JSON.stringify(c.options)}`, i] as const))('%s: every step, the final state and each step count, bit for bit', (_label, index) => {
    const c = golden.cases[index]!;
    const tensors = c.params0.map((p, i) => ({ name: `p${i}`, data: f32(p) }));
    const ref = createReferenceOptimizer(c.name as 'adam', tensors, c.options as never);
    c.grads.forEach((row, step) => {
      ref.step(row.map((g) => (g === null ? null : f32(g))));
      ref.params.forEach((p, i) => expect(bits(p), `tensor ${i} after step ${step + 1}`).toEqual(bits(f32(c.params[step]![i]!))));
    });
    const sd = ref.stateDict();
    c.state.forEach((torchState, i) => {
      for (const [slot, values] of Object.entries(torchState.slots)) expect(bits(sd.state[i]![slot] as Float32Array), `tensor ${i} slot ${slot}`).toEqual(bits(f32(values as string)));
      for (const [name, value] of Object.entries(torchState.scalars)) expect(sd.state[i]![name], `tensor ${i} ${name}`).toBe(value);
      if (torchState.step !== null) expect(sd.state[i]!.step, `tensor ${i} step`).toBe(torchState.step);
    });
    // The dict's step is the optimizer's (every step() call): the most any tensor took or more.
    expect(sd.step).toBe(golden.present.length);
  });

  test('covers SGD with momentum, Adam, AdamW, NAdam, RAdam and Adagrad at least', () => {
    for (const name of ['sgd', 'adam', 'adamw', 'nadam', 'radam', 'adagrad']) expect(golden.cases.some((c) => c.name === name && (name !== 'sgd' || 'momentum' in c.options)), name).toBe(true);
  });
});

describe(`PyTorch ${golden.torch}: gradient accumulation, a parameter no micro-batch reached is skipped`, () => {
  const { accumulation } = golden;
  test.each(accumulation.cases.map((c, i) => [`${c.name} ${JSON.stringify(c.options)}`, i] as const))(
    '%s: each micro-batch adds what it wrote; every step, the final state and each step count, bit for bit',
    (_label, index) => {
      const c = accumulation.cases[index]!;
      const tensors = c.params0.map((p, i) => ({ name: `p${i}`, data: f32(p) }));
      const ref = createReferenceOptimizer(c.name as 'adam', tensors, { ...c.options, accumulation: { steps: accumulation.steps } } as never);
      c.grads.forEach((microBatches, step) => {
        for (const row of microBatches) ref.step(row.map((g) => (g === null ? null : f32(g))));
        ref.params.forEach((p, i) => expect(bits(p), `tensor ${i} after step ${step + 1}`).toEqual(bits(f32(c.params[step]![i]!))));
      });
      const sd = ref.stateDict();
      c.state.forEach((torchState, i) => {
        for (const [slot, values] of Object.entries(torchState.slots)) expect(bits(sd.state[i]![slot] as Float32Array), `tensor ${i} slot ${slot}`).toEqual(bits(f32(values as string)));
        if (torchState.step !== null) expect(sd.state[i]!.step, `tensor ${i} step`).toBe(torchState.step);
      });
      // Parameter 3, never reached: torch has no state for it (Adagrad's, made at construction, says 0).
      expect(sd.state[3]!.step, 'tensor 3 step').toBe(0);
      expect(sd.step).toBe(accumulation.present.length);
      expect(ref.microStepCount).toBe(accumulation.present.length * accumulation.steps);
    },
  );

  test('covers a parameter reached by some micro-batches only, one by none, and a step no micro-batch reaches', () => {
    const reached = (i: number) => accumulation.present.map((step) => step.filter((row) => row[i]).length);
    expect(reached(1).some((n) => n > 0 && n < accumulation.steps)).toBe(true);
    expect(reached(3).every((n) => n === 0)).toBe(true);
    expect(accumulation.present.some((step) => step.every((row) => row.every((p) => !p)))).toBe(true);
    for (const name of ['sgd', 'adam', 'adamw', 'nadam', 'radam', 'adagrad']) expect(accumulation.cases.some((c) => c.name === name), name).toBe(true);
  });
});

/**
 * Gradient clipping as torch users call it between backward() and step(): clip_grad_norm_ and
 * clip_grad_value_ take only the parameters whose grad is not None. The twin given `null` for a
 * tensor without gradient leaves it out of the norm as torch does. Clipping by value is an exact
 * clamp: bit for bit. By norm, torch takes the norm of the per-tensor norms and divides by the
 * reciprocal (`max_norm / t` is `t.reciprocal() * max_norm`), the twin sums every square once: the
 * norms differ by a few ULP and so do the clip coefficients and the parameters after them.
 */
const NORM_BOUND = { norm: 2e-7, param: 5e-6 };
describe(`PyTorch ${golden.torch}: clipping takes only the parameters whose grad is not None`, () => {
  const relative = (a: number, e: number) => (a === e ? 0 : Math.abs(a - e) / Math.max(Math.abs(e), 1e-30));
  test.each(golden.controlCases.map((c, i) => [`${c.name} ${JSON.stringify(c.options)}`, i] as const))('%s', (_label, index) => {
    const c = golden.controlCases[index]!;
    const tensors = c.params0.map((p, i) => ({ name: `p${i}`, data: f32(p) }));
    const ref = createReferenceOptimizer(c.name as 'adam', tensors, c.options as never);
    const byNorm = 'maxNorm' in c.options.gradClipping;
    let paramDiff = 0;
    let normDiff = 0;
    c.grads.forEach((row, step) => {
      const before = ref.params.map((p) => p.slice());
      ref.step(row.map((g) => (g === null ? null : f32(g))));
      const norm = c.norms[step];
      if (norm !== null && norm !== undefined) normDiff = Math.max(normDiff, relative(ref.control!.totalNorm, norm));
      ref.params.forEach((p, i) => {
        const expected = f32(c.params[step]![i]!);
        if (!byNorm) expect(bits(p), `tensor ${i} after step ${step + 1}`).toEqual(bits(expected));
        // A tensor without gradient this step is left untouched, bit for bit.
        if (row[i] === null) expect(bits(p), `absent tensor ${i} after step ${step + 1}`).toEqual(bits(before[i]!));
        p.forEach((v, k) => (paramDiff = Math.max(paramDiff, relative(v, expected[k]!))));
      });
    });
    console.log(`${c.name} ${JSON.stringify(c.options.gradClipping)}: norm ${normDiff.toExponential(2)}, params ${paramDiff.toExponential(2)} relative`);
    expect(normDiff).toBeLessThanOrEqual(NORM_BOUND.norm);
    expect(paramDiff).toBeLessThanOrEqual(NORM_BOUND.param);
    const sd = ref.stateDict();
    c.state.forEach((torchState, i) => torchState.step !== null && expect(sd.state[i]!.step, `tensor ${i} step`).toBe(torchState.step));
  });
});
