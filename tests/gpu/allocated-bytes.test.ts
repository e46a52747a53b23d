/**
 * `Optimizer.allocatedBytes` counts every GPU buffer the optimizer makes: the test wraps
 * device.createBuffer while the optimizer is created and steps (the scalar ring and the step table
 * grow during steps) and compares the sizes of what was made with the figure. And q8 Adam keeps at
 * most 2.1 bytes per parameter in all on one 16M tensor and on the benchmark's transformer mix,
 * q4 Adam at most 1.1 on one 16M tensor.
 */
import { describe, expect, test } from 'vitest';
import { createOptimizer, createParameterSet, type Optimizer } from '../../src/index.js';
import { namedTensors, randomArray, rng } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { transformerMix } from '../../bench/workloads.js';
import { compactLayout } from '../../src/core/compact-layout.js';

/** Sizes of the buffers `device.createBuffer` makes while `body` runs. */
function madeBuffers<T>(device: GPUDevice, body: () => T): { value: T; bytes: number; labels: string[] } {
  const made: GPUBuffer[] = [];
  const original = device.createBuffer;
  (device as { createBuffer: GPUDevice['createBuffer'] }).createBuffer = (descriptor) => {
    const buffer = original.call(device, descriptor);
    made.push(buffer);
    return buffer;
  };
  try {
    const value = body();
    return { value, bytes: made.reduce((n, b) => n + b.size, 0), labels: made.map((b) => `${b.label} ${b.size}`) };
  } finally {
    delete (device as { createBuffer?: unknown }).createBuffer;
  }
}

const CASES: readonly { name: string; options: object }[] = [
  { name: 'adam', options: { stateFormat: 'q8', quantization: { minQuantizedElements: 1000 } } },
  { name: 'adam', options: { stateFormat: 'q8', gradClipping: { maxNorm: 1 }, lossScaling: { initScale: 64 }, accumulation: { steps: 2 }, groups: [{ tensors: ['t1_100'], lr: 0.01 }] } },
  { name: 'adam', options: { stateFormat: 'q8', quantization: { minQuantizedElements: 1000 }, groups: [{ tensors: ['t1_100'], weightDecay: 0.1 }] } },
  { name: 'adam', options: { stateFormat: 'bf16', stochasticRounding: { seed: 3 }, groups: [{ tensors: ['t1_100'], lr: 0.01 }] } },
  { name: 'adam', options: { cautious: true } },
  { name: 'lamb', options: { lr: 0.01, stateFormat: 'q8', quantization: { minQuantizedElements: 1000 }, gradClipping: { maxValue: 1 } } },
  { name: 'adamw', options: { stateFormat: 'q4', quantization: { minQuantizedElements: 1000 }, gradClipping: { maxNorm: 1 }, groups: [{ tensors: ['t1_100'], lr: 0.01 }] } },
  { name: 'lamb', options: { lr: 0.01, stateFormat: 'q4', quantization: { minQuantizedElements: 1000 } } },
  { name: 'lars', options: { lr: 0.1, stateFormat: 'q8', quantization: { blockSize: 4096, minQuantizedElements: 0 } } },
  { name: 'adafactor', options: {} },
  { name: 'sgd', options: { lr: 0.1, momentum: 0.9 } },
  // The chunk table in the sums' scratch and its per-segment uniform.
  { name: 'prodigy', options: { groups: [{ tensors: ['t1_100'], weightDecay: 0.1 }] } },
];

describe('allocatedBytes: every buffer the optimizer holds', () => {
  test.each(CASES)('$name $options: the sizes of the buffers made, steps in one encoder (the ring grows) included', async ({ name, options }) => {
    await withDevice(async (device) => {
      const tensors = namedTensors([5000, 100, 64 * 48], 5);
      const params = createParameterSet(device, tensors);
      const created = madeBuffers(device, () => createOptimizer(name as 'adam', params, { ...options, stepsInFlight: 2 } as object));
      const opt: Optimizer<any> = created.value;
      expect(opt.allocatedBytes, created.labels.join(', ')).toBe(created.bytes);
      expect(opt.allocatedBytes).toBeGreaterThanOrEqual(opt.stateBytes);
      // Six steps into one unfinished encoder (three updates under accumulation): the scalar ring of 2 slots grows.
      const stepped = madeBuffers(device, () => {
        const encoder = device.createCommandEncoder();
        for (let k = 0; k < 6; k++) {
          tensors.forEach((t, i) => device.queue.writeBuffer(params.gradBuffer, params.layout.tensors[i]!.offset * 4, Float32Array.from(randomArray(t.data.length, rng(k * 10 + i)))));
          opt.step(encoder);
        }
        device.queue.submit([encoder.finish()]);
      });
      expect(stepped.bytes).toBeGreaterThan(0);
      expect(opt.allocatedBytes, [...created.labels, ...stepped.labels].join(', ')).toBe(created.bytes + stepped.bytes);
      await device.queue.onSubmittedWorkDone();
      opt.destroy();
      params.destroy();
    });
  });

  test.each(['f32', 'bf16'] as const)('Muon with AdamW beside it (%s): momentum_buffer and exp_avg share one buffer, exp_avg_sq packs AdamW\'s tensors only (4 bytes per Muon element, 8 per AdamW element in f32), every buffer counted', async (stateFormat) => {
    await withDevice(async (device) => {
      // Two Muon matrices, a matrix AdamW takes by name, two vectors.
      const shapes = [[64, 48], [33, 7], [20, 10], [100], [5000]];
      const tensors = shapes.map((shape, i) => ({ name: `m${i}`, shape, data: randomArray(shape.reduce((a, b) => a * b, 1), rng(i)) }));
      const params = createParameterSet(device, tensors);
      const options = { adamw: {}, adamwTensors: ['m2'], stateFormat, gradClipping: { maxNorm: 1 } };
      const created = madeBuffers(device, () => createOptimizer('muon', params, options));
      const opt = created.value;
      const bytes = stateFormat === 'f32' ? 4 : 2;
      // One buffer per slot but exp_avg, which is stored in momentum_buffer's (a tensor holds one or the other).
      const slotBuffers = created.labels.flatMap((l) => /:(momentum_buffer|exp_avg|exp_avg_sq)(?::bf16)?$/.exec(l.split(' ')[0]!)?.slice(1, 2) ?? []);
      expect(slotBuffers.sort(), created.labels.join(', ')).toEqual(['exp_avg_sq', 'momentum_buffer']);
      // momentum_buffer over every element; exp_avg_sq over AdamW's tensors only (m2 and the vectors):
      // 4 bytes per Muon element and 8 per AdamW element in f32, plus padding (chunks, the place mod
      // 128 of each AdamW tensor, the whole rounded to 128).
      const adamwElements = 20 * 10 + 100 + 5000;
      const compact = compactLayout(params.layout, (i) => i >= 2).length;
      expect(opt.stateBytes).toBe(bytes * (params.layout.paddedLength + compact));
      const elements = tensors.reduce((n, t) => n + t.data.length, 0);
      const padding = params.layout.paddedLength - elements + 3 * 128 + 128;
      expect(opt.stateBytes).toBeGreaterThanOrEqual(bytes * (elements + adamwElements));
      expect(opt.stateBytes).toBeLessThanOrEqual(bytes * (elements + adamwElements + padding));
      const stepped = madeBuffers(device, () => {
        const encoder = device.createCommandEncoder();
        for (let k = 0; k < 3; k++) {
          tensors.forEach((t, i) => device.queue.writeBuffer(params.gradBuffer, params.layout.tensors[i]!.offset * 4, Float32Array.from(randomArray(t.data.length, rng(k * 10 + i)))));
          opt.step(encoder);
        }
        device.queue.submit([encoder.finish()]);
      });
      expect(opt.allocatedBytes, [...created.labels, ...stepped.labels].join(', ')).toBe(created.bytes + stepped.bytes);
      console.log(`Muon + AdamW (${stateFormat}): state ${(opt.stateBytes / elements).toFixed(3)} B/param, in all ${(opt.allocatedBytes / elements).toFixed(3)}`);
      await device.queue.onSubmittedWorkDone();
      opt.destroy();
      params.destroy();
    });
  });

  test.each([
    { label: '1 × 16M', sizes: [1 << 24] },
    { label: 'transformer d256 L4', sizes: transformerMix() },
  ])('q8 Adam on $label: at most 2.1 bytes per parameter counting every buffer, with a group for the small tensors', async ({ label, sizes }) => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, sizes.map((n, i) => ({ name: `t${i}`, data: new Float32Array(n) })));
      const elements = sizes.reduce((n, s) => n + s, 0);
      // No weight decay on the vectors, as usual: two groups, and no chunk → group table (q8's table carries the group).
      const small = sizes.flatMap((n, i) => (n < 4096 ? [`t${i}`] : []));
      const options = { stateFormat: 'q8', weightDecay: 0.01, ...(small.length ? { groups: [{ tensors: small, weightDecay: 0 }] } : {}) } as const;
      const created = madeBuffers(device, () => [createOptimizer('adam', params, options), createOptimizer('adam', params)] as const);
      expect(created.labels.filter((l) => l.includes('chunkGroups'))).toEqual([]);
      const [q8, f32] = created.value;
      expect(q8.allocatedBytes + f32.allocatedBytes).toBe(created.bytes);
      console.log(`Adam on ${label}, bytes per parameter in all (state only): q8 ${(q8.allocatedBytes / elements).toFixed(4)} (${(q8.stateBytes / elements).toFixed(4)}), f32 ${(f32.allocatedBytes / elements).toFixed(4)} (${(f32.stateBytes / elements).toFixed(4)})`);
      expect(q8.allocatedBytes / elements).toBeLessThanOrEqual(2.1);
      q8.destroy();
      f32.destroy();
      params.destroy();
    });
  });

  // With accumulation, the per-tensor accumulation's ring of marks too; a micro-batch and the update make none.
  test.each([
    ['adam', {}],
    ['lamb', {}],
    ['adam', { accumulation: { steps: 2 } }],
  ] as const)("PyTorch's step rule, %s %j: the per-tensor ring, chunk table and passes, made at the set's first zeroGrad(), are counted; the step makes none", async (name, extra) => {
    await withDevice(async (device) => {
      const tensors = namedTensors([5000, 100], 5);
      const params = createParameterSet(device, tensors);
      const created = madeBuffers(device, () => createOptimizer(name as 'adam', params, { lr: 0.01, stepsInFlight: 2, ...extra }));
      const opt = created.value;
      params.writeGrads(tensors.map((t, i) => randomArray(t.data.length, rng(i))));
      const cleared = madeBuffers(device, () => params.zeroGrad());
      params.markGradients([tensors[0]!.name]);
      const calls = 'accumulation' in extra ? extra.accumulation.steps : 1;
      const stepped = madeBuffers(device, () => {
        for (let c = 0; c < calls; c++) opt.step();
      });
      expect(opt.stepCount).toBe(1);
      expect(cleared.labels.some((l) => l.includes('perTensor'))).toBe(true);
      expect(cleared.labels.some((l) => l.includes('perTensor:marks')), cleared.labels.join(', ')).toBe(calls > 1);
      expect(stepped.labels).toEqual([]);
      expect(opt.allocatedBytes, [...created.labels, ...cleared.labels].join(', ')).toBe(created.bytes + cleared.bytes);
      await device.queue.onSubmittedWorkDone();
      opt.destroy();
      params.destroy();
    });
  });

  test('q4 Adam on 1 × 16M: at most 1.1 bytes per parameter counting every buffer', async () => {
    await withDevice(async (device) => {
      const elements = 1 << 24;
      const params = createParameterSet(device, [{ name: 't0', data: new Float32Array(elements) }]);
      const created = madeBuffers(device, () => createOptimizer('adam', params, { stateFormat: 'q4' }));
      const q4 = created.value;
      expect(q4.allocatedBytes, created.labels.join(', ')).toBe(created.bytes);
      console.log(`q4 Adam on 1 × 16M, bytes per parameter in all: ${(q4.allocatedBytes / elements).toFixed(4)} (state only ${(q4.stateBytes / elements).toFixed(4)})`);
      expect(q4.allocatedBytes / elements).toBeLessThanOrEqual(1.1);
      q4.destroy();
      params.destroy();
    });
  });
});
