/**
 * Muon on the GPU (its Newton–Schulz pass, every matrix of the set in the same dispatches) against
 * its CPU twin: 1 × n, n × 1, square, wide, tall, 33 × 7, 130 × 70, a 4-D convolution kernel and
 * many small matrices in one set, over the option rows; a zero gradient (the eps clamp); several
 * steps in one encoder; split bindings; the refusal of a vector. The twin follows the GPU's order
 * of every sum (tensor element order for ‖X‖², increasing k in each product), so SwiftShader is
 * expected to match it bit for bit; PARITY_TOLERANCE (rtol 1e-5) leaves room for a GPU compiler's
 * FMA contraction, which Newton–Schulz (a contraction towards the orthogonal factor) does not
 * amplify beyond a few ULP over these steps. The largest difference is logged.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { cosineWithWarmup, createOptimizer, createParameterSet, registerOptimizer } from '../../src/index.js';
import { muon } from '../../src/optimizers/muon/definition.js';
import { newtonSchulzPassWith } from '../../src/passes/newton-schulz.js';
import { planOf, nsTilingsFor } from '../../src/passes/newton-schulz-plan.js';
import { compactLayout } from '../../src/core/compact-layout.js';
import { PARITY_TOLERANCE } from '../helpers/cases.js';
import { randomArray, rng } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { MUON_ROWS } from '../helpers/muon-float64.js';
import { expectRestoredTwin, expectSplitEqualsWhole, oneEncoderParity, runParity } from '../helpers/parity.js';

// The same optimizer with a 2 KiB scratch budget: every set below goes in many batches.
const BATCH_BUDGET = 2048;
registerOptimizer({ ...muon, name: 'muon_batched', passes: [newtonSchulzPassWith({ scratchBudgetBytes: BATCH_BUDGET })] });
// The GEMMs' subgroup variant (where the device has 'subgroups': this suite's device, where the adapter offers them).
registerOptimizer({ ...muon, name: 'muon_subgroups', passes: [newtonSchulzPassWith({ subgroups: true })] });

const SHAPES: readonly (readonly number[])[] = [[1, 200], [200, 1], [16, 16], [7, 33], [33, 7], [130, 70], [4, 3, 2, 2], [1, 1], [17, 18]];
const shaped = (shapes: readonly (readonly number[])[], seed: number) =>
  shapes.map((shape, i) => ({ name: `w${i}_${shape.join('x')}`, shape, data: randomArray(shape.reduce((a, b) => a * b, 1), rng(seed + i)) }));
const gradient = (step: number, i: number, length: number) => (step === 1 && i === 2 ? new Float32Array(length) : randomArray(length, rng(step * 1000 + i)));

const worst = { maxAbs: 0, maxRel: 0 };

describe('muon GPU vs twin', () => {
  test.each(MUON_ROWS.map((o) => [JSON.stringify(o), o] as const))('%s: every shape in one set, 3 steps (the first gradient of 16 × 16 is 0: U = 0, the eps clamp)', async (_l, options) => {
    await withDevice(async (device) => {
      const r = await runParity(device, { name: 'muon', options, tensors: shaped(SHAPES, 7), steps: 3, checkAt: [1, 2, 3], grad: gradient, tolerance: PARITY_TOLERANCE });
      worst.maxAbs = Math.max(worst.maxAbs, r.maxAbs);
      worst.maxRel = Math.max(worst.maxRel, r.maxRel);
      r.gpu.destroy();
      r.params.destroy();
      expect(r.failures).toEqual([]);
    });
  });

  test('120 small matrices of 35 shapes in one set', async () => {
    await withDevice(async (device) => {
      const shapes = Array.from({ length: 120 }, (_, i) => [1 + (i % 7), 1 + ((i * 3) % 5)]);
      const r = await runParity(device, { name: 'muon', options: { lr: 0.02 }, tensors: shaped(shapes, 3), steps: 2, checkAt: [2], grad: gradient, tolerance: PARITY_TOLERANCE });
      worst.maxAbs = Math.max(worst.maxAbs, r.maxAbs);
      r.gpu.destroy();
      r.params.destroy();
      expect(r.failures).toEqual([]);
    });
  });

  test('over a 2 KiB scratch budget the matrices go in batches (130 × 70 alone over it): the twin still, bit for bit', async () => {
    await withDevice(async (device) => {
      const tensors = shaped(SHAPES, 7);
      const r = await runParity(device, { name: 'muon_batched', options: MUON_ROWS[4]!, tensors, steps: 2, checkAt: [1, 2], grad: gradient, tolerance: PARITY_TOLERANCE });
      const layout = r.params.layout;
      const batches = planOf(layout, [], { tilings: nsTilingsFor(device.limits), budgetBytes: BATCH_BUDGET, bindingBytes: 2 ** 27, maxDim: 65535 }, () => {
        throw new Error('unplannable');
      }).batches;
      worst.maxAbs = Math.max(worst.maxAbs, r.maxAbs);
      r.gpu.destroy();
      r.params.destroy();
      expect(batches.length).toBeGreaterThan(3);
      expect(r.failures).toEqual([]);
    });
  });

  test("nsPrecision 'bf16': every shape in one set, the GPU's bfloat16 roundings are the twin's, bit for bit", async () => {
    await withDevice(async (device) => {
      const r = await runParity(device, { name: 'muon', options: { ...MUON_ROWS[1]!, nsPrecision: 'bf16' }, tensors: shaped(SHAPES, 9), steps: 2, checkAt: [1, 2], grad: gradient, tolerance: PARITY_TOLERANCE });
      worst.maxAbs = Math.max(worst.maxAbs, r.maxAbs);
      r.gpu.destroy();
      r.params.destroy();
      expect(r.failures).toEqual([]);
    });
  });

  test('long, thin matrices (split-K: X·Xᵀ summed per chunk of 1024 columns across workgroups, the chunks added in order), f32 and bf16, one batch and many: the twin', async () => {
    await withDevice(async (device) => {
      // 1 × 3000 and 3000 × 1 (3 chunks), 16 × 1025 (2), 1100 × 20 (m = 20: three 16² tiles per chunk), 33 × 1030 (m > 32: not split), 5 × 7.
      const shapes = [[1, 3000], [3000, 1], [16, 1025], [1100, 20], [33, 1030], [5, 7]];
      for (const [name, options] of [['muon', { lr: 0.02, nsSteps: 2 }], ['muon', { lr: 0.02, nsSteps: 2, nsPrecision: 'bf16' }], ['muon_batched', { lr: 0.02, nsSteps: 2 }]] as const) {
        const r = await runParity(device, { name, options, tensors: shaped(shapes, 41), steps: 2, checkAt: [1, 2], grad: gradient, tolerance: PARITY_TOLERANCE });
        worst.maxAbs = Math.max(worst.maxAbs, r.maxAbs);
        r.gpu.destroy();
        r.params.destroy();
        expect(r.failures, `${name} ${JSON.stringify(options)}`).toEqual([]);
      }
    });
  });

  test("newtonSchulzPassWith({ subgroups: true }): the subgroup variant on this suite's device (it has 'subgroups' where the adapter offers them), f32, bf16 and long, thin matrices; the workgroup-memory loop on a device without: all the twin", async () => {
    await withDevice(async (device) => {
      const adapter = (await navigator.gpu.requestAdapter())!;
      expect(device.features.has('subgroups')).toBe(adapter.features.has('subgroups'));
      const plain = await adapter.requestDevice({ label: 'test:without-subgroups' });
      try {
        expect(plain.features.has('subgroups')).toBe(false);
        const cases = [
          [device, MUON_ROWS[1]!, SHAPES],
          [device, { ...MUON_ROWS[4]!, nsPrecision: 'bf16' }, SHAPES],
          [device, { lr: 0.02, nsSteps: 2 }, [[1, 3000], [1100, 20], [64, 96], [33, 7]]],
          [plain, MUON_ROWS[1]!, SHAPES],
        ] as const;
        for (const [on, options, shapes] of cases) {
          const r = await runParity(on, { name: 'muon_subgroups', options, tensors: shaped(shapes, 7), steps: 2, checkAt: [1, 2], grad: gradient, tolerance: PARITY_TOLERANCE });
          worst.maxAbs = Math.max(worst.maxAbs, r.maxAbs);
          r.gpu.destroy();
          r.params.destroy();
          expect(r.failures, `${on.label} ${JSON.stringify(options)}`).toEqual([]);
        }
      } finally {
        plain.destroy();
      }
    });
  });

  test('one large matrix (1024 × 256: 4 × 16 tiles of 64, transposed) and 2000 small ones', async () => {
    await withDevice(async (device) => {
      const large = await runParity(device, { name: 'muon', options: { lr: 0.02, nsSteps: 2 }, tensors: shaped([[1024, 256]], 19), steps: 1, checkAt: [1], grad: gradient, tolerance: PARITY_TOLERANCE });
      const small = await runParity(device, { name: 'muon', options: { lr: 0.02, nsSteps: 1 }, tensors: shaped(Array.from({ length: 2000 }, (_, i) => [1 + (i % 3), 2 + (i % 2)]), 29), steps: 1, checkAt: [1], grad: gradient, tolerance: PARITY_TOLERANCE });
      for (const r of [large, small]) {
        worst.maxAbs = Math.max(worst.maxAbs, r.maxAbs);
        r.gpu.destroy();
        r.params.destroy();
      }
      expect(large.failures).toEqual([]);
      expect(small.failures).toEqual([]);
    });
  });

  test('a 48-matrix set of one tile class takes 23 dispatches per step (gather, norm, 5 × (3 products + advance), update); 3 more per step for each other class, 2 with long, thin matrices', async () => {
    await withDevice(async (device) => {
      const count = async (shapes: number[][]) => {
        const params = createParameterSet(device, shaped(shapes, 31));
        const opt = createOptimizer('muon' as never, params, {} as never);
        const encoder = device.createCommandEncoder({ label: 'test:dispatches' });
        const begin = encoder.beginComputePass.bind(encoder);
        let dispatches = 0;
        encoder.beginComputePass = (d) => {
          const pass = begin(d);
          const dispatch = pass.dispatchWorkgroups.bind(pass);
          pass.dispatchWorkgroups = (...args: Parameters<GPUComputePassEncoder['dispatchWorkgroups']>) => {
            dispatches++;
            dispatch(...args);
          };
          return pass;
        };
        opt.step(encoder);
        device.queue.submit([encoder.finish()]);
        opt.destroy();
        params.destroy();
        return dispatches;
      };
      expect(await count(Array.from({ length: 48 }, (_, i) => [8 + (i % 8), 12]))).toBe(23);
      expect(await count(Array.from({ length: 48 }, (_, i) => (i < 24 ? [8, 12] : [24, 40])))).toBe(23 + 5 * 3);
      // A long, thin matrix among them (1 × 2000, split-K): the split Gram product and its reduction, 2 more per step.
      expect(await count(Array.from({ length: 48 }, (_, i) => (i === 5 ? [1, 2000] : [8 + (i % 8), 12])))).toBe(23 + 5 * 2);
    });
  });

  test('three steps recorded into one encoder', async () => {
    await withDevice(async (device) => {
      const tensors = shaped([[33, 7], [5, 40], [6, 6]], 11);
      const grads = [1, 2, 3].map((s) => tensors.map((t, i) => gradient(s, i, t.data.length)));
      const { failures, gpu, params } = await oneEncoderParity(device, 'muon', MUON_ROWS[1]!, tensors, grads);
      gpu.destroy();
      params.destroy();
      expect(failures).toEqual([]);
    });
  });

  test('split bindings and 2-D dispatches equal the whole set and the twin', async () => {
    await withDevice(async (device) => {
      await expectSplitEqualsWhole(device, { name: 'muon', options: MUON_ROWS[4]!, tensors: shaped([[130, 70], [40, 120], [9, 9]], 5), steps: 2, checkAt: [2], grad: gradient, tolerance: PARITY_TOLERANCE });
    });
  });

  test.each(['f32', 'bf16'] as const)('with AdamW beside it (%s), split bindings: exp_avg_sq packed over AdamW\'s tensors, bound per segment, equals the whole set and the twin', async (stateFormat) => {
    await withDevice(async (device) => {
      const tensors = [...shaped([[130, 70], [40, 120], [9, 9]], 7), ...[[3000], [100], [5]].map((shape, i) => ({ name: `v${i}`, shape, data: randomArray(shape[0]!, rng(80 + i)) }))];
      const options = { ...MUON_ROWS[4]!, adamw: { lr: 0.01 }, adamwTensors: [tensors[1]!.name], stateFormat };
      await expectSplitEqualsWhole(device, { name: 'muon', options, tensors, steps: 2, checkAt: [2], grad: gradient, tolerance: PARITY_TOLERANCE });
    });
  });

  test('training features: two groups (lr, eps, adjustLrFn), clipping, loss scaling with a skipped step, accumulation, a schedule', async () => {
    await withDevice(async (device) => {
      const tensors = shaped([[33, 7], [5, 40], [6, 6], [2, 3, 4]], 13);
      const options = {
        lr: 0.02,
        lrSchedule: cosineWithWarmup({ warmupSteps: 2, totalSteps: 10 }),
        gradClipping: { maxNorm: 1 },
        lossScaling: { initScale: 4 },
        accumulation: { steps: 2 },
        groups: [{ tensors: [tensors[1]!.name, tensors[3]!.name], lr: 0.05, eps: 0.5, adjustLrFn: 'match_rms_adamw' }],
      };
      // Step 3 brings an infinite gradient: the loss scaler skips that update.
      const grad = (step: number, i: number, length: number) => {
        const g = randomArray(length, rng(step * 100 + i), 4);
        if (step === 3 && i === 0) g[5] = Infinity;
        return g;
      };
      const r = await runParity(device, { name: 'muon', options, tensors, steps: 8, checkAt: [2, 4, 8], grad, tolerance: PARITY_TOLERANCE });
      worst.maxAbs = Math.max(worst.maxAbs, r.maxAbs);
      r.gpu.destroy();
      r.params.destroy();
      expect(r.failures).toEqual([]);
    });
  });

  test('with AdamW beside it (adamw, adamwTensors): vectors, a named matrix, groups, a schedule over both lrs, clipping, loss scaling with a skipped update, accumulation, bf16 state, bit for bit against the twin', async () => {
    await withDevice(async (device) => {
      const tensors = [...shaped([[33, 7], [8, 5], [3, 2, 2]], 23), ...[[7], [1], [40]].map((shape, i) => ({ name: `v${i}`, shape, data: randomArray(shape[0]!, rng(60 + i)) }))];
      const options = {
        lr: 0.03,
        adamw: { lr: 0.01, betas: [0.8, 0.95], eps: 1e-3, weightDecay: 0.1 },
        adamwTensors: [tensors[1]!.name],
        lrSchedule: cosineWithWarmup({ warmupSteps: 2, totalSteps: 10 }),
        gradClipping: { maxNorm: 1 },
        lossScaling: { initScale: 4 },
        accumulation: { steps: 2 },
        groups: [{ tensors: [tensors[2]!.name, 'v1'], lr: 0.05, adamw: { lr: 0.002 } }],
      };
      const grad = (step: number, i: number, length: number) => {
        const g = randomArray(length, rng(step * 100 + i), 4);
        if (step === 3 && i === 4) g[0] = Infinity;
        return g;
      };
      for (const stateFormat of ['f32', 'bf16'] as const) {
        const r = await runParity(device, { name: 'muon', options: { ...options, stateFormat }, tensors, steps: 8, checkAt: [2, 4, 8], grad, tolerance: PARITY_TOLERANCE });
        worst.maxAbs = Math.max(worst.maxAbs, r.maxAbs);
        // momentum_buffer and exp_avg share one buffer over every element; exp_avg_sq packs AdamW's
        // four tensors only (the named matrix and the vectors: 64 elements each from a chunk
        // boundary, at most 64 more each to keep the place mod 128, the whole rounded to 128).
        const compact = compactLayout(r.params.layout, (i) => i >= 3 || i === 1).length;
        expect(compact).toBeGreaterThanOrEqual(4 * 64);
        expect(compact).toBeLessThanOrEqual(4 * 128 + 128);
        expect(r.gpu.stateBytes).toBe((r.params.layout.paddedLength + compact) * (stateFormat === 'f32' ? 4 : 2));
        r.gpu.destroy();
        r.params.destroy();
        expect(r.failures, stateFormat).toEqual([]);
      }
    });
  });

  test('step() creates no buffer, bind group, pipeline or shader, with or without an encoder; destroy() frees every buffer it made', async () => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, shaped([[33, 7], [6, 6]], 17));
      const buffers: GPUBuffer[] = [];
      const createBuffer = device.createBuffer;
      device.createBuffer = (d) => {
        const b = createBuffer.call(device, d);
        buffers.push(b);
        return b;
      };
      const opt = createOptimizer('muon' as never, params, { lr: 0.01 } as never);
      device.createBuffer = createBuffer;
      const created: string[] = [];
      const methods = ['createBuffer', 'createBindGroup', 'createBindGroupLayout', 'createPipelineLayout', 'createComputePipeline', 'createShaderModule'] as const;
      const originals = methods.map((m) => device[m]);
      methods.forEach((m, k) => {
        (device as any)[m] = (...args: unknown[]) => {
          created.push(m);
          return (originals[k] as (...a: unknown[]) => unknown).apply(device, args);
        };
      });
      try {
        for (let s = 0; s < 3; s++) opt.step();
        const encoder = device.createCommandEncoder({ label: 'test:no-create' });
        for (let s = 0; s < 3; s++) opt.step(encoder);
        device.queue.submit([encoder.finish()]);
      } finally {
        methods.forEach((m, k) => ((device as any)[m] = originals[k]));
      }
      expect(created).toEqual([]);
      const destroyed = new Set<GPUBuffer>();
      for (const b of buffers) {
        const destroy = b.destroy;
        b.destroy = () => (destroyed.add(b), destroy.call(b));
      }
      opt.destroy();
      expect(buffers.filter((b) => !destroyed.has(b)).map((b) => b.label)).toEqual([]);
      expect(buffers.map((b) => b.label)).toEqual(expect.arrayContaining([expect.stringMatching(/muonTable$/), expect.stringMatching(/muonScratch$/), expect.stringMatching(/muonSegment$/)]));
      params.destroy();
    });
  });

  test('a state dict (through JSON) restores the momentum: one more step on both gives the same bits', async () => {
    await withDevice(async (device) => {
      const tensors = shaped([[33, 7], [4, 3, 2, 2]], 23);
      const params = createParameterSet(device, tensors);
      const opt = createOptimizer('muon' as never, params, MUON_ROWS[1] as never);
      for (let s = 1; s <= 2; s++) {
        params.writeGrads(tensors.map((t, i) => gradient(s, i, t.data.length)));
        opt.step();
      }
      const sd = await opt.stateDict();
      expect(Object.keys(sd.state[0]!)).toEqual(['momentum_buffer']);
      const { restored, copy } = await expectRestoredTwin(device, 'muon', MUON_ROWS[1]!, params, opt, tensors.map((t, i) => gradient(3, i, t.data.length)));
      for (const x of [opt, restored, params, copy]) x.destroy();
    });
  });

  test('a vector is refused, naming the tensor, before anything is made', async () => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, [{ name: 'w', shape: [3, 2], data: new Float32Array(6) }, { name: 'bias', data: new Float32Array(2) }]);
      expect(() => createOptimizer('muon' as never, params, {} as never)).toThrow(/tensor "bias" of shape \[2\] is not a matrix/);
      params.destroy();
    });
  });
});

afterAll(() => {
  console.log(`muon parity: largest |gpu − twin| = ${worst.maxAbs}, largest relative = ${worst.maxRel}`);
});
