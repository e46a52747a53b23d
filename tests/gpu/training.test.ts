/**
 * Training features on the GPU against the CPU twin: clipping by value and by norm (global, per
 * group, inf-norm), loss scaling with non-finite skips, accumulation, schedules, and the same
 * guarantees as the plain step (one encoder = one by one, nothing created per step, state dicts).
 */
import { describe, expect, test } from 'vitest';
import { cosineWithWarmup, createOptimizer, createParameterSet, createReferenceOptimizer, constantLr, stepDecay } from '../../src/index.js';
import { getDefinition } from '../../src/optimizers/registry.js';
import { PARITY_TOLERANCE, REGISTERED } from '../helpers/cases.js';
import { namedTensors, randomArray, rng } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { compareWithReference, runParity, stageGradients } from '../helpers/parity.js';

const SIZES = [1, 3, 63, 65, 1000, 20_003];
const gradFor = (step: number, i: number, length: number) => randomArray(length, rng(step * 31 + i));

/** Relative agreement of norms: the GPU sums in f32 trees, the twin in float64. */
const NORM_RTOL = 1e-5;

describe('gradient clipping', () => {
  test.each([
    ['adam', { gradClipping: { maxValue: 0.5 } }],
    ['sgd', { lr: 0.1, momentum: 0.9, gradClipping: { maxNorm: 1 } }],
    ['adam', { gradClipping: { maxNorm: 5, normType: 'inf' } }],
    ['rmsprop', { gradClipping: { maxNorm: 2, perGroup: true }, groups: [{ tensors: ['t4_1000'], lr: 0.001 }] }],
    ['adamw', { gradClipping: { maxValue: 2, maxNorm: 3 }, groups: [{ tensors: ['t0_1', 't1_3'], weightDecay: 0 }] }],
  ] as const)('%s %j matches the reference; norms agree', async (name, options) => {
    await withDevice(async (device) => {
      const result = await runParity(device, {
        name, options, tensors: namedTensors(SIZES, 41), steps: 5, checkAt: [1, 5], grad: gradFor, tolerance: PARITY_TOLERANCE,
      });
      expect(result.failures).toEqual([]);
      const control = await result.gpu.readControl();
      const expected = result.ref.control!;
      expect(Math.abs(control.totalNorm - expected.totalNorm)).toBeLessThanOrEqual(NORM_RTOL * expected.totalNorm);
      control.groupNorms.forEach((n, g) => expect(Math.abs(n - expected.groupNorms[g]!)).toBeLessThanOrEqual(NORM_RTOL * expected.groupNorms[g]! + 1e-30));
      expect(await result.gpu.getLastGradNorm()).toBe(control.totalNorm);
      // Clipping really happened: the norm is well above the threshold for these gradients.
      expect(control.totalNorm).toBeGreaterThan(5);
      result.gpu.destroy();
      result.params.destroy();
    });
  });

  test('global norm of a 3M-element set agrees with a float64 sum (split into several bindings)', async () => {
    await withDevice(async (device) => {
      // 3·10⁶ elements over at least 4 bindings: splitting is exercised without 10⁸ elements
      // (which cost a busy 2-core CI machine minutes on SwiftShader).
      const n = 3_000_001;
      const grads = new Float32Array(n);
      const random = rng(5);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const g = Math.fround((random() - 0.5) * (i % 1000 === 0 ? 100 : 1));
        grads[i] = g;
        sum += g * g;
      }
      const params = createParameterSet(device, [{ name: 'w', data: new Float32Array(n) }], {
        limits: { maxStorageBufferBindingSize: Math.ceil(n / 4 / 4096) * 4096 * 4 },
      });
      expect(params.layout.segments.length).toBeGreaterThanOrEqual(4);
      const opt = createOptimizer('sgd', params, { lr: 0, computeGradNorm: true });
      params.writeGrads([grads]);
      opt.step();
      const norm = await opt.getLastGradNorm();
      const exact = Math.sqrt(sum);
      console.log(`norm over ${n} elements: gpu ${norm}, float64 ${exact}, relative error ${Math.abs(norm - exact) / exact}`);
      expect(Math.abs(norm - exact) / exact).toBeLessThan(1e-5);
      opt.destroy();
      params.destroy();
    });
  });
});

describe('loss scaling and non-finite skips', () => {
  const SCALE = 1024;
  test.each(REGISTERED)('$name: scaled gradients, an Inf at step 3 and a NaN at step 6 are skipped', async ({ name, rich }) => {
    await withDevice(async (device) => {
      const options = { ...rich, lossScaling: { initScale: SCALE, growthInterval: 2 } };
      const bad = new Map([[3, Infinity], [6, NaN]]);
      const result = await runParity(device, {
        name, options, tensors: namedTensors(SIZES, 43), steps: 8, checkAt: [2, 3, 4, 6, 8], tolerance: PARITY_TOLERANCE,
        grad: (step, i, length) => {
          const g = gradFor(step, i, length).map((x) => x * SCALE);
          if (bad.has(step) && i === 4) g[17] = bad.get(step)!;
          return g;
        },
      });
      expect(result.failures).toEqual([]);
      const sd = await result.gpu.stateDict();
      expect(sd.step).toBe(6); // 8 steps, 2 skipped
      expect(result.gpu.stepCount).toBe(8);
      expect(sd.scaler).toEqual(result.ref.stateDict().scaler);
      result.gpu.destroy();
      result.params.destroy();
    });
  });

  test('a skipped step is as if it never happened (adam bias corrections use the steps taken)', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors(SIZES, 47);
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer('adam', params, { lr: 0.01, skipNonFinite: true });
      const plain = createReferenceOptimizer('adam', tensors.map((t) => ({ name: t.name, data: t.data.slice() })), { lr: 0.01 });
      let before: Float32Array[] = [];
      for (let s = 1; s <= 5; s++) {
        const grads = tensors.map((t, i) => gradFor(s, i, t.data.length));
        if (s === 3) {
          before = await params.read();
          grads[2]![0] = -Infinity;
        } else {
          plain.step(grads);
        }
        params.writeGrads(grads);
        gpu.step();
        if (s === 3) {
          const after = await params.read();
          after.forEach((p, i) => expect(Array.from(p)).toEqual(Array.from(before[i]!)));
          expect((await gpu.readControl()).skipped).toBe(true);
        }
      }
      const r = await compareWithReference(gpu, params, plain, PARITY_TOLERANCE, 'skip = never happened');
      expect(r.failures).toEqual([]);
      gpu.destroy();
      params.destroy();
    });
  });

  test('the scale backs off on overflow and grows after growthInterval clean steps', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors([10], 49);
      const params = createParameterSet(device, tensors);
      const opt = createOptimizer('sgd', params, { lr: 0.1, lossScaling: { initScale: 256, growthInterval: 3 } });
      const scales: number[] = [];
      for (const g of [1, Infinity, 1, 1, 1, NaN, 1]) {
        params.writeGrads([new Float32Array(10).fill(g)]);
        opt.step();
        scales.push(await opt.getLossScale());
      }
      expect(scales).toEqual([256, 128, 128, 128, 256, 128, 128]);
      // lossScale names where a backward pass finds the scale on the GPU.
      const { buffer, offset } = opt.lossScale!;
      const copy = device.createBuffer({ label: 'test:lossScale', size: 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
      const encoder = device.createCommandEncoder({ label: 'test:lossScale' });
      encoder.copyBufferToBuffer(buffer, offset, copy, 0, 4);
      device.queue.submit([encoder.finish()]);
      await copy.mapAsync(GPUMapMode.READ);
      expect(new Float32Array(copy.getMappedRange())[0]).toBe(128);
      copy.destroy();
      opt.destroy();
      params.destroy();
    });
  });
});

describe('gradient accumulation', () => {
  test.each([
    ['adam', { accumulation: { steps: 3 } }],
    ['sgd', { lr: 0.1, momentum: 0.9, accumulation: { steps: 2, average: true } }],
    ['adam', { accumulation: { steps: 4 }, gradClipping: { maxNorm: 1 }, lossScaling: { initScale: 8 } }],
  ] as const)('%s %j matches the reference; parameters move only every k-th call', async (name, options) => {
    await withDevice(async (device) => {
      const k = options.accumulation.steps;
      const tensors = namedTensors(SIZES, 53);
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer(name as 'adam', params, options as never);
      const ref = createReferenceOptimizer(name as 'adam', tensors.map((t) => ({ name: t.name, data: t.data.slice() })), options as never);
      for (let call = 1; call <= 3 * k; call++) {
        const grads = tensors.map((t, i) => gradFor(call, i, t.data.length));
        const before = call % k === 1 ? await params.read() : undefined;
        params.writeGrads(grads);
        gpu.step();
        ref.step(grads);
        if (before && k > 1) {
          const after = await params.read();
          after.forEach((p, i) => expect(Array.from(p)).toEqual(Array.from(before[i]!)));
        }
      }
      expect(gpu.stepCount).toBe(3);
      expect(gpu.microStepCount).toBe(3 * k);
      const r = await compareWithReference(gpu, params, ref, PARITY_TOLERANCE, 'accumulation');
      expect(r.failures).toEqual([]);
      gpu.destroy();
      params.destroy();
    });
  });

  test('summing k micro-batches equals one step on the summed gradient (bitwise)', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors(SIZES, 59);
      const pa = createParameterSet(device, tensors);
      const pb = createParameterSet(device, tensors);
      const a = createOptimizer('adam', pa, { accumulation: { steps: 3 } });
      const b = createOptimizer('adam', pb);
      const micro = [1, 2, 3].map((s) => tensors.map((t, i) => gradFor(s, i, t.data.length)));
      for (const g of micro) {
        pa.writeGrads(g);
        a.step();
      }
      pb.writeGrads(tensors.map((_, i) => micro[0]![i]!.map((x, j) => Math.fround(Math.fround(x + micro[1]![i]![j]!) + micro[2]![i]![j]!))));
      b.step();
      const [ra, rb] = [await pa.read(), await pb.read()];
      ra.forEach((p, i) => expect(Array.from(p)).toEqual(Array.from(rb[i]!)));
      for (const x of [a, b, pa, pb]) x.destroy();
    });
  });
});

describe('learning-rate schedules', () => {
  test('a constant schedule is bit-identical to a fixed lr', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors(SIZES, 61);
      const pa = createParameterSet(device, tensors);
      const pb = createParameterSet(device, tensors);
      const a = createOptimizer('adamw', pa, { lr: 0.003 });
      const b = createOptimizer('adamw', pb, { lr: 0.003, lrSchedule: constantLr() });
      for (let s = 1; s <= 4; s++) {
        const g = tensors.map((t, i) => gradFor(s, i, t.data.length));
        pa.writeGrads(g);
        pb.writeGrads(g);
        a.step();
        b.step();
      }
      const [ra, rb] = [await pa.read(), await pb.read()];
      ra.forEach((p, i) => expect(Array.from(p)).toEqual(Array.from(rb[i]!)));
      for (const x of [a, b, pa, pb]) x.destroy();
    });
  });

  test.each([
    ['adam', cosineWithWarmup({ warmupSteps: 3, totalSteps: 8, minLr: 1e-4 })],
    ['sgd', stepDecay({ stepSize: 2, gamma: 0.5 })],
  ] as const)('%s: every step recorded into one encoder sees its own scheduled lr', async (name, schedule) => {
    await withDevice(async (device) => {
      const tensors = namedTensors([5, 300], 67);
      const options = { lr: 0.05, lrSchedule: schedule, ...(name === 'sgd' ? { momentum: 0.9 } : {}) };
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer(name as 'adam', params, options as never);
      const ref = createReferenceOptimizer(name as 'adam', tensors.map((t) => ({ name: t.name, data: t.data.slice() })), options as never);
      const grads = [1, 2, 3, 4, 5, 6, 7, 8].map((s) => tensors.map((t, i) => gradFor(s, i, t.data.length)));
      const staged = stageGradients(device, params, grads);
      const encoder = device.createCommandEncoder({ label: 'test:schedule' });
      grads.forEach((g, s) => {
        staged.record(encoder, s);
        gpu.step(encoder);
        ref.step(g);
      });
      device.queue.submit([encoder.finish()]);
      const r = await compareWithReference(gpu, params, ref, PARITY_TOLERANCE, 'schedule in one encoder');
      expect(r.failures).toEqual([]);
      staged.destroy();
      gpu.destroy();
      params.destroy();
    });
  });

  test('a schedule returning a bad lr throws and changes nothing', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors([5], 71);
      const params = createParameterSet(device, tensors);
      const opt = createOptimizer('adam', params, { lrSchedule: (t, lr) => (t === 1 ? NaN : lr) });
      params.writeGrads([gradFor(1, 0, 5)]);
      opt.step();
      const before = await params.read();
      expect(() => opt.step()).toThrow(/schedule returned NaN at step 1/);
      expect(opt.stepCount).toBe(1);
      expect(Array.from((await params.read())[0]!)).toEqual(Array.from(before[0]!));
      opt.setLrSchedule(undefined);
      opt.step();
      expect(opt.stepCount).toBe(2);
      opt.destroy();
      params.destroy();
    });
  });
});

describe('the control path keeps the step guarantees', () => {
  const options = { lossScaling: { initScale: 64 }, gradClipping: { maxNorm: 1 }, accumulation: { steps: 2 } };
  test('one encoder equals one-by-one; no GPU object created per step; state dict round trip', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors(SIZES, 73);
      const grads = [1, 2, 3, 4, 5, 6].map((s) => tensors.map((t, i) => gradFor(s, i, t.data.length).map((x) => x * 64)));
      // One by one.
      const pa = createParameterSet(device, tensors);
      const a = createOptimizer('adam', pa, options);
      for (const g of grads) {
        pa.writeGrads(g);
        a.step();
      }
      // One encoder, counting object creation.
      const pb = createParameterSet(device, tensors);
      const b = createOptimizer('adam', pb, options);
      const staged = stageGradients(device, pb, grads);
      const created: string[] = [];
      const methods = ['createBuffer', 'createBindGroup', 'createComputePipeline', 'createShaderModule'] as const;
      const originals = methods.map((m) => device[m]);
      methods.forEach((m, k) => ((device as any)[m] = (...args: unknown[]) => (created.push(m), (originals[k] as any).apply(device, args))));
      const encoder = device.createCommandEncoder({ label: 'test:control-one-encoder' });
      try {
        grads.forEach((_, s) => {
          staged.record(encoder, s);
          b.step(encoder);
        });
      } finally {
        methods.forEach((m, k) => ((device as any)[m] = originals[k]));
      }
      device.queue.submit([encoder.finish()]);
      expect(created).toEqual([]);
      const sa = await a.stateDict();
      const sb = await b.stateDict();
      expect(sb.step).toBe(3);
      expect(sb).toEqual(sa);
      expect(await pb.read()).toEqual(await pa.read());
      // Save, restore into a fresh optimizer, continue: equals the reference that never stopped.
      const ref = createReferenceOptimizer('adam', tensors.map((t) => ({ name: t.name, data: t.data.slice() })), options);
      for (const g of grads) ref.step(g);
      const pc = createParameterSet(device, tensors.map((t, i) => ({ name: t.name, data: ref.params[i]!.slice() })));
      const c = createOptimizer('adam', pc, options);
      c.loadStateDict(ref.stateDict());
      const more = [7, 8].map((s) => tensors.map((t, i) => gradFor(s, i, t.data.length).map((x) => x * 64)));
      for (const g of more) {
        pc.writeGrads(g);
        c.step();
        ref.step(g);
      }
      const r = await compareWithReference(c, pc, ref, PARITY_TOLERANCE, 'control state dict');
      expect(r.failures).toEqual([]);
      staged.destroy();
      for (const x of [a, b, c, pa, pb, pc]) x.destroy();
    });
  });

  test('bad training options are refused', async () => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, namedTensors([3], 79));
      expect(() => createOptimizer('adam', params, { gradClipping: { maxNorm: -1 } })).toThrow(/maxNorm must be a finite number > 0/);
      expect(() => createOptimizer('adam', params, { gradClipping: { max: 1 } as never })).toThrow(/unknown gradClipping option "max"/);
      expect(() => createOptimizer('adam', params, { gradClipping: { maxNorm: 1, normType: 1 as never } })).toThrow(/normType/);
      expect(() => createOptimizer('adam', params, { lossScaling: { backoffFactor: 2 } })).toThrow(/backoffFactor must be < 1/);
      expect(() => createOptimizer('adam', params, { accumulation: { steps: 0 } })).toThrow(/accumulation.steps/);
      expect(() => createOptimizer('adam', params, { lrSchedule: 0.1 as never })).toThrow(/lrSchedule must be a function/);
      const opt = createOptimizer('adam', params);
      await expect(opt.getLastGradNorm()).rejects.toThrow(/only with gradClipping/);
      await expect(opt.getLossScale()).rejects.toThrow(/no lossScaling/);
      opt.destroy();
      params.destroy();
    });
  });
});

describe('every registered optimizer with every training feature at once', () => {
  // Loss scaling with a skipped step, clipping by value (and by a norm that never bites: norms are
  // not bit-exact, their coefficient would be), accumulation over 2 micro-batches and an lr schedule
  // (where the optimizer takes one): bit-exact against the twin.
  test.each(REGISTERED)('$name', async ({ name, rich }) => {
    await withDevice(async (device) => {
      const schedule = getDefinition(name).noLrSchedule ? {} : { lrSchedule: stepDecay({ stepSize: 2, gamma: 0.5 }) };
      const options = { ...rich, ...schedule, lossScaling: { initScale: 16, growthInterval: 3 }, gradClipping: { maxValue: 8, maxNorm: 1e9 }, accumulation: { steps: 2 } };
      const result = await runParity(device, {
        name, options, tensors: namedTensors(SIZES, 83), steps: 12, checkAt: [6, 12], tolerance: { atol: 0, rtol: 0 },
        grad: (step, i, length) => {
          const g = gradFor(step, i, length).map((x) => x * 16);
          if (step === 5 && i === 1) g[2] = Infinity; // its update (calls 5 + 6) is skipped
          return g;
        },
      });
      expect(result.failures).toEqual([]);
      const sd = await result.gpu.stateDict();
      expect([sd.step, sd.stepCalls]).toEqual([5, 6]);
      result.gpu.destroy();
      result.params.destroy();
    });
  });
});
