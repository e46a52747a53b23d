/**
 * Muon's CPU twin against torch's own operations: scripts/torch-golden-muon.py runs
 * torch.optim.Muon's recipe (lerp, norm, clamp, matmul; float32) in Debian's torch 1.13 and
 * tests/golden/muon-torch-1.13.json holds every step. The momentum is the same float32 operations
 * (lerp) and matches bit for bit; torch's matmul sums in its own (blocked) order, so the
 * parameters are held to a stated tolerance: |Δp| ≤ 1e-3 of the largest move of any parameter over
 * the run plus 2 ULP of p (measured: the largest difference is logged).
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer, listOptimizers, registerOptimizer } from '../../src/index.js';
import { muon } from '../../src/optimizers/muon/definition.js';
import golden from '../golden/muon-torch-1.13.json';

if (!listOptimizers().includes('muon')) registerOptimizer(muon);

const f32 = (text: string) => {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
};

describe('muon twin vs torch 1.13 ops', () => {
  test.each(golden.cases.map((c, i) => [JSON.stringify(c.options), i] as const))('%s: every step within the stated tolerance, the momentum bit for bit', (_l, index) => {
    const c = golden.cases[index]!;
    const initial = c.initial.map(f32);
    const ref = createReferenceOptimizer('muon' as never, c.shapes.map((shape, i) => ({ name: `w${i}`, shape, data: initial[i]!.slice() })), c.options as never);
    let worst = 0;
    c.grads.forEach((grads, step) => {
      ref.step(grads.map(f32));
      const expected = c.params[step]!.map(f32);
      const move = Math.max(...expected.flatMap((e, i) => Array.from(e, (x, k) => Math.abs(x - initial[i]![k]!))));
      expected.forEach((e, i) =>
        e.forEach((x, k) => {
          const diff = Math.abs(ref.params[i]![k]! - x);
          worst = Math.max(worst, diff / move);
          expect(diff, `step ${step + 1} tensor ${i} [${k}]`).toBeLessThanOrEqual(1e-3 * move + 2 * 2 ** -23 * Math.abs(x));
        }),
      );
    });
    const state = ref.stateDict().state;
    c.momentum.map(f32).forEach((m, i) => expect(Array.from(state[i]!.momentum_buffer as Float32Array)).toEqual(Array.from(m)));
    console.log(`muon vs torch ${JSON.stringify(c.options)}: largest |Δp| = ${worst.toExponential(2)} of the largest move`);
  });
});
