/**
 * Whole-set scalar state (a definition's `setState`: Prodigy's d, d_numerator, d_max, k and the
 * β powers its bias correction reads) loaded from a state dict: the load takes the dict's options,
 * so the words it rebuilds follow the dict's options, not those the optimizer was made with.
 */
import { expect, test } from 'vitest';
import { createReferenceOptimizer } from '../../src/index.js';
import { PRODIGY_SCALARS } from '../../src/optimizers/prodigy/scalars-pass.js';

const start = () => Float32Array.from({ length: 9 }, (_, i) => Math.sin(i) / 2);
const grad = (k: number) => Float32Array.from({ length: 9 }, (_, i) => Math.sin(3 * i + k));
const prodigy = (data: Float32Array, betas: readonly number[]) =>
  createReferenceOptimizer('prodigy' as never, [{ name: 'w', data }], { betas, useBiasCorrection: true, d0: 1e-2 } as never);

test("Prodigy: a dict loaded into an optimizer made with other betas continues as its source, bit for bit (β₁ᵏ, β₂ᵏ from the dict's betas)", () => {
  const source = prodigy(start(), [0.9, 0.999]);
  for (let k = 0; k < 3; k++) source.step([grad(k)]);
  const target = prodigy(source.params[0]!.slice(), [0.5, 0.9]);
  target.loadStateDict(source.stateDict() as never);
  expect((target.groups[0] as unknown as { betas: number[] }).betas).toEqual([0.9, 0.999]);
  for (const word of ['beta1Power', 'beta2Power'] as const) expect(target.setState![PRODIGY_SCALARS[word]]).toBe(source.setState![PRODIGY_SCALARS[word]]);
  for (let k = 3; k < 6; k++) {
    source.step([grad(k)]);
    target.step([grad(k)]);
  }
  expect(Array.from(target.params[0]!)).toEqual(Array.from(source.params[0]!));
});
