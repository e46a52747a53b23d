/**
 * Cautious updates against the authors' own code (kyleliang919/C-Optim, c_adamw.py and c_lion.py,
 * run under PyTorch 1.13 by scripts/cautious-golden.py into tests/golden/cautious.json): two
 * tensors (37 and 300 elements, the mask's mean taken per tensor), 8 steps of ordinary and edge
 * gradients (0, −0, ±1e-30, ±1e20, sign flips).
 * - Lion: their update is ours operation for operation: bit for bit, every step and the state.
 * - AdamW: the moments and the mask are ours bit for bit (state compared to the bit), but their
 *   AdamW is the older Hugging Face form, `lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + eps)` with
 *   `p += −lr·wd·p`, where ours is torch.optim.AdamW's `lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + eps)` with
 *   `p *= 1 − lr·wd`: the same value up to eps's placement and the rounding order, so the
 *   parameters are compared within a tolerance that a wrong mask or scale breaks by far.
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer } from '../../src/index.js';
import golden from '../golden/cautious.json';

const f32 = (text: string) => {
  const binary = atob(text);
  return new Float32Array(Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer);
};
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/**
 * Largest |a − e| / max(|e|, lr) over finite pairs (relative to the parameter, or to the step size
 * where a parameter crosses zero); NaN where only one side is NaN.
 */
function largestRelative(actual: Float32Array, expected: Float32Array, lr: number): number {
  let worst = 0;
  expected.forEach((e, i) => {
    const a = actual[i]!;
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (Number.isNaN(a) !== Number.isNaN(e)) worst = NaN;
      return;
    }
    if (a === e) return;
    worst = Math.max(worst, Math.abs(a - e) / Math.max(Math.abs(e), lr));
  });
  return worst;
}

/** AdamW: the same formula up to eps's placement and the rounding order (measured: see the test's output). */
const ADAMW_RTOL = 1e-5;

describe(`cautious updates against ${golden.source}, PyTorch ${golden.torch}`, () => {
  test.each(golden.cases.map((c, i) => [`${c.name} ${JSON.stringify(c.options)}`, i] as const))('%s', (_label, index) => {
    const c = golden.cases[index]!;
    const tensors = c.params0.map((p, k) => ({ name: `p${k}`, data: f32(p) }));
    const ref = createReferenceOptimizer(c.name as 'adamw', tensors, c.options as never);
    let worst = 0;
    c.grads.forEach((g, step) => {
      ref.step(g.map(f32));
      c.params[step]!.forEach((expected, k) => {
        const actual = ref.params[k]!;
        if (c.name === 'lion') expect(bits(actual), `tensor ${k} after step ${step + 1}`).toEqual(bits(f32(expected)));
        else worst = Math.max(worst, largestRelative(actual, f32(expected), c.options.lr));
      });
    });
    if (c.name !== 'lion') {
      console.log(`cautious ${c.name} ${JSON.stringify(c.options)}: largest relative parameter difference to C-Optim ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(ADAMW_RTOL);
    }
    const state = ref.stateDict().state;
    c.state.forEach((slots, k) => {
      for (const [slot, values] of Object.entries(slots)) expect(bits(state[k]![slot] as Float32Array), `tensor ${k} ${slot}`).toEqual(bits(f32(values)));
    });
  });
});
