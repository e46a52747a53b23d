/**
 * The CPU twins of both Schedule-Free AdamW forms against the authors' own code:
 * tests/golden/schedule-free.json holds facebookresearch/schedule_free's parameters after each of
 * 8 steps, after eval() and train() (after step 4 and step 8) and its final state, for ordinary
 * and edge gradients, and skip cases (two tensors, some grads None on some steps: PyTorch's step
 * rule), made by scripts/schedule-free-golden.py (the upstream classes copied from
 * the commit it names, run by PyTorch 1.13 with the portable CPU kernels). 0 ULP.
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer } from '../../src/index.js';
import golden from '../golden/schedule-free.json';

const f32 = (text: string) => {
  const binary = atob(text);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
};
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe(`facebookresearch/schedule_free (${golden.source}) on PyTorch ${golden.torch}`, () => {
  test.each(golden.cases.map((c, i) => [`${c.name} ${JSON.stringify(c.options)}`, i] as const))('%s: every step, eval() and train(), the final state, bit for bit', (_label, index) => {
    const c = golden.cases[index]!;
    const ref = createReferenceOptimizer(c.name as 'adamw_schedule_free', [{ name: 'p', data: f32(c.params0) }], c.options as never);
    c.grads.forEach((g, k) => {
      const step = k + 1;
      ref.step([f32(g)]);
      expect(bits(ref.params[0]!), `params after step ${step}`).toEqual(bits(f32(c.params[k]!)));
      const sw = c.switches.find((s) => s.afterStep === step);
      if (!sw) return;
      ref.eval();
      expect(bits(ref.params[0]!), `eval() after step ${step}`).toEqual(bits(f32(sw.eval)));
      ref.train();
      expect(bits(ref.params[0]!), `train() after step ${step}`).toEqual(bits(f32(sw.train)));
    });
    const state = ref.stateDict().state[0]!;
    expect(Object.keys(state).filter((k) => state[k] instanceof Float32Array).sort(), 'the slots upstream keeps').toEqual(Object.keys(c.state).sort());
    for (const [slot, values] of Object.entries(c.state)) expect(bits(state[slot] as Float32Array), `slot ${slot}`).toEqual(bits(f32(values)));
  });

  // PyTorch's step rule: upstream steps only the tensors whose grad is not None, at the group's k
  // (lr_max and weight_sum advance every step); eval()/train() pass by a tensor that never stepped.
  test.each(golden.skipCases.map((c, i) => [`${c.name} ${JSON.stringify(c.options)}`, i] as const))('%s, some grads None: every step, eval() and train(), the final state, bit for bit', (_label, index) => {
    const c = golden.skipCases[index]!;
    const ref = createReferenceOptimizer(c.name as 'adamw_schedule_free', c.params0.map((p, t) => ({ name: `p${t}`, data: f32(p) })), c.options as never);
    const expectParams = (expected: readonly string[], what: string) => expected.forEach((p, t) => expect(bits(ref.params[t]!), `tensor ${t} ${what}`).toEqual(bits(f32(p))));
    c.grads.forEach((gs, k) => {
      const step = k + 1;
      ref.step(gs.map((g) => (g === null ? null : f32(g))));
      expectParams(c.params[k]!, `after step ${step}`);
      const sw = c.switches.find((s) => s.afterStep === step);
      if (!sw) return;
      ref.eval();
      expectParams(sw.eval, `eval() after step ${step}`);
      ref.train();
      expectParams(sw.train, `train() after step ${step}`);
    });
    const sd = ref.stateDict();
    expect(sd.step).toBe(c.grads.length);
    c.state.forEach((slots, t) => {
      for (const [slot, values] of Object.entries(slots)) expect(bits(sd.state[t]![slot] as Float32Array), `tensor ${t} slot ${slot}`).toEqual(bits(f32(values)));
    });
  });

  test('the skip cases have steps where one tensor, both or none lack a gradient, a switch before a tensor ever stepped, and both forms', () => {
    for (const c of golden.skipCases) {
      const absent = c.grads.map((gs) => gs.filter((g) => g === null).length);
      expect(new Set(absent)).toEqual(new Set([0, 1, 2]));
      expect(c.grads.slice(0, c.switches[0]!.afterStep).every((gs) => gs[1] === null)).toBe(true);
    }
    expect(new Set(golden.skipCases.map((c) => c.name))).toEqual(new Set(['adamw_schedule_free', 'adamw_schedule_free_paper']));
  });

  test('covers both forms, and in the current form warmup, weight decay, r, weight_lr_power and inner momentum', () => {
    expect(new Set(golden.cases.map((c) => c.name))).toEqual(new Set(['adamw_schedule_free', 'adamw_schedule_free_paper']));
    const current = golden.cases.filter((c) => c.name === 'adamw_schedule_free').map((c) => c.options as Record<string, unknown>);
    for (const option of ['warmupSteps', 'weightDecay', 'r', 'weightLrPower', 'innerMomentum', 'betas', 'eps', 'lr']) {
      expect(current.some((o) => o[option] !== undefined), option).toBe(true);
    }
    expect(golden.cases.every((c) => c.switches.length === 2)).toBe(true);
  });
});
