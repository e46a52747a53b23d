/**
 * The layer-wise optimizers (LAMB, LARS, Adafactor) on the shapes their per-tensor norms are sensitive to:
 * one element, long thin and wide matrices, a 3-D tensor, an empty tensor, a tensor at zero, a
 * tensor with zero gradients, and tensors across segment boundaries — GPU against the CPU twin on
 * parameters and every slot (bit-exact on SwiftShader; the largest difference is logged). The
 * per-tensor norms on a million elements are checked against a float64 sum.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { createOptimizer, createParameterSet } from '../../src/index.js';
import { PARITY_TOLERANCE } from '../helpers/cases.js';
import { randomArray, rng } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { runParity } from '../helpers/parity.js';

const SHAPES: { name: string; shape: number[] }[] = [
  { name: 'one', shape: [1] },
  { name: 'thin', shape: [1000, 3] },
  { name: 'wide', shape: [3, 1000] },
  { name: 'cube', shape: [4, 5, 6] },
  { name: 'empty', shape: [0, 7] },
  { name: 'zeros', shape: [130] },
  { name: 'stillGrad', shape: [65] },
  { name: 'big', shape: [5003] },
];

const tensors = () => {
  const random = rng(5);
  return SHAPES.map(({ name, shape }) => {
    const length = shape.reduce((a, b) => a * b, 1);
    return { name, shape, data: name === 'zeros' ? new Float32Array(length) : randomArray(length, random) };
  });
};

/** Gradients: zero for `zeros` (a tensor at zero with no gradient) and `stillGrad` (no gradient). */
const grad = (step: number, i: number, length: number) =>
  SHAPES[i]!.name === 'zeros' || SHAPES[i]!.name === 'stillGrad' ? new Float32Array(length) : randomArray(length, rng(step * 100 + i));

const CASES: [string, Record<string, unknown>][] = [
  ['lamb', { lr: 0.01 }],
  ['lamb', { lr: 0.01, weightDecay: 0.1, groups: [{ tensors: ['thin', 'one'], weightDecay: 0, lr: 0.05 }] }],
  ['lars', { lr: 0.5 }],
  ['lars', { lr: 0.2, weightDecay: 0.01, nesterov: true, groups: [{ tensors: ['cube', 'one'], trustRatio: false, lr: 0.01 }] }],
  ['lars', { lr: 0.2, weightDecay: 0.01, eps: 1e-3, trustCoefficient: 0.02, gradClipping: { maxNorm: 1 }, accumulation: { steps: 2 } }],
  ['adafactor', {}],
  ['adafactor', { lr: 0.05, weightDecay: 0.1, maximize: true, groups: [{ tensors: ['thin', 'one'], beta2Decay: -0.5, eps: [1e-6, 1e-2], d: 2 }] }],
  ['adafactor', { gradClipping: { maxNorm: 1 }, lossScaling: { initScale: 1024 }, accumulation: { steps: 2 } }],
];

const worst = { abs: 0, rel: 0 };
afterAll(() => console.log(`layer-wise parity: largest |gpu − twin| = ${worst.abs}, relative ${worst.rel}`));

describe('GPU against the twin', () => {
  test.each(CASES)('%s %j: 6 steps, params and every slot', async (name, options) => {
    await withDevice(async (device) => {
      const result = await runParity(device, { name, options, tensors: tensors(), steps: 6, checkAt: [1, 2, 6], grad, tolerance: PARITY_TOLERANCE });
      worst.abs = Math.max(worst.abs, result.maxAbs);
      worst.rel = Math.max(worst.rel, result.maxRel);
      const p = await result.params.read();
      // The tensor at zero with no gradient stays at zero (ratio 1, u = 0), and nothing is NaN.
      expect(Array.from(p[SHAPES.findIndex((s) => s.name === 'zeros')]!).every((x) => x === 0)).toBe(true);
      expect(p.every((t) => t.every((x) => Number.isFinite(x)))).toBe(true);
      result.gpu.destroy();
      result.params.destroy();
      expect(result.failures).toEqual([]);
    });
  });

  test.each([['lamb', { lr: 0.01 }], ['lars', { lr: 0.5, nesterov: true }], ['adafactor', {}]] as const)('%s: tensors across segment boundaries (a tiny binding size) equal the twin', async (name, options) => {
    await withDevice(async (device) => {
      // 4096-element segments: the 5003-element vector and the 90 × 100 matrix span two or three
      // (Adafactor's rows and columns are summed across the boundaries).
      const shapes = [[10, 10], [5003], [90, 100], [1, 1]];
      const random = rng(9);
      const result = await runParity(device, {
        name,
        options,
        tensors: shapes.map((shape, i) => ({ name: `s${i}`, shape, data: randomArray(shape.reduce((a, b) => a * b, 1), random) })),
        steps: 3,
        checkAt: [3],
        grad: (step, i, length) => randomArray(length, rng(step * 10 + i)),
        tolerance: PARITY_TOLERANCE,
        setOptions: { limits: { maxStorageBufferBindingSize: 4096 * 4 } },
      });
      expect(result.params.layout.segments.length).toBeGreaterThan(3);
      result.gpu.destroy();
      result.params.destroy();
      expect(result.failures).toEqual([]);
    });
  });
});

describe('per-tensor norms', () => {
  test('LARS trust ratios on 1M elements equal the float64 ‖p‖/‖g‖ within 1e-5', async () => {
    await withDevice(async (device) => {
      const random = rng(13);
      const sizes = [1_000_003, 257, 64];
      const p0 = sizes.map((n) => randomArray(n, random));
      const g = sizes.map((n) => randomArray(n, random));
      const params = createParameterSet(device, p0.map((data, i) => ({ name: `n${i}`, data })));
      // η = lr = 1, no momentum: p₁ = p₀ − (‖p₀‖/‖g‖)·g, so each element gives the ratio back.
      const lars = createOptimizer('lars', params, { lr: 1, trustCoefficient: 1, momentum: 0 });
      params.writeGrads(g);
      lars.step();
      const p1 = await params.read();
      sizes.forEach((_, t) => {
        const norm = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0));
        const expected = norm(p0[t]!) / norm(g[t]!);
        // Elements with a large step recover the ratio to about 1e-7.
        const ratios = Array.from(g[t]!.keys())
          .filter((i) => Math.abs(expected * g[t]![i]!) > 1)
          .map((i) => (p0[t]![i]! - p1[t]![i]!) / g[t]![i]!);
        expect(ratios.length).toBeGreaterThan(2);
        for (const r of ratios) expect(Math.abs(r - expected) / expected, `tensor ${t}`).toBeLessThan(1e-5);
      });
      lars.destroy();
      params.destroy();
    });
  });
});

describe('Adafactor memory', () => {
  test('the digits MLP (784-64-10): factored state is O(rows + cols), about 88× less than Adam', async () => {
    await withDevice(async (device) => {
      const shapes = [[784, 64], [64], [64, 10], [10]];
      const params = createParameterSet(device, shapes.map((shape, i) => ({ name: `t${i}`, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) })));
      const adam = createOptimizer('adam', params);
      const adafactor = createOptimizer('adafactor', params);
      // Adam: exp_avg and exp_avg_sq over the packed parameters (50 944 with 64-element alignment).
      expect(adam.stateBytes).toBe(2 * params.layout.paddedLength * 4);
      // Adafactor: row_var 784 + col_var 64, variance 64, row_var 64 + col_var 10, variance 10,
      // each region on a 64-element boundary: 832 + 64 + 64 + 64 + 64 + 64 floats.
      const aligned = (n: number) => Math.ceil(n / 64) * 64;
      expect(adafactor.stateBytes).toBe([784, 64, 64, 64, 10, 10].reduce((a, n) => a + aligned(n), 0) * 4);
      console.log(`digits MLP optimizer state: Adam ${adam.stateBytes} B, Adafactor ${adafactor.stateBytes} B (${(adam.stateBytes / adafactor.stateBytes).toFixed(0)}× less)`);
      for (const x of [adam, adafactor, params]) x.destroy();
    });
  });
});

describe('chunk reductions', () => {
  test.each([CASES[0]!, CASES[3]!, CASES[6]!])("%s %j: 'workgroup' and 'invocation' give the same bits as the twin", async (name, options) => {
    await withDevice(async (device) => {
      for (const chunkReduction of ['workgroup', 'invocation'] as const) {
        const result = await runParity(device, { name, options, tensors: tensors(), steps: 3, checkAt: [3], grad, tolerance: PARITY_TOLERANCE, setOptions: { chunkReduction } });
        expect(result.params.chunkReduction).toBe(chunkReduction);
        worst.abs = Math.max(worst.abs, result.maxAbs);
        result.gpu.destroy();
        result.params.destroy();
        expect(result.failures, chunkReduction).toEqual([]);
      }
    });
  });
  test("tensors of several spans (over 262 144 elements): LAMB and LARS equal the twin bit for bit in both shapes, split or not", async () => {
    await withDevice(async (device) => {
      // 600 001 elements: 9376 chunks in 3 spans of up to 4096; beside it a one-span tensor.
      const random = rng(41);
      const big = [{ name: 'big', data: randomArray(600_001, random) }, { name: 'small', data: randomArray(1000, random) }];
      for (const [name, options] of [['lamb', { lr: 0.01, weightDecay: 0.01 }], ['lars', { lr: 0.5, weightDecay: 0.01 }]] as const) {
        for (const setOptions of [{ chunkReduction: 'workgroup' as const }, { chunkReduction: 'invocation' as const, limits: { maxStorageBufferBindingSize: 1 << 20 } }]) {
          const result = await runParity(device, { name, options, tensors: big, steps: 2, checkAt: [2], grad, tolerance: PARITY_TOLERANCE, setOptions });
          worst.abs = Math.max(worst.abs, result.maxAbs);
          result.gpu.destroy();
          result.params.destroy();
          expect(result.failures, `${name} ${JSON.stringify(setOptions)}`).toEqual([]);
        }
      }
    });
  });
  test('the default follows the adapter; a bad value is refused', async () => {
    await withDevice(async (device) => {
      const info = (device as { adapterInfo?: { isFallbackAdapter?: boolean; architecture?: string } }).adapterInfo;
      const cpu = info?.isFallbackAdapter === true || /swiftshader/i.test(info?.architecture ?? '');
      const params = createParameterSet(device, [{ name: 'w', data: new Float32Array(4) }]);
      expect(params.chunkReduction).toBe(cpu ? 'invocation' : 'workgroup');
      params.destroy();
      expect(() => createParameterSet(device, [{ name: 'w', data: new Float32Array(4) }], { chunkReduction: 'warp' as never })).toThrow(
        "chunkReduction must be one of 'workgroup', 'invocation', got \"warp\"",
      );
    });
  });
});
