/**
 * Muon under PyTorch's step rule (torch.optim.Muon's `_init_group` passes a parameter whose grad is
 * None by: no momentum, no weight decay, no update): a matrix without gradient keeps its parameters
 * and momentum_buffer bit for bit, while the Newton–Schulz pass, built again for the per-tensor
 * kernel, orthogonalizes the others exactly as the plain build does (GPU = twin at 0 tolerance);
 * AdamW's tensors beside Muon step at their own step counts (torch.optim.AdamW's state['step']).
 */
import { describe, expect, test } from 'vitest';
import { cosineWithWarmup, createOptimizer, createParameterSet, createReferenceOptimizer, registerOptimizer, type Optimizer, type ParameterSet } from '../../src/index.js';
import { muon } from '../../src/optimizers/muon/definition.js';
import { newtonSchulzPassWith } from '../../src/passes/newton-schulz.js';
import { randomArray, rng } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { compareWithReference, stageGradients } from '../helpers/parity.js';

// Muon with a 2 KiB scratch budget: the sets below go in many batches.
registerOptimizer({ ...muon, name: 'muon_step_rule_batched', passes: [newtonSchulzPassWith({ scratchBudgetBytes: 2048 })] });

// A 1 × n, a tall matrix (transposed in X), a square one, a wide one and a 4-D kernel (3 × 8).
const SHAPES = [[1, 40], [37, 5], [16, 16], [7, 33], [3, 2, 2, 2]];
// PRESENT[step][tensor]: first steps that come late, a step with no gradient at all, one with all.
const PRESENT = [
  [true, false, true, false, true],
  [true, true, false, true, false],
  [false, false, false, false, false],
  [true, true, true, true, true],
  [false, true, true, false, true],
];
const OWN_STEPS = PRESENT.reduce((n, present) => n.map((c, i) => c + (present[i] ? 1 : 0)), SHAPES.map(() => 0));

const shaped = (shapes: readonly (readonly number[])[], seed: number) =>
  shapes.map((shape, i) => ({ name: `w${i}`, shape, data: randomArray(shape.reduce((a, b) => a * b, 1), rng(seed + i)) }));
const gradFor = (step: number, i: number, length: number) => randomArray(length, rng(step * 7919 + i));

const bits = (values: Float32Array | Uint16Array) => Array.from(values instanceof Float32Array ? new Uint32Array(values.buffer, values.byteOffset, values.length) : values);

/** Tensor i's parameters and every stored state entry (step count aside), as bits. */
async function tensorBits(opt: Optimizer<any>, params: ParameterSet, i: number) {
  const [values, sd] = await Promise.all([params.read(), opt.stateDict()]);
  const { step: _ownStep, ...slots } = sd.state[i]!;
  return { param: bits(values[i]!), slots: Object.fromEntries(Object.entries(slots).map(([name, v]) => [name, bits(v as Float32Array)])) };
}

/** Writes every gradient (an absent tensor's too: stale values the step must not use), marks the present ones. */
function markStep(params: ParameterSet, step: number, present: readonly boolean[]) {
  params.writeGrads(params.tensors.map((t, i) => gradFor(step, i, t.length)));
  params.zeroGrad();
  params.markGradients(params.tensors.filter((_, i) => present[i]).map((t) => t.name));
}

/** The PRESENT sequence on the GPU and the twin: absent tensors bit for bit, the rest at 0 tolerance. */
async function skippingSequence(device: GPUDevice, tensors: ReturnType<typeof shaped>, options: Record<string, unknown>, name = 'muon', setOptions?: Parameters<typeof createParameterSet>[2]) {
  const params = createParameterSet(device, tensors, setOptions);
  if (setOptions) expect(params.layout.segments.length).toBeGreaterThan(3);
  const gpu = createOptimizer(name as 'muon', params, options as never);
  const ref = createReferenceOptimizer(name as 'muon', tensors.map((t) => ({ ...t, data: t.data.slice() })), options as never);
  const failures: string[] = [];
  for (const [s, present] of PRESENT.entries()) {
    const before = await Promise.all(tensors.map((_, i) => tensorBits(gpu, params, i)));
    markStep(params, s + 1, present);
    gpu.step();
    ref.step(tensors.map((t, i) => (present[i] ? gradFor(s + 1, i, t.data.length) : null)));
    for (const [i, has] of present.entries()) if (!has) expect(await tensorBits(gpu, params, i), `tensor ${i} at step ${s + 1}`).toEqual(before[i]);
    failures.push(...(await compareWithReference(gpu, params, ref, { atol: 0, rtol: 0 }, `step ${s + 1}`)).failures);
  }
  expect(failures).toEqual([]);
  expect((await gpu.stateDict()).state.map((t) => t.step)).toEqual(OWN_STEPS);
  gpu.destroy();
  params.destroy();
}

describe('muon: a matrix without gradient keeps its parameters and momentum; the others equal the twin', () => {
  test.each([
    ['f32, Nesterov', { lr: 0.02 }],
    ["bf16 nsPrecision, no Nesterov, 'match_rms_adamw', a schedule of 3 triples", { lr: 0.01, nesterov: false, weightDecay: 0.01, adjustLrFn: 'match_rms_adamw', nsPrecision: 'bf16', nsSteps: 3, nsCoefficients: [[4.0848, -6.8946, 2.927], [3.9505, -6.3029, 2.6377], [3.7418, -5.5913, 2.3037]] }],
    ['two groups (lr, eps, momentum), bf16 momentum', { lr: 0.02, stateFormat: 'bf16', groups: [{ tensors: ['w1', 'w4'], lr: 0.03, eps: 1e-3, momentum: 0.8 }] }],
  ])('%s', async (_label, options) => {
    await withDevice((device) => skippingSequence(device, shaped(SHAPES, 41), options));
  });

  test('over a 2 KiB scratch budget (many batches) with a long, thin 1 × 2000 (split-K), f32 and bf16', async () => {
    await withDevice(async (device) => {
      const tensors = shaped([[1, 2000], [37, 5], [16, 16], [7, 33], [2, 3]], 45);
      for (const nsPrecision of ['f32', 'bf16']) await skippingSequence(device, tensors, { lr: 0.02, nsPrecision }, 'muon_step_rule_batched');
    });
  });

  test('with AdamW beside it: vectors and a named matrix at their own step counts, the matrices skipped as above; a schedule over both lrs', async () => {
    await withDevice(async (device) => {
      const tensors = [...shaped(SHAPES.slice(0, 3), 43), ...[[7], [130]].map((shape, i) => ({ name: `v${i}`, shape, data: randomArray(shape[0]!, rng(90 + i)) }))];
      await skippingSequence(device, tensors, { lr: 0.02, adamw: { lr: 0.01, betas: [0.8, 0.9] }, adamwTensors: ['w2'], lrSchedule: cosineWithWarmup({ warmupSteps: 2, totalSteps: 8 }) });
    });
  });

  test('with AdamW beside it over split bindings (16 KiB segments, 2-D dispatches): each segment finds its tensors\' rows', async () => {
    await withDevice(async (device) => {
      const tensors = [...shaped([[130, 40], [37, 5], [40, 60]], 44), ...[[5000], [100]].map((shape, i) => ({ name: `v${i}`, shape, data: randomArray(shape[0]!, rng(95 + i)) }))];
      const setOptions = { vectorsPerInvocation: 3, workgroupSize: 32, limits: { maxStorageBufferBindingSize: 16 * 1024, maxComputeWorkgroupsPerDimension: 8 } };
      await skippingSequence(device, tensors, { lr: 0.02, adamw: { lr: 0.01 }, adamwTensors: ['w1'] }, 'muon', setOptions);
    });
  });

  test('AdamW beside it, f32 and bf16: steps with different marks recorded into one encoder equal the twin', async () => {
    await withDevice(async (device) => {
      for (const nsPrecision of ['f32', 'bf16'] as const) {
        const tensors = [...shaped(SHAPES.slice(1, 4), 47), { name: 'v0', shape: [9], data: randomArray(9, rng(99)) }, { ...shaped([[2, 9]], 48)[0]!, name: 'w9' }];
        const options = { lr: 0.02, nsPrecision, adamw: { lr: 0.01 } };
        const params = createParameterSet(device, tensors);
        const gpu = createOptimizer('muon', params, options);
        const ref = createReferenceOptimizer('muon', tensors.map((t) => ({ ...t, data: t.data.slice() })), options);
        const perStep = PRESENT.map((_, s) => tensors.map((t, i) => gradFor(s + 1, i, t.data.length)));
        const staged = stageGradients(device, params, perStep);
        const encoder = device.createCommandEncoder();
        PRESENT.forEach((present, s) => {
          staged.record(encoder, s);
          params.zeroGrad();
          params.markGradients(params.tensors.filter((_, i) => present[i]).map((t) => t.name));
          gpu.step(encoder);
          ref.step(perStep[s]!.map((g, i) => (present[i] ? g : null)));
        });
        device.queue.submit([encoder.finish()]);
        expect((await compareWithReference(gpu, params, ref, { atol: 0, rtol: 0 }, `one encoder, ${nsPrecision}`)).failures).toEqual([]);
        staged.destroy();
        gpu.destroy();
        params.destroy();
      }
    });
  });
});

/** The device objects made while `body` runs, by method and label. */
async function madeWhile(device: GPUDevice, body: () => void): Promise<string[]> {
  const made: string[] = [];
  const spied = ['createBuffer', 'createBindGroup', 'createComputePipeline', 'createComputePipelineAsync', 'createShaderModule', 'createBindGroupLayout', 'createPipelineLayout'] as const;
  const originals = spied.map((key) => {
    const original = (device as any)[key];
    (device as any)[key] = (...args: any[]) => {
      made.push(`${key} ${args[0]?.label ?? ''}`);
      return original.apply(device, args);
    };
    return original;
  });
  try {
    body();
  } finally {
    spied.forEach((key, k) => ((device as any)[key] = originals[k]));
  }
  return made;
}

/** Dispatches `step` records into one encoder's compute passes. */
function dispatchesOf(device: GPUDevice, step: (encoder: GPUCommandEncoder) => void): number {
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
  step(encoder);
  device.queue.submit([encoder.finish()]);
  return dispatches;
}

describe("muon's per-tensor Newton–Schulz pass keeps the engine's promises", () => {
  test("made at zeroGrad (its own table only: the plain build's scratch is shared), never by a step; a skipping step records the plain step's dispatches; with AdamW beside it, on a device narrowed to the 7 storage buffers its plain kernel binds", async () => {
    await withDevice(async (device) => {
      const tensors = [...shaped(SHAPES.slice(0, 3), 51), { name: 'v0', shape: [9], data: randomArray(9, rng(98)) }];
      const options = { lr: 0.02, adamw: { lr: 0.01 } };
      const params = createParameterSet(device, tensors);
      const own = Object.getOwnPropertyDescriptor(device, 'limits');
      const narrow = new Proxy(device.limits, { get: (target, key) => (key === 'maxStorageBuffersPerShaderStage' ? 7 : Reflect.get(target, key)) });
      Object.defineProperty(device, 'limits', { value: narrow, configurable: true });
      let gpu: Optimizer<any>;
      let atZeroGrad: string[];
      let bytesBefore: number;
      try {
        gpu = createOptimizer('muon', params, options);
        bytesBefore = gpu.allocatedBytes;
        atZeroGrad = await madeWhile(device, () => params.zeroGrad());
      } finally {
        if (own) Object.defineProperty(device, 'limits', own);
        else delete (device as { limits?: unknown }).limits;
      }
      const buffers = atZeroGrad.filter((m) => m.startsWith('createBuffer'));
      expect(buffers.filter((m) => m.includes('muonTable'))).toHaveLength(1);
      expect(buffers.filter((m) => m.includes('muonScratch') || m.includes('muonSegment'))).toEqual([]);
      expect(gpu.allocatedBytes).toBeGreaterThan(bytesBefore);
      const ref = createReferenceOptimizer('muon', tensors.map((t) => ({ ...t, data: t.data.slice() })), options);
      params.markGradients();
      const plain = dispatchesOf(device, (encoder) => gpu.step(encoder));
      ref.step(tensors.map((t) => new Float32Array(t.data.length)));
      let skipping = 0;
      const made = await madeWhile(device, () => {
        params.writeGrads(tensors.map((t, i) => gradFor(2, i, t.data.length)));
        params.zeroGrad();
        params.markGradients(['w0', 'v0']);
        skipping = dispatchesOf(device, (encoder) => gpu.step(encoder));
      });
      ref.step(tensors.map((t, i) => (i === 0 || i === 3 ? gradFor(2, i, t.data.length) : null)));
      // The command encoders this test makes are its own; the step makes nothing.
      expect(made).toEqual([]);
      expect(skipping).toBe(plain);
      expect((await compareWithReference(gpu, params, ref, { atol: 0, rtol: 0 }, 'step 2')).failures).toEqual([]);
      gpu.destroy();
      params.destroy();
    });
  });
});
