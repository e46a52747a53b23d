/**
 * Muon's CPU twin (f32, the GPU's order) against the float64 recipe of torch.optim.Muon over the
 * shapes that matter: 1 × n, n × 1, square, wide, tall, odd sizes, a 4-D convolution kernel, a zero
 * gradient (the eps clamp), many small matrices in one set; and its refusals.
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer, listOptimizers, registerOptimizer } from '../../src/index.js';
import { muon } from '../../src/optimizers/muon/definition.js';
import { randomArray, rng } from '../helpers/data.js';
import { MUON_ROWS, muonStep64, newtonSchulz64, type Muon64State } from '../helpers/muon-float64.js';
import { compare } from '../helpers/allclose.js';
import { nsMatrixShape } from '../../src/passes/newton-schulz-table.js';
import { newtonSchulzPass, newtonSchulzPassWith } from '../../src/passes/newton-schulz.js';
import { nsTilingsFor, planOf, type NsPlanLimits } from '../../src/passes/newton-schulz-plan.js';
import { computeLayout } from '../../src/core/layout.js';
import { roundToBf16 as bf16 } from '../../src/core/float-bits.js';
import { gatherX, normalize, nsStep, orthogonalizedAt } from '../../src/optimizers/muon/newton-schulz-twin.js';

const SHAPES: readonly (readonly number[])[] = [[1, 40], [40, 1], [16, 16], [7, 33], [33, 7], [130, 70], [4, 3, 2, 2], [1, 1]];

/** The f32 against the float64 recipe (reference-f64's tolerance): atol 1e-6, rtol 1e-4. */
const TOLERANCE = { atol: 1e-6, rtol: 1e-4 };

/** Runs the twin and the float64 recipe side by side over `steps` steps; returns the mismatches of the parameters and momentum. */
function mismatches(shapes: readonly (readonly number[])[], options: Record<string, unknown>, steps: number, grad: (t: number, i: number, n: number) => Float32Array): string[] {
  const tensors = shapes.map((shape, i) => ({ name: `w${i}`, shape, data: randomArray(shape.reduce((a, b) => a * b, 1), rng(10 + i)) }));
  const ref = createReferenceOptimizer('muon' as never, tensors.map((t) => ({ ...t, data: t.data.slice() })), options as never);
  const expected = tensors.map((t) => Array.from(t.data));
  const states = tensors.map((): Muon64State => ({}));
  for (let t = 1; t <= steps; t++) {
    const grads = tensors.map((x, i) => grad(t, i, x.data.length));
    ref.step(grads);
    tensors.forEach((x, i) => muonStep64(options, expected[i]!, grads[i]!, states[i]!, x.shape));
  }
  const sd = ref.stateDict();
  return tensors.flatMap((x, i) => [
    ...compare(ref.params[i]!, expected[i]!, TOLERANCE).mismatches.map((m) => `${x.name} param ${JSON.stringify(m)}`),
    ...compare(sd.state[i]!.momentum_buffer as Float32Array, states[i]!.buf!, TOLERANCE).mismatches.map((m) => `${x.name} momentum ${JSON.stringify(m)}`),
  ]);
}

/** The f32 Newton–Schulz (the twin's, the GPU's order) against float64 on one matrix: max |O₃₂ − O₆₄| / max |O₆₄|. */
function nsDrift(shape: readonly number[], seed: number): number {
  const matrix = nsMatrixShape(shape);
  const u = randomArray(matrix.rows * matrix.cols, rng(seed));
  let x = gatherX(u, matrix);
  normalize(x, Math.fround(1e-7));
  const abc = [3.4445, -4.775, 2.0315].map(Math.fround) as [number, number, number];
  for (let k = 0; k < 5; k++) x = nsStep(x, matrix.m, matrix.n, ...abc);
  const o64 = newtonSchulz64(Array.from(u), matrix.rows, matrix.cols, Array.from({ length: 5 }, () => abc), 1e-7);
  let worst = 0, largest = 0;
  o64.forEach((e, k) => {
    worst = Math.max(worst, Math.abs(orthogonalizedAt(x, matrix, Math.floor(k / matrix.cols), k % matrix.cols) - e));
    largest = Math.max(largest, Math.abs(e));
  });
  return worst / largest;
}

const randomGrad = (t: number, i: number, n: number) => randomArray(n, rng(100 * t + i));

// Muon is not in the built-in registry yet (the registry-driven suites give every optimizer vectors;
// Muon takes matrices only): registered here, as an optimizer from outside the library would be.
if (!listOptimizers().includes('muon')) registerOptimizer(muon);

describe('muon twin vs float64', { timeout: 30_000 }, () => {
  test.each(MUON_ROWS.map((o) => [JSON.stringify(o), o] as const))('%s: every shape in one set, 3 steps', (_l, options) => {
    expect(mismatches(SHAPES, options as Record<string, unknown>, 3, randomGrad)).toEqual([]);
  });

  test('a zero gradient: X = 0 / eps, the parameters only decay', () => {
    const shapes = [[5, 3]];
    const data = randomArray(15, rng(3));
    const ref = createReferenceOptimizer('muon' as never, [{ name: 'w', shape: shapes[0]!, data: data.slice() }], { lr: 0.1, weightDecay: 0.5 } as never);
    ref.step([new Float32Array(15)]);
    ref.params[0]!.forEach((p, k) => expect(p).toBe(Math.fround(data[k]! * Math.fround(1 - 0.1 * 0.5))));
    expect(mismatches([[5, 3], [3, 5]], { lr: 0.1 }, 3, (t, _i, n) => (t === 2 ? new Float32Array(n) : randomArray(n, rng(t))))).toEqual([]);
  });

  test('200 small matrices of 14 shapes in one set', () => {
    const shapes = Array.from({ length: 200 }, (_, i) => [1 + (i % 7), 1 + ((i * 3) % 5)]);
    expect(mismatches(shapes, { lr: 0.02 }, 3, randomGrad)).toEqual([]);
  });

  test.each(SHAPES.map((shape) => [JSON.stringify(shape), shape] as const))('%s: the f32 Newton–Schulz drifts from float64 by < 2e-5 of the largest |O|', (_l, shape) => {
    const drift = nsDrift(shape, 3);
    console.log(`Newton–Schulz f32 vs f64, shape ${JSON.stringify(shape)}: ${drift.toExponential(2)} of max |O|`);
    expect(drift).toBeLessThan(2e-5); // measured: 4.8e-6 on 130 × 70, below 1e-6 on the small ones
  });

  test('the float64 recipe is sensitive: a Newton–Schulz step less is caught', () => {
    const options = { lr: 0.02, weightDecay: 0 };
    const fewer = { ...options, nsSteps: 4 };
    const tensors = [{ name: 'w', shape: [33, 7], data: randomArray(231, rng(1)) }];
    const ref = createReferenceOptimizer('muon' as never, tensors, fewer as never);
    const g = randomArray(231, rng(2));
    ref.step([g]);
    const expected = Array.from(randomArray(231, rng(1)));
    muonStep64(options, expected, g, {}, [33, 7]);
    const diff = Math.max(...expected.map((e, k) => Math.abs(e - ref.params[0]![k]!)));
    expect(diff).toBeGreaterThan(1e-5);
  });
});

describe('muon refusals', () => {
  test('a vector is refused, naming the tensor, before anything is made', () => {
    expect(() => createReferenceOptimizer('muon' as never, [{ name: 'w', shape: [2, 2], data: new Float32Array(4) }, { name: 'bias', data: new Float32Array(3) }])).toThrow(
      /tensor "bias" of shape \[3\] is not a matrix/,
    );
  });

  test.each([
    [{ nsSteps: 0 }, /nsSteps must be an integer in \[1, 10\], got 0/],
    [{ nsSteps: 11 }, /nsSteps must be an integer in \[1, 10\]/],
    [{ nsSteps: 2.5 }, /nsSteps must be an integer/],
    [{ nsCoefficients: [1, 2] }, /nsCoefficients must be a triple \[a, b, c\]/],
    [{ nsCoefficients: [1, 2, NaN] }, /nsCoefficients\[2\] must be a finite number/],
    [{ nsCoefficients: [[1, 2, 3], [1, 2]] }, /nsCoefficients\[1\] must be a triple/],
    [{ nsCoefficients: [[1, 2, 3]], nsSteps: 2 }, /nsCoefficients holds 1 triples, nsSteps is 2/],
    [{ adjustLrFn: 'rms' }, /adjustLrFn must be 'original' or 'match_rms_adamw', got "rms"/],
    [{ momentum: 1 }, /momentum must be in \[0, 1\)/],
    [{ eps: -1 }, /eps must be >= 0/],
    [{ nesterov: 1 }, /nesterov must be a boolean/],
    [{ nsPrecision: 'fp16' }, /nsPrecision must be 'f32' or 'bf16', got "fp16"/],
    [{ nsPrecision: 16 }, /nsPrecision must be 'f32' or 'bf16', got 16/],
    [{ role: 'both' }, /role must be 'muon' or 'adamw', got "both"/],
    [{ role: null }, /role must be 'muon' or 'adamw', got null/],
  ])('%j is refused', (options, message) => {
    expect(() => createReferenceOptimizer('muon' as never, [{ name: 'w', shape: [2, 2], data: new Float32Array(4) }], options as never)).toThrow(message);
  });

  test("nsPrecision 'bf16' is accepted and rounds: the step differs from the f32 one, and every value of X' is a bfloat16", () => {
    const tensors = () => [{ name: 'w', shape: [4, 6], data: randomArray(24, rng(5)) }];
    const g = randomArray(24, rng(6));
    const a = createReferenceOptimizer('muon' as never, tensors(), { nsPrecision: 'bf16', lr: 1, weightDecay: 0 } as never);
    const b = createReferenceOptimizer('muon' as never, tensors(), { lr: 1, weightDecay: 0 } as never);
    a.step([g]);
    b.step([g]);
    expect(Array.from(a.params[0]!)).not.toEqual(Array.from(b.params[0]!));
    const x = gatherX(g, nsMatrixShape([4, 6]));
    normalize(x, Math.fround(1e-7), true);
    expect(Array.from(nsStep(x, 4, 6, 3.4445, -4.775, 2.0315, true)).every((v) => bf16(v) === v)).toBe(true);
  });

  test('one triple per step is accepted and used', () => {
    const tensors = () => [{ name: 'w', shape: [4, 6], data: randomArray(24, rng(5)) }];
    const g = randomArray(24, rng(6));
    const a = createReferenceOptimizer('muon' as never, tensors(), { nsSteps: 2, nsCoefficients: [[3, -4, 2], [2, -1, 0.5]] } as never);
    const b = createReferenceOptimizer('muon' as never, tensors(), { nsSteps: 2, nsCoefficients: [3, -4, 2] } as never);
    a.step([g]);
    b.step([g]);
    expect(Array.from(a.params[0]!)).not.toEqual(Array.from(b.params[0]!));
  });
});

describe('split-K in the twin', () => {
  test('X·Xᵀ of a 1 × 3000 X: three chunks of 1024 columns each summed in increasing k, then added in chunk order (not one sum over k)', () => {
    const n = 3000;
    const x = randomArray(n, rng(5));
    x[0] = 1; // A·X at column 0 is A itself: X' = 0·X + (1·A + 0·A²)·X.
    const f = Math.fround;
    const chunked = [0, 1024, 2048].reduce((total, k0) => {
      let acc = 0;
      for (let k = k0; k < Math.min(n, k0 + 1024); k++) acc = f(acc + f(x[k]! * x[k]!));
      return f(total + acc);
    }, 0);
    let plain = 0;
    for (let k = 0; k < n; k++) plain = f(plain + f(x[k]! * x[k]!));
    expect(chunked).not.toBe(plain); // the data tell the two orders apart
    expect(nsStep(x, 1, n, 0, 1, 0)[0]).toBe(chunked);
    // 1024 columns: one sum (not split).
    const short = x.slice(0, 1024);
    let whole = 0;
    for (let k = 0; k < 1024; k++) whole = f(whole + f(short[k]! * short[k]!));
    expect(nsStep(short, 1, 1024, 0, 1, 0)[0]).toBe(whole);
  });

  test.each([[[1, 3000]], [[3000, 20]], [[32, 2500]]])('%j: the split f32 Newton–Schulz drifts from float64 by < 2e-5 of the largest |O|', (shape) => {
    const drift = nsDrift(shape, 4);
    console.log(`Newton–Schulz f32 (split-K) vs f64, shape ${JSON.stringify(shape)}: ${drift.toExponential(2)} of max |O|`);
    expect(drift).toBeLessThan(2e-5);
  });
});

describe('the Newton–Schulz pass plans, from the shapes alone, what the device can hold', () => {
  const limits = {
    maxStorageBufferBindingSize: 2 ** 27,
    maxBufferSize: 2 ** 28,
    maxComputeWorkgroupsPerDimension: 65535,
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupSizeX: 256,
    maxComputeWorkgroupSizeY: 256,
    maxComputeWorkgroupStorageSize: 16384,
  };
  const layoutOf = (shapes: readonly (readonly number[])[]) =>
    computeLayout(shapes.map((shape, i) => ({ name: `w${i}`, shape, length: shape.reduce((a, b) => a * b, 1) })), limits, 256);
  const fail = (detail: string): never => {
    throw new RangeError(detail);
  };
  const planLimits = (over: Partial<NsPlanLimits> = {}): NsPlanLimits => ({ tilings: nsTilingsFor(limits as GPUSupportedLimits), budgetBytes: 2 ** 28, bindingBytes: 2 ** 27, maxDim: 65535, ...over });

  test('a 4096 × 4096 matrix needs its 64 MiB output and a 256 MiB batch region: over a 128 MiB binding', () => {
    expect(() => newtonSchulzPass.check!('muon', layoutOf([[4096, 4096]]), limits as GPUSupportedLimits)).toThrow(
      /muon: the Newton–Schulz pass over 1 matrices needs a 335544336-byte scratch for tensor "w0" .* over the device's storage binding limit \(134217728\)/,
    );
  });

  test('a 2048 × 2048 matrix fits; 20 000 small matrices fit in one batch; a matrix with more tiles than 8² workgroups is refused', () => {
    expect(() => newtonSchulzPass.check!('muon', layoutOf([[2048, 2048]]), limits as GPUSupportedLimits)).not.toThrow();
    expect(planOf(layoutOf(Array.from({ length: 20000 }, () => [3, 5])), [], planLimits(), fail).batches.length).toBe(1);
    const tight = { ...limits, maxComputeWorkgroupsPerDimension: 8 };
    expect(() => newtonSchulzPass.check!('muon', layoutOf([[64, 64 * 65]]), tight as GPUSupportedLimits)).toThrow(/needs 65 tiles for tensor "w0", over 8² workgroups/);
  });

  test('tile classes 16², 32² and 64² on default limits, no 64² where a workgroup may hold fewer than 256 invocations or 8 KiB; each matrix the smallest covering its m', () => {
    const sizes = (l: object) => nsTilingsFor({ ...limits, ...l } as GPUSupportedLimits).map((t) => t.size);
    expect(sizes({})).toEqual([16, 32, 64]);
    expect(sizes({ maxComputeInvocationsPerWorkgroup: 128 })).toEqual([16, 32]);
    expect(sizes({ maxComputeWorkgroupStorageSize: 8192 })).toEqual([16, 32]);
    const plan = planOf(layoutOf([[3, 5], [20, 40], [70, 50], [100, 200]]), [], planLimits(), fail);
    // [3, 5]: one 16² tile; [20, 40]: 32² tiles (1 square, 2 wide); [70, 50] (m = 50) and [100, 200]: 64² tiles.
    expect(plan.batches[0]!.squareTiles).toEqual([1, 1, 1 + 3]);
    expect(plan.batches[0]!.wideTiles).toEqual([1, 2, 2 + 2 * 4]);
    const small = planOf(layoutOf([[100, 200]]), [], planLimits({ tilings: nsTilingsFor({ ...limits, maxComputeInvocationsPerWorkgroup: 128 } as GPUSupportedLimits) }), fail);
    expect(small.batches[0]!.squareTiles).toEqual([0, 4 * 5 / 2]);
  });

  test('over the scratch budget or the grid, the matrices go in batches, in order, each within both', () => {
    const shapes = Array.from({ length: 65 }, (_, i) => [3 + (i % 4), 5]);
    const floats = (s: readonly number[]) => 2 * s[0]! * s[1]! + 2 * s[0]! * s[0]!;
    const budget = 4 * (floats(shapes[0]!) + floats(shapes[1]!) + floats(shapes[2]!));
    const byBudget = planOf(layoutOf(shapes), [], planLimits({ budgetBytes: budget }), fail);
    expect(byBudget.batches.length).toBeGreaterThan(20);
    for (const b of byBudget.batches) expect(b.floats * 4 <= budget || b.matrices === 1).toBe(true);
    expect(byBudget.batches.map((b) => b.matrices).reduce((a, b) => a + b)).toBe(65);
    byBudget.batches.forEach((b, k) => k > 0 && expect(b.firstMatrix).toBe(byBudget.batches[k - 1]!.firstMatrix + byBudget.batches[k - 1]!.matrices));
    const byGrid = planOf(layoutOf(shapes), [], planLimits({ maxDim: 8 }), fail);
    expect(byGrid.batches.map((b) => b.matrices)).toEqual([64, 1]);
    for (const b of byGrid.batches) for (const c of [...b.squareTiles, ...b.wideTiles]) expect(c).toBeLessThanOrEqual(64);
    // One matrix over the budget is a batch of its own (within the binding), not a failure.
    expect(planOf(layoutOf([[40, 50], [3, 3]]), [], planLimits({ budgetBytes: 64 }), fail).batches.map((b) => b.matrices)).toEqual([1, 1]);
  });

  test('newtonSchulzPassWith refuses a scratch budget that is not a positive number, naming it', () => {
    for (const bad of [0, -1, NaN, Infinity]) expect(() => newtonSchulzPassWith({ scratchBudgetBytes: bad })).toThrow(/scratchBudgetBytes must be a positive number, got/);
    expect(newtonSchulzPassWith({ scratchBudgetBytes: 4096 }).name).toBe('newtonSchulz');
  });

  test('split-K: a long, thin X (m ≤ 32, n > 1024) has its X·Xᵀ in chunks of 1024 columns, a workgroup per chunk and upper 16² tile, the chunks\' partial sums (m² each) in its batch region, every region from a multiple of 4 floats', () => {
    const plan = planOf(layoutOf([[1, 3000], [3000, 1], [16, 1025], [16, 1024], [1100, 20], [33, 1030], [5, 7]]), [], planLimits(), fail);
    // 3 chunks × 1 tile, twice; 2 × 1; 1024 columns: one chunk, not split; m = 20: 2 chunks × 3 upper 16² tiles; m = 33: not split.
    expect(plan.batches[0]!.splitTiles).toBe(3 + 3 + 2 + 0 + 2 * 3 + 0 + 0);
    // X₀, X₁, A, B' each from a multiple of 4 floats (the vec4 loads), then the partials; the whole a multiple of 4.
    const a4 = (k: number) => Math.ceil(k / 4) * 4;
    const floats = (m: number, n: number, chunks: number) => a4(2 * a4(m * n) + 2 * a4(m * m) + (chunks > 1 ? chunks * m * m : 0));
    expect(plan.batches[0]!.floats).toBe(floats(1, 3000, 3) * 2 + floats(16, 1025, 2) + floats(16, 1024, 1) + floats(20, 1100, 2) + floats(33, 1030, 1) + floats(5, 7, 1));
    plan.matrices.forEach((_, t) => expect(Array.from(plan.table.subarray((2 + 3 * t) * 4 + 4, (2 + 3 * t) * 4 + 8)).map((offset) => offset % 4)).toEqual([0, 0, 0, 0]));
    // The budget counts the partials: a budget of exactly the first matrix's region keeps it alone.
    const tight = planOf(layoutOf([[1, 3000], [1, 5]]), [], planLimits({ budgetBytes: 4 * floats(1, 3000, 3) + 4 }), fail);
    expect(tight.batches.map((b) => [b.matrices, b.splitTiles])).toEqual([[1, 3], [1, 0]]);
  });

  test('the m × m products cover the upper triangle only: tm(tm + 1)/2 tiles of a 130 × 70 matrix (m = 70: 2 × 2 tiles of 64 → 3)', () => {
    const plan = planOf(layoutOf([[130, 70]]), [], planLimits(), fail);
    expect(plan.batches[0]!.squareTiles).toEqual([0, 0, 3]);
    expect(plan.batches[0]!.wideTiles).toEqual([0, 0, 2 * 3]);
  });
});
