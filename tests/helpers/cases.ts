import { optionMatrix, RECORDS, TESTED, type TestOptimizerName } from './records/index.js';
import type { OptionRow } from './records/record.js';
import type { Tolerance } from './allclose.js';

/**
 * GPU vs reference tolerance. The reference rounds every operation to f32 as PyTorch does; a GPU
 * compiler may contract a·b + c into one FMA (WGSL allows it), which changes the last bit of a
 * rounding and, over 10 steps, a few ULP of state. rtol 1e-5 (≈ 80 ULP) covers that; atol 1e-7
 * covers values that land near zero through cancellation, where relative error means nothing.
 * A wrong formula (eps placement, bias correction, step-1 rule) is off by far more.
 * SwiftShader (CI) is bit-exact against the reference: the parity run logs the largest difference.
 */
export const PARITY_TOLERANCE: Tolerance = { atol: 1e-7, rtol: 1e-5 };

/**
 * The option matrix every parity suite walks: each tested optimizer (built-in and test-only, in
 * registration order), each option on and off, with its eps-sensitive row where it takes eps. Made
 * from the test records (records/index.ts), where a registered optimizer without one does not compile.
 */
export const OPTION_MATRIX = Object.fromEntries(TESTED.map((name) => [name, optionMatrix(name)])) as { readonly [K in TestOptimizerName]: readonly OptionRow<K>[] };

/** Odd and aligned sizes in one set: 1, 3, 63, 64, 65, 1000 and one large odd tensor. */
export const ODD_SIZES = [1, 3, 63, 64, 65, 1000, 100_003];

/**
 * Per registered optimizer: its plainest and its richest configuration from the matrix. The feature
 * suites walk these, so a newly registered optimizer is in every suite without a hand-written list.
 */
export const REGISTERED: readonly { name: TestOptimizerName; plain: Record<string, unknown>; rich: Record<string, unknown> }[] = TESTED.map((name) => {
  const matrix = OPTION_MATRIX[name] as readonly Record<string, unknown>[];
  return { name, plain: matrix[0]!, rich: matrix[matrix.length - 1]! };
});

/**
 * Every optimizer whose state block-wise formats ('q8', 'q4') take, with the rows of its matrix
 * they take: all but those whose record says f32StateOnly (Adafactor's factored state, NSGD's none),
 * less the rows whose kernel cannot hold quantized state (cautious updates; noQ8), less the
 * optimizers left with no row (Muon, Prodigy). Their refusals are tested where the format is.
 */
export const BLOCKWISE_MATRIX: readonly (readonly [TestOptimizerName, readonly Record<string, unknown>[]])[] = TESTED.filter((name) => !RECORDS[name].f32StateOnly)
  .map((name) => [name, (OPTION_MATRIX[name] as readonly Record<string, unknown>[]).filter((row) => !(RECORDS[name].noQ8 as ((row: object) => boolean) | undefined)?.(row))] as const)
  .filter(([, matrix]) => matrix.length > 0);
