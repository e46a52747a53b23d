/**
 * PyTorch's step rule on the GPU: a tensor without gradient this step (`params.zeroGrad()`, then
 * only some gradients marked) keeps its parameters and every state buffer bit for bit, its own step
 * count stays, and the other tensors match the CPU twin given `null` for it. Registry-driven: every
 * optimizer either takes such steps so, or refuses them, naming why, before anything changes.
 */
import { describe, expect, test } from 'vitest';
import { createOptimizer, createParameterSet, createReferenceOptimizer, type Optimizer, type ParameterSet } from '../../src/index.js';
import { getDefinition } from '../../src/optimizers/registry.js';
import { gradientSkipRefusal } from '../../src/front/gradient-presence.js';
import { resolveOptions } from '../../src/front/resolve.js';
import { randomArray, rng } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { compareWithReference, expectRestoredTwin, stageGradients } from '../helpers/parity.js';
import { PARITY_TOLERANCE, REGISTERED } from '../helpers/cases.js';

const SIZES = [65, 3, 130];
const tensorsOf = () => SIZES.map((n, i) => ({ name: `t${i}`, data: randomArray(n, rng(31 + i)) }));
const gradFor = (step: number, i: number, length: number) => randomArray(length, rng(step * 7919 + i));
// PRESENT[step][tensor]: tensor 1's first step comes late; a step with no gradient at all.
const PRESENT = [
  [true, false, true],
  [true, true, false],
  [false, false, false],
  [true, true, true],
  [false, true, false],
];

const bits = (values: unknown): unknown =>
  values instanceof Float32Array
    ? Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length))
    : values instanceof Uint16Array || values instanceof Uint8Array
      ? Array.from(values)
      : values !== null && typeof values === 'object'
        ? Object.fromEntries(Object.entries(values).map(([k, v]) => [k, bits(v)]))
        : [JSON.stringify(values) as never];

/** Tensor i's parameters and every stored state entry, as bits. */
async function tensorBits(opt: Optimizer<any>, params: ParameterSet, i: number) {
  const [values, sd] = await Promise.all([params.read(), opt.stateDict()]);
  const { step: _ownStep, ...slots } = sd.state[i]!;
  return { param: bits(values[i]), slots: Object.fromEntries(Object.entries(slots).map(([name, v]) => [name, bits(v)])) };
}

/** Writes this step's gradients and marks the present tensors, as a user's own backward pass would. */
function markStep(params: ParameterSet, step: number, present: readonly boolean[]) {
  params.writeGrads(params.tensors.map((t, i) => gradFor(step, i, t.length)));
  params.zeroGrad();
  params.markGradients(params.tensors.filter((_, i) => present[i]).map((t) => t.name));
}

const resolves = (name: string, options: Record<string, unknown>) => resolveOptions(getDefinition(name), SIZES.map((n, i) => ({ name: `t${i}`, shape: [n] })), options, 'test');
const accepted = (name: string, options: Record<string, unknown>) => {
  try {
    resolves(name, options);
    return true;
  } catch {
    return false;
  }
};
/**
 * 8-bit and 4-bit state over these sizes: t0 (65) and t2 (130) quantized in blocks of 64 (t2 in three
 * runs, t0 in two: its second holds one element), t1 (3) in f32 side values. On each optimizer that
 * takes the format (its refusals are the state-format suites').
 */
const QUANTIZED = (format: 'q8' | 'q4') => ({ stateFormat: format, quantization: { blockSize: 64, minQuantizedElements: 64 } });
const variants = REGISTERED.flatMap(({ name, plain, rich }) =>
  [plain, rich, { ...plain, ...QUANTIZED('q8') }, { ...plain, ...QUANTIZED('q4') }].filter((o) => accepted(name, o)).map((o) => [name, o] as [string, Record<string, unknown>]),
);
/**
 * 4-bit Adam on these values differs from its twin by 1 ULP in one parameter at step 1 with every
 * gradient present (the plain kernel, before any skip): the tensors with a gradient are compared at
 * the parity suites' tolerance there; the absent ones stay bit for bit all the same.
 */
const Q4_TOLERANCE = PARITY_TOLERANCE;
/**
 * LAMB's moments are quantized by its partials pass (q8-layerwise.wgsl's tiles, each present
 * tensor at its own step count, its trust ratio from its own sums): held to 0 in q4 too.
 */
const toleranceOf = (name: string, options: Record<string, unknown>) => (options.stateFormat === 'q4' && name !== 'lamb' ? Q4_TOLERANCE : { atol: 0, rtol: 0 });
const canSkip = (name: string, options: Record<string, unknown>) => gradientSkipRefusal(getDefinition(name), resolves(name, options)) === undefined;

describe('a tensor without gradient is left untouched; the others match the twin', () => {
  test.each(variants.filter(([n, o]) => canSkip(n, o)).map(([n, o]) => [`${n} ${JSON.stringify(o)}`, n, o] as const))('%s', async (_l, name, options) => {
    await withDevice(async (device) => {
      const tensors = tensorsOf();
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer(name as 'adam', params, options as never);
      const ref = createReferenceOptimizer(name as 'adam', tensors.map((t) => ({ ...t, data: t.data.slice() })), options as never);
      const failures: string[] = [];
      for (const [s, present] of PRESENT.entries()) {
        const before = await Promise.all(tensors.map((_, i) => tensorBits(gpu, params, i)));
        markStep(params, s + 1, present);
        gpu.step();
        ref.step(tensors.map((t, i) => (present[i] ? gradFor(s + 1, i, t.data.length) : null)));
        for (const [i, has] of present.entries()) if (!has) expect(await tensorBits(gpu, params, i), `tensor ${i} at step ${s + 1}`).toEqual(before[i]);
        failures.push(...(await compareWithReference(gpu, params, ref, toleranceOf(name, options), `step ${s + 1}`)).failures);
      }
      expect(failures).toEqual([]);
      // Schedule-Free's steps are its group's (groupStepCount): no tensor keeps a count of its own.
      const ownSteps = getDefinition(name).groupStepCount === undefined ? [3, 3, 2] : [undefined, undefined, undefined];
      expect((await gpu.stateDict()).state.map((s) => s.step)).toEqual(ownSteps);
      gpu.destroy();
      params.destroy();
    });
  });

  test('the optimizers PyTorch users skip tensors with most take such steps (the list is not all refusals), in f32, 8-bit and 4-bit state', () => {
    for (const name of ['sgd', 'adam', 'adamw', 'nadam', 'radam', 'adagrad', 'rmsprop', 'adadelta', 'adamax', 'rprop', 'lion', 'ademamix']) {
      expect(canSkip(name, { lr: 0.1 }), name).toBe(true);
      expect(canSkip(name, { lr: 0.1, ...QUANTIZED('q8') }), `${name} q8`).toBe(true);
    }
    for (const name of ['adam', 'adamw']) expect(canSkip(name, { lr: 0.1, ...QUANTIZED('q4') }), `${name} q4`).toBe(true);
    // LAMB's partials pass stores its moments in 8-/4-bit tiles: a skipped tensor's lanes store nothing.
    for (const format of ['q8', 'q4'] as const) expect(canSkip('lamb', { lr: 0.1, ...QUANTIZED(format) }), `lamb ${format}`).toBe(true);
    expect(variants.filter(([n, o]) => o.stateFormat === 'q8' && canSkip(n, o)).length).toBeGreaterThanOrEqual(12);
  });
});

describe("Schedule-Free: steps at the group's count, eval() and train() between skipping steps", () => {
  // The authors step only `p.grad is not None` while k, lr_max and weight_sum advance for the group;
  // eval()/train() move every tensor (one that never stepped has z = p: its switch leaves it as it is).
  test.each([
    ['adamw_schedule_free', { lr: 0.01, weightDecay: 0.1, innerMomentum: 0.9, warmupSteps: 2 }],
    ['adamw_schedule_free_paper', { lr: 0.01, warmupSteps: 2 }],
  ] as const)('%s %j: bit for bit with the twin after every step and switch; absent tensors untouched', async (name, options) => {
    await withDevice(async (device) => {
      const tensors = tensorsOf();
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer(name, params, options as never);
      const ref = createReferenceOptimizer(name, tensors.map((t) => ({ ...t, data: t.data.slice() })), options as never);
      const failures: string[] = [];
      for (const [s, present] of PRESENT.entries()) {
        const before = await Promise.all(tensors.map((_, i) => tensorBits(gpu, params, i)));
        markStep(params, s + 1, present);
        gpu.step();
        ref.step(tensors.map((t, i) => (present[i] ? gradFor(s + 1, i, t.data.length) : null)));
        for (const [i, has] of present.entries()) if (!has) expect(await tensorBits(gpu, params, i), `tensor ${i} at step ${s + 1}`).toEqual(before[i]);
        gpu.eval();
        ref.eval();
        failures.push(...(await compareWithReference(gpu, params, ref, { atol: 0, rtol: 0 }, `eval() after step ${s + 1}`)).failures);
        gpu.train();
        ref.train();
        failures.push(...(await compareWithReference(gpu, params, ref, { atol: 0, rtol: 0 }, `train() after step ${s + 1}`)).failures);
      }
      expect(failures).toEqual([]);
      expect(gpu.stepCount).toBe(PRESENT.length);
      gpu.destroy();
      params.destroy();
    });
  });
});

describe("Prodigy's skipping step within WebGPU's default 8 storage buffers", () => {
  // With β₁ > 0 the plain kernel binds 8 (scalars-pass.ts); the per-tensor variant reads each chunk's
  // tensor from the chunk table in the scratch instead of a chunkRow binding, so it binds as many.
  test('a device narrowed to 8 storage buffers takes the per-tensor step; absent tensors untouched, the others equal the twin', async () => {
    await withDevice(async (device) => {
      const tensors = tensorsOf();
      const params = createParameterSet(device, tensors);
      const own = Object.getOwnPropertyDescriptor(device, 'limits');
      const narrow = new Proxy(device.limits, { get: (target, key) => (key === 'maxStorageBuffersPerShaderStage' ? 8 : Reflect.get(target, key)) });
      Object.defineProperty(device, 'limits', { value: narrow, configurable: true });
      let gpu: Optimizer<any>;
      try {
        gpu = createOptimizer('prodigy', params, { d0: 1e-4 });
        params.zeroGrad();
      } finally {
        if (own) Object.defineProperty(device, 'limits', own);
        else delete (device as { limits?: unknown }).limits;
      }
      const ref = createReferenceOptimizer('prodigy', tensors.map((t) => ({ ...t, data: t.data.slice() })), { d0: 1e-4 });
      for (const [s, present] of PRESENT.slice(0, 2).entries()) {
        const before = await Promise.all(tensors.map((_, i) => tensorBits(gpu, params, i)));
        markStep(params, s + 1, present);
        gpu.step();
        ref.step(tensors.map((t, i) => (present[i] ? gradFor(s + 1, i, t.data.length) : null)));
        for (const [i, has] of present.entries()) if (!has) expect(await tensorBits(gpu, params, i)).toEqual(before[i]);
      }
      expect((await compareWithReference(gpu, params, ref, { atol: 0, rtol: 0 }, 'step 2')).failures).toEqual([]);
      gpu.destroy();
      params.destroy();
    });
  });
});

describe('Adafactor: the factors of a matrix without gradient stay, bit for bit', () => {
  // Matrices (row_var, col_var: factorUpdate's entries; one batched) beside a vector (variance).
  const shapes = [[5, 13], [4], [3, 2, 7]];
  test.each([{}, { weightDecay: 0.01, beta2Decay: -0.6, lr: 0.02 }])('adafactor %j: absent tensors untouched, the others equal the twin at 0 tolerance, each at its own step count', async (options) => {
    await withDevice(async (device) => {
      const tensors = shapes.map((shape, i) => ({ name: `t${i}`, shape, data: randomArray(shape.reduce((a, b) => a * b, 1), rng(71 + i)) }));
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer('adafactor', params, options);
      const ref = createReferenceOptimizer('adafactor', tensors.map((t) => ({ ...t, data: t.data.slice() })), options);
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
      const sd = await gpu.stateDict();
      expect(sd.state.map((t) => t.step)).toEqual([3, 3, 2]);
      expect(Object.keys(sd.state[2]!).sort()).toEqual(['col_var', 'row_var', 'step']);
      gpu.destroy();
      params.destroy();
    });
  });
});

describe("LAMB's 8-bit and 4-bit moments: tensors over several tiles and runs, two groups", () => {
  // Its partials pass stores the moments by tiles (q8-layerwise.wgsl): t0 spans two of them, t1 is
  // in f32 side values, t2 and t3 end in short runs; t2 is in a group of its own.
  const shapes = [4100, 3, 2500, 70];
  const marks = [
    [true, false, true, false],
    [false, true, true, true],
    [true, true, false, true],
    [false, false, false, false],
    [true, false, true, true],
  ];
  test.each(['q8', 'q4'] as const)('%s: absent tensors keep parameters, codes, absmax and side values bit for bit; the others equal the twin at 0, through a state dict too', async (format) => {
    await withDevice(async (device) => {
      const tensors = shapes.map((n, i) => ({ name: `t${i}`, data: randomArray(n, rng(97 + i)) }));
      const options = { lr: 0.01, weightDecay: 0.01, stateFormat: format, quantization: { blockSize: 256, minQuantizedElements: 64 }, groups: [{ tensors: ['t2'], lr: 0.02, weightDecay: 0.1 }] };
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer('lamb', params, options as never);
      const ref = createReferenceOptimizer('lamb', tensors.map((t) => ({ ...t, data: t.data.slice() })), options as never);
      const failures: string[] = [];
      for (const [s, present] of marks.entries()) {
        const before = await Promise.all(tensors.map((_, i) => tensorBits(gpu, params, i)));
        markStep(params, s + 1, present);
        gpu.step();
        ref.step(tensors.map((t, i) => (present[i] ? gradFor(s + 1, i, t.data.length) : null)));
        for (const [i, has] of present.entries()) if (!has) expect(await tensorBits(gpu, params, i), `tensor ${i} at step ${s + 1}`).toEqual(before[i]);
        failures.push(...(await compareWithReference(gpu, params, ref, { atol: 0, rtol: 0 }, `step ${s + 1}`)).failures);
      }
      expect(failures).toEqual([]);
      expect((await gpu.stateDict()).state.map((t) => t.step)).toEqual([3, 2, 3, 3]);
      // Its state dict (codes, absmax, side values and the steps that differ) through JSON into a
      // fresh optimizer: one more step there equals this one's bit for bit, and the twin's.
      const next = tensors.map((t, i) => gradFor(marks.length + 1, i, t.data.length));
      const { restored, copy } = await expectRestoredTwin(device, 'lamb', options, params, gpu, next);
      ref.step(next);
      expect((await compareWithReference(restored, copy, ref, { atol: 0, rtol: 0 }, 'restored')).failures).toEqual([]);
      expect((await restored.stateDict()).state.map((t) => t.step)).toEqual([4, 3, 4, 4]);
      for (const o of [gpu, restored]) o.destroy();
      for (const p of [params, copy]) p.destroy();
    });
  });
});

describe('optimizers that cannot skip a tensor refuse, naming why, before anything changes', () => {
  test.each(variants.filter(([n, o]) => !canSkip(n, o)).map(([n, o]) => [`${n} ${JSON.stringify(o)}`, n, o] as const))('%s', async (_l, name, options) => {
    await withDevice(async (device) => {
      const tensors = tensorsOf();
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer(name as 'adam', params, options as never);
      const ref = createReferenceOptimizer(name as 'adam', tensors.map((t) => ({ ...t, data: t.data.slice() })), options as never);
      const before = await Promise.all(tensors.map((_, i) => tensorBits(gpu, params, i)));
      markStep(params, 1, PRESENT[0]!);
      const why = /tensor 1 has no gradient this step .* but this optimizer cannot skip a tensor: .+/;
      expect(() => gpu.step()).toThrow(why);
      expect(() => ref.step(tensors.map((t, i) => (PRESENT[0]![i] ? gradFor(1, i, t.data.length) : null)))).toThrow(why);
      expect(gpu.stepCount).toBe(0);
      expect(ref.stepCount).toBe(0);
      expect(await Promise.all(tensors.map((_, i) => tensorBits(gpu, params, i)))).toEqual(before);
      // Every gradient marked: the step is taken as before.
      params.markGradients();
      gpu.step();
      expect(gpu.stepCount).toBe(1);
      gpu.destroy();
      params.destroy();
    });
  });
});

describe('zeroGrad, markGradients and writeGrads', () => {
  test('marks: zeroGrad() clears them, writeGrads and markGradients set them; misuse is refused, naming it, before any mark changes', async () => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, tensorsOf());
      expect(params.hasGradient).toEqual([true, true, true]);
      params.zeroGrad();
      expect(params.hasGradient).toEqual([false, false, false]);
      params.markGradients(['t2']);
      expect(params.hasGradient).toEqual([false, false, true]);
      expect(() => params.markGradients(['t0', 'nope'])).toThrow(/markGradients: no tensor named "nope" in this parameter set; its tensors: t0, t1, t2/);
      expect(() => params.markGradients('t0' as never)).toThrow(/markGradients needs an array of tensor names, got/);
      expect(params.hasGradient).toEqual([false, false, true]);
      expect(() => params.zeroGrad({ setToNone: 1 } as never)).toThrow(/zeroGrad: setToNone must be a boolean, got 1/);
      expect(() => params.zeroGrad({ setTonone: true } as never)).toThrow(/zeroGrad: unknown option "setTonone"/);
      expect(() => params.zeroGrad(null as never)).toThrow(/zeroGrad options must be an object/);
      expect(() => params.zeroGrad({ encoder: device.createCommandEncoder() })).toThrow(/setToNone true writes nothing, so it takes no encoder/);
      expect(params.hasGradient).toEqual([false, false, true]);
      params.writeGrads(params.tensors.map((t) => new Float32Array(t.length).fill(1)));
      expect(params.hasGradient).toEqual([true, true, true]);
      params.zeroGrad();
      const encoder = device.createCommandEncoder();
      params.zeroGrad({ setToNone: false, encoder });
      device.queue.submit([encoder.finish()]);
      expect(params.hasGradient).toEqual([true, true, true]);
      expect((await params.readGrads()).every((g) => g.every((x) => x === 0))).toBe(true);
      params.zeroGrad();
      params.markGradients();
      expect(params.hasGradient).toEqual([true, true, true]);
      params.destroy();
    });
  });

  test("zeroGrad's TSDoc example, as written: w moves, frozen keeps its values, state and step", async () => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, [
        { name: 'w', data: new Float32Array([1, 2, 3, 4]) },
        { name: 'frozen', data: new Float32Array([5, 6]) },
      ]);
      const adam = createOptimizer('adam', params, { lr: 0.1, weightDecay: 0.01 });
      const wGrad = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(wGrad, 0, new Float32Array([0.1, -0.2, 0.3, -0.4]));
      params.zeroGrad();
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(wGrad, 0, params.gradBuffer, params.tensors[0]!.byteOffset, 16);
      params.markGradients(['w']);
      adam.step(encoder);
      device.queue.submit([encoder.finish()]);
      const [w, frozen] = await params.read();
      expect(Array.from(frozen!)).toEqual([5, 6]);
      expect(Array.from(w!).every((x, k) => x !== k + 1)).toBe(true);
      const sd = await adam.stateDict();
      expect(sd.state.map((s) => s.step)).toEqual([1, 0]);
      expect(Array.from(sd.state[1]!.exp_avg as Float32Array)).toEqual([0, 0]);
      wGrad.destroy();
      adam.destroy();
      params.destroy();
    });
  });

  test('step() before any gradient after zeroGrad() changes nothing (no weight decay), and counts no tensor step', async () => {
    await withDevice(async (device) => {
      const tensors = tensorsOf();
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer('adamw', params, { lr: 0.1, weightDecay: 0.5 });
      params.zeroGrad();
      gpu.step();
      gpu.step();
      const values = await params.read();
      values.forEach((v, i) => expect(bits(v), `tensor ${i}`).toEqual(bits(tensors[i]!.data)));
      const sd = await gpu.stateDict();
      expect(sd.step).toBe(2);
      expect(sd.state.map((s) => s.step)).toEqual([0, 0, 0]);
      gpu.destroy();
      params.destroy();
    });
  });
});

describe('the per-tensor step keeps the engine promises', () => {
  test('adam, bf16 state with stochastic rounding, two groups: steps with different marks in one encoder equal the twin', async () => {
    await withDevice(async (device) => {
      const tensors = tensorsOf();
      const options = { lr: 0.01, weightDecay: 0.1, stateFormat: 'bf16', stochasticRounding: true, groups: [{ tensors: ['t2'], lr: 0.03, amsgrad: false }] } as const;
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer('adam', params, options as never);
      const ref = createReferenceOptimizer('adam', tensors.map((t) => ({ ...t, data: t.data.slice() })), options as never);
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
      const { failures } = await compareWithReference(gpu, params, ref, { atol: 0, rtol: 0 }, 'one encoder');
      expect(failures).toEqual([]);
      staged.destroy();
      gpu.destroy();
      params.destroy();
    });
  });

  test('every tensor skipped as often (a step before any gradient): the plain kernel runs at their own step count and equals the twin', async () => {
    await withDevice(async (device) => {
      const tensors = tensorsOf();
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer('nadam', params, { lr: 0.01, weightDecay: 0.1 });
      const ref = createReferenceOptimizer('nadam', tensors.map((t) => ({ ...t, data: t.data.slice() })), { lr: 0.01, weightDecay: 0.1 });
      // The pipelines each step sets, from its compute passes (into an encoder of the test's).
      const pipelines: string[] = [];
      const step = () => {
        const encoder = device.createCommandEncoder();
        const begin = encoder.beginComputePass.bind(encoder);
        encoder.beginComputePass = (descriptor?: GPUComputePassDescriptor) => {
          const pass = begin(descriptor);
          const setPipeline = pass.setPipeline.bind(pass);
          pass.setPipeline = (pipeline: GPUComputePipeline) => (pipelines.push(pipeline.label), setPipeline(pipeline));
          return pass;
        };
        gpu.step(encoder);
        device.queue.submit([encoder.finish()]);
      };
      // Nothing to update: nothing recorded.
      params.zeroGrad();
      step();
      ref.step(tensors.map(() => null));
      expect(pipelines).toEqual([]);
      for (let s = 1; s <= 3; s++) {
        markStep(params, s, [true, true, true]);
        step();
        ref.step(tensors.map((t, i) => gradFor(s, i, t.data.length)));
      }
      expect(pipelines).toHaveLength(3);
      expect(pipelines.filter((l) => l.includes('PER_TENSOR') || l.includes('mainPerTensor'))).toEqual([]);
      const { failures } = await compareWithReference(gpu, params, ref, { atol: 0, rtol: 0 }, 'plain at own step');
      expect(failures).toEqual([]);
      expect((await gpu.stateDict()).state.map((s) => s.step)).toEqual([3, 3, 3]);
      gpu.destroy();
      params.destroy();
    });
  });

  /** The GPU objects `device.create*` makes while `body` runs, by kind and label. */
  async function madeWhile(device: GPUDevice, body: () => void | Promise<void>): Promise<string[]> {
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
      await body();
    } finally {
      spied.forEach((key, k) => ((device as any)[key] = originals[k]));
    }
    return made;
  }

  test("no step creates a GPU object: the per-tensor step is made at the set's first zeroGrad({ setToNone: true }), by every optimizer over it, and by one made later at its creation", async () => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, tensorsOf());
      const early = createOptimizer('nadam', params, { lr: 0.01 });
      const bytesBefore = early.allocatedBytes;
      const stepped = (opt: Optimizer<any>) =>
        madeWhile(device, () => {
          const encoder = device.createCommandEncoder();
          for (const present of PRESENT) {
            params.zeroGrad();
            params.markGradients(params.tensors.filter((_, i) => present[i]).map((t) => t.name));
            opt.step(encoder);
          }
          device.queue.submit([encoder.finish()]);
        });
      const atZeroGrad = await madeWhile(device, () => params.zeroGrad());
      // Its buffers (the pipeline is cached per device: another test may have made it).
      expect(atZeroGrad.filter((m) => m.startsWith('createBuffer') && m.includes('perTensor')).length).toBeGreaterThan(0);
      expect(early.allocatedBytes).toBeGreaterThan(bytesBefore);
      expect(await madeWhile(device, () => params.zeroGrad())).toEqual([]);
      expect(await stepped(early)).toEqual([]);
      let late: Optimizer<any> | undefined;
      const atCreation = await madeWhile(device, () => void (late = createOptimizer('radam', params, { lr: 0.01 })));
      expect(atCreation.some((m) => m.includes('perTensor'))).toBe(true);
      expect(await stepped(late!)).toEqual([]);
      for (const o of [early, late!]) o.destroy();
      params.destroy();
    });
  });

  test('an optimizer over a set that never calls zeroGrad() makes no per-tensor step; loading step counts that differ makes it at the load, not at the step', async () => {
    await withDevice(async (device) => {
      const tensors = tensorsOf();
      const params = createParameterSet(device, tensors);
      const source = createParameterSet(device, tensors);
      const donor = createOptimizer('adam', source, { lr: 0.01 });
      markStep(source, 1, PRESENT[0]!);
      donor.step();
      const sd = await donor.stateDict();
      let opt: Optimizer<any> | undefined;
      const created = await madeWhile(device, () => void (opt = createOptimizer('adam', params, { lr: 0.01 })));
      expect(created.filter((m) => m.includes('perTensor'))).toEqual([]);
      const loaded = await madeWhile(device, () => opt!.loadStateDict(sd as never));
      expect(loaded.some((m) => m.includes('perTensor'))).toBe(true);
      params.writeGrads(tensors.map((t, i) => gradFor(2, i, t.data.length)));
      expect(await madeWhile(device, () => opt!.step())).toEqual([]);
      expect((await opt!.stateDict()).state.map((s) => s.step)).toEqual([2, 1, 2]);
      for (const o of [donor, opt!]) o.destroy();
      params.destroy();
      source.destroy();
    });
  });

  test("a device that cannot bind the per-tensor variant: zeroGrad() still works, the step that needs it is refused naming the limit, before anything changes; steps with every gradient run", async () => {
    await withDevice(async (device) => {
      const tensors = tensorsOf();
      const params = createParameterSet(device, tensors);
      const options = { lr: 0.01, ...QUANTIZED('q8') };
      // 8-bit Adam binds 6 storage buffers, its per-tensor tiles 7 (the chunk → tensor table).
      const limits = device.limits;
      const own = Object.getOwnPropertyDescriptor(device, 'limits');
      const narrow = new Proxy(limits, { get: (target, key) => (key === 'maxStorageBuffersPerShaderStage' ? 6 : Reflect.get(target, key)) });
      Object.defineProperty(device, 'limits', { value: narrow, configurable: true });
      let gpu: Optimizer<any>;
      try {
        gpu = createOptimizer('adam', params, options as never);
        params.zeroGrad();
      } finally {
        if (own) Object.defineProperty(device, 'limits', own);
        else delete (device as { limits?: unknown }).limits;
      }
      expect(device.limits.maxStorageBuffersPerShaderStage).toBeGreaterThan(6);
      const before = await Promise.all(tensors.map((_, i) => tensorBits(gpu, params, i)));
      markStep(params, 1, PRESENT[0]!);
      expect(() => gpu.step()).toThrow(/adam with these options binds 7 storage buffers, over the device's maxStorageBuffersPerShaderStage \(6\)/);
      expect(gpu.stepCount).toBe(0);
      expect(await Promise.all(tensors.map((_, i) => tensorBits(gpu, params, i)))).toEqual(before);
      params.markGradients();
      gpu.step();
      expect(gpu.stepCount).toBe(1);
      gpu.destroy();
      params.destroy();
    });
  });

  test('a state dict with per-tensor steps goes through JSON into a fresh optimizer; the next steps equal the twin', async () => {
    const { stateDictFromJSON, stateDictToJSON } = await import('../../src/index.js');
    await withDevice(async (device) => {
      const tensors = tensorsOf();
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer('radam', params, { lr: 0.01 });
      const ref = createReferenceOptimizer('radam', tensors.map((t) => ({ ...t, data: t.data.slice() })), { lr: 0.01 });
      for (const [s, present] of PRESENT.slice(0, 3).entries()) {
        markStep(params, s + 1, present);
        gpu.step();
        ref.step(tensors.map((t, i) => (present[i] ? gradFor(s + 1, i, t.data.length) : null)));
      }
      const restoredParams = createParameterSet(device, tensors.map((t) => ({ ...t, data: new Float32Array(t.data.length) })));
      restoredParams.write(await params.read());
      const restored = createOptimizer('radam', restoredParams, { lr: 0.01 });
      restored.loadStateDict(stateDictFromJSON(stateDictToJSON(await gpu.stateDict())) as never);
      expect((await restored.stateDict()).state.map((s) => s.step)).toEqual([2, 1, 1]);
      for (const [s, present] of PRESENT.slice(3).entries()) {
        markStep(restoredParams, s + 4, present);
        restored.step();
        ref.step(tensors.map((t, i) => (present[i] ? gradFor(s + 4, i, t.data.length) : null)));
      }
      const { failures } = await compareWithReference(restored, restoredParams, ref, { atol: 0, rtol: 0 }, 'restored');
      expect(failures).toEqual([]);
      for (const o of [gpu, restored]) o.destroy();
      params.destroy();
      restoredParams.destroy();
    });
  });

  test('a dict with per-tensor steps into an optimizer that cannot skip (non-finite skipping): the load is refused, naming state[i].step, and it still steps', async () => {
    await withDevice(async (device) => {
      const tensors = tensorsOf();
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer('adam', params, { lr: 0.01 });
      markStep(params, 1, PRESENT[0]!);
      gpu.step();
      const sd = await gpu.stateDict();
      const clipped = createOptimizer('adam', params, { lr: 0.01, gradClipping: { maxNorm: 1 }, skipNonFinite: true });
      expect(() => clipped.loadStateDict(sd as never)).toThrow(/cannot load this state dict: state\[1\]\.step: .*cannot skip a tensor: with skipNonFinite/);
      params.markGradients();
      clipped.step();
      expect((await clipped.stateDict()).step).toBe(1);
      for (const o of [gpu, clipped]) o.destroy();
      params.destroy();
    });
  });
});

describe('gradient accumulation: each micro-batch adds the tensors it marks; one no micro-batch of the window marked is untouched', () => {
  // Odd sizes; t3 is never marked. MARKS[window][micro-batch][tensor]: t1 marked by some micro-batches
  // only; window 2 marks nothing at all; window 4 marks every tensor but t3 in every micro-batch
  // (the plain accumulation, the per-tensor update); window 5 every tensor (plain accumulation, the
  // update per tensor since the counts differ).
  const SIZES4 = [65, 3, 130, 7];
  const K = 3;
  const MARKS = [
    [[true, false, false, false], [true, true, false, false], [true, false, false, false]],
    [[false, false, false, false], [false, false, false, false], [false, false, false, false]],
    [[false, true, true, false], [true, false, false, false], [false, false, true, false]],
    [[true, true, true, false], [true, true, true, false], [true, true, true, false]],
    [[true, true, true, true], [true, true, true, true], [true, true, true, true]],
  ];
  const tensors4 = () => SIZES4.map((n, i) => ({ name: `t${i}`, data: randomArray(n, rng(71 + i)) }));
  const microGrad = (call: number, i: number, n: number) => randomArray(n, rng(call * 104729 + i));
  /** The gradient buffer a micro-batch leaves: its marked tensors' gradients, NaN everywhere else (stale garbage). */
  const written = (params: ParameterSet, call: number, marks: readonly boolean[]) =>
    params.tensors.map((t, i) => (marks[i] ? microGrad(call, i, t.length) : new Float32Array(t.length).fill(NaN)));

  /**
   * Steps `gpu` and `ref` through `windows` of micro-batches (marks per call), the gradients of
   * unmarked tensors NaN; windows 1, 3, 5…: every micro-batch in one encoder, its gradients copied in
   * there (each call's marks in its own slot). After each window: a tensor none of its calls marked
   * is bit for bit as before, and GPU vs twin mismatches (0 tolerance) are returned.
   */
  async function runWindows(device: GPUDevice, params: ParameterSet, gpu: Optimizer<any>, ref: ReturnType<typeof createReferenceOptimizer>, windows: readonly (readonly boolean[])[][]) {
    const failures: string[] = [];
    let call = 0;
    for (const [w, window] of windows.entries()) {
      const before = await Promise.all(params.tensors.map((_, i) => tensorBits(gpu, params, i)));
      const encoder = w % 2 === 0 ? device.createCommandEncoder() : undefined;
      const sources: GPUBuffer[] = [];
      for (const marks of window) {
        call++;
        const grads = written(params, call, marks);
        if (encoder) {
          const source = device.createBuffer({ size: params.gradBuffer.size, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
          const packed = new Float32Array(params.gradBuffer.size / 4);
          params.tensors.forEach((t, i) => packed.set(grads[i]!, t.byteOffset / 4));
          device.queue.writeBuffer(source, 0, packed);
          encoder.copyBufferToBuffer(source, 0, params.gradBuffer, 0, params.gradBuffer.size);
          sources.push(source);
        } else {
          params.writeGrads(grads);
        }
        params.zeroGrad();
        params.markGradients(params.tensors.filter((_, i) => marks[i]).map((t) => t.name));
        gpu.step(encoder);
        ref.step(grads.map((g, i) => (marks[i] ? g : null)));
      }
      if (encoder) device.queue.submit([encoder.finish()]);
      for (const source of sources) source.destroy();
      for (let i = 0; i < params.tensors.length; i++) {
        if (!window.some((marks) => marks[i])) expect(await tensorBits(gpu, params, i), `tensor ${i} in window ${w + 1}`).toEqual(before[i]);
      }
      failures.push(...(await compareWithReference(gpu, params, ref, { atol: 0, rtol: 0 }, `window ${w + 1}`)).failures);
    }
    return failures;
  }

  test.each([
    ['adam', { lr: 0.01, weightDecay: 0.1 }],
    ['sgd', { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.01 }],
    ['nadam', { lr: 0.01, weightDecay: 0.1 }],
    ['lamb', { lr: 0.01, weightDecay: 0.01 }],
    ['adam', { lr: 0.01, ...QUANTIZED('q8') }],
    ['adafactor', { lr: 0.01 }],
    ['prodigy', { lr: 1, weightDecay: 0.01 }],
    ['adamw_schedule_free', { lr: 0.01, weightDecay: 0.1, warmupSteps: 2 }],
  ] as const)('%s %j: GPU = twin at 0 tolerance after every window (one encoder per call, and one per window); absent tensors bit for bit', async (name, options) => {
    await withDevice(async (device) => {
      const tensors = tensors4();
      const params = createParameterSet(device, tensors);
      const all = { ...options, accumulation: { steps: K } };
      const gpu = createOptimizer(name as 'adam', params, all as never);
      const ref = createReferenceOptimizer(name as 'adam', tensors.map((t) => ({ ...t, data: t.data.slice() })), all as never);
      expect(await runWindows(device, params, gpu, ref, MARKS)).toEqual([]);
      expect(gpu.stepCount).toBe(MARKS.length);
      expect(gpu.microStepCount).toBe(MARKS.length * K);
      // Prodigy's and Schedule-Free's steps are the set's (groupStepCount): no tensor keeps a count of its own.
      const ownSteps = getDefinition(name).groupStepCount === undefined ? [4, 4, 3, 1] : [undefined, undefined, undefined, undefined];
      expect((await gpu.stateDict()).state.map((s) => s.step)).toEqual(ownSteps);
      gpu.destroy();
      params.destroy();
    });
  });

  test('micro-batches that each leave a tensor unmarked, a window that marks every tensor: the per-tensor accumulation, then the plain update (no per-tensor count kept); equal to the twin', async () => {
    await withDevice(async (device) => {
      const tensors = tensors4();
      const params = createParameterSet(device, tensors);
      const options = { lr: 0.01, weightDecay: 0.1, accumulation: { steps: 2 } };
      const gpu = createOptimizer('adamw', params, options);
      const ref = createReferenceOptimizer('adamw', tensors.map((t) => ({ ...t, data: t.data.slice() })), options);
      const windows = [
        [[true, false, true, false], [false, true, false, true]],
        [[false, true, true, true], [true, false, false, true]],
      ];
      expect(await runWindows(device, params, gpu, ref, windows)).toEqual([]);
      expect((await gpu.stateDict()).state.map((s) => s.step)).toEqual([undefined, undefined, undefined, undefined]);
      gpu.destroy();
      params.destroy();
    });
  });

  test('a dict saved within a window (a tensor not yet written: null) goes through JSON into a fresh optimizer; the window and the next steps equal the twin', async () => {
    const { stateDictFromJSON, stateDictToJSON } = await import('../../src/index.js');
    await withDevice(async (device) => {
      const tensors = tensors4();
      const params = createParameterSet(device, tensors);
      const options = { lr: 0.01, weightDecay: 0.1, accumulation: { steps: K } };
      const gpu = createOptimizer('radam', params, options);
      const ref = createReferenceOptimizer('radam', tensors.map((t) => ({ ...t, data: t.data.slice() })), options);
      const micro = (opt: Optimizer<any>, set: ParameterSet, call: number, marks: readonly boolean[]) => {
        const grads = written(set, call, marks);
        set.writeGrads(grads);
        set.zeroGrad();
        set.markGradients(set.tensors.filter((_, i) => marks[i]).map((t) => t.name));
        opt.step();
        ref.step(grads.map((g, i) => (marks[i] ? g : null)));
      };
      const flat = MARKS.flat();
      // Two windows and one micro-batch of the next (window 3's first: t1 and t2 only).
      for (let c = 0; c < 2 * K + 1; c++) micro(gpu, params, c + 1, flat[c]!);
      const sd = await gpu.stateDict();
      expect(sd.accumulation?.grads.map((g) => g === null)).toEqual([true, false, false, true]);
      expect(stateDictToJSON(sd)).toBe(stateDictToJSON(ref.stateDict()));
      const restoredParams = createParameterSet(device, tensors.map((t) => ({ ...t, data: new Float32Array(t.data.length) })));
      restoredParams.write(await params.read());
      const restored = createOptimizer('radam', restoredParams, options);
      restored.loadStateDict(stateDictFromJSON(stateDictToJSON(sd)) as never);
      for (let c = 2 * K + 1; c < flat.length; c++) micro(restored, restoredParams, c + 1, flat[c]!);
      const { failures } = await compareWithReference(restored, restoredParams, ref, { atol: 0, rtol: 0 }, 'restored');
      expect(failures).toEqual([]);
      for (const o of [gpu, restored]) o.destroy();
      params.destroy();
      restoredParams.destroy();
    });
  });
});

describe('gradient control under the step rule: the statistics leave out the tensors without gradient', () => {
  // Clipping, the gradient norm and loss scaling that takes every step: the host knows each
  // tensor's count. An absent tensor's gradient region holds NaN, ±Inf and huge values (stale
  // gradients): any of it reaching the norms would make them NaN or move every clip coefficient.
  const STALE = [NaN, Infinity, -1e30, 3];
  const staleFor = (length: number) => Float32Array.from({ length }, (_, k) => STALE[k % STALE.length]!);
  const BIG = [70_000, 3, 130];
  const CASES = [
    ['adam', { lr: 0.01, gradClipping: { maxNorm: 0.5 } }, SIZES],
    ['adamw', { lr: 0.01, weightDecay: 0.1, gradClipping: { maxNorm: 0.3, normType: 'inf' } }, SIZES],
    ['sgd', { lr: 0.1, momentum: 0.9, gradClipping: { maxValue: 0.2 } }, SIZES],
    ['rmsprop', { lr: 0.01, gradClipping: { maxNorm: 0.5, perGroup: true }, groups: [{ tensors: ['t2'], lr: 0.03 }] }, SIZES],
    ['nadam', { lr: 0.01, computeGradNorm: true }, SIZES],
    ['adam', { lr: 0.01, lossScaling: { initScale: 64, dynamic: false }, skipNonFinite: false, gradClipping: { maxNorm: 1 } }, SIZES],
    ['radam', { lr: 0.01, lossScaling: { initScale: 8, growthInterval: 2 }, skipNonFinite: false }, SIZES],
    // Per-tensor sums (LAMB's trust ratio, the cautious mask's mean) over the controlled gradient.
    ['lamb', { lr: 0.01, weightDecay: 0.01, gradClipping: { maxNorm: 0.5 } }, SIZES],
    ['adam', { lr: 0.01, cautious: true, gradClipping: { maxValue: 0.2 } }, SIZES],
    // Prodigy's per-tensor sums (Σ g·(p0 − p), Σ|s|) over the controlled gradient; d and its companions.
    ['prodigy', { lr: 1, gradClipping: { maxNorm: 0.5 } }, SIZES],
    ['prodigy', { lr: 1, betas: [0, 0.999], gradClipping: { maxValue: 0.2 }, computeGradNorm: true }, SIZES],
    ['prodigy', { lr: 1, lossScaling: { initScale: 16, dynamic: false }, skipNonFinite: false }, SIZES],
    // 8-bit and 4-bit state: the per-tensor tiles read the controlled gradient.
    ['adam', { lr: 0.01, gradClipping: { maxNorm: 0.5 }, ...QUANTIZED('q8') }, SIZES],
    ['adamw', { lr: 0.01, gradClipping: { maxValue: 0.2 }, ...QUANTIZED('q4') }, SIZES],
    // Steps at the group's count (groupStepCount): every row at the device's count, no count per tensor.
    ['adamw_schedule_free', { lr: 0.01, warmupSteps: 2, gradClipping: { maxNorm: 0.5 } }, SIZES],
    // Over 1024 chunks: the tree of statistics passes (chunk partials, group partials, finalize).
    ['adam', { lr: 0.01, gradClipping: { maxNorm: 0.5 }, groups: [{ tensors: ['t1'], lr: 0.02 }] }, BIG],
  ] as const;
  test.each(CASES.map(([n, o, sizes]) => [`${n} ${JSON.stringify(o)} over ${sizes.join(', ')}`, n, o, sizes] as const))('%s', async (_l, name, options, sizes) => {
    await withDevice(async (device) => {
      const tensors = sizes.map((n, i) => ({ name: `t${i}`, data: randomArray(n, rng(31 + i)) }));
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer(name as 'adam', params, options as never);
      const ref = createReferenceOptimizer(name as 'adam', tensors.map((t) => ({ ...t, data: t.data.slice() })), options as never);
      const failures: string[] = [];
      for (const [s, present] of PRESENT.entries()) {
        const before = await Promise.all(tensors.map((_, i) => tensorBits(gpu, params, i)));
        params.writeGrads(params.tensors.map((t, i) => (present[i] ? gradFor(s + 1, i, t.length) : staleFor(t.length))));
        params.zeroGrad();
        params.markGradients(params.tensors.filter((_, i) => present[i]).map((t) => t.name));
        gpu.step();
        ref.step(tensors.map((t, i) => (present[i] ? gradFor(s + 1, i, t.data.length) : null)));
        for (const [i, has] of present.entries()) if (!has) expect(await tensorBits(gpu, params, i), `tensor ${i} at step ${s + 1}`).toEqual(before[i]);
        failures.push(...(await compareWithReference(gpu, params, ref, PARITY_TOLERANCE, `step ${s + 1}`)).failures);
        const control = await gpu.readControl();
        const twin = ref.control!;
        // A step with no gradient at all: the norm over no tensor is 0 (torch's clip_grad_norm_ of an empty list).
        if (present.every((p) => !p)) expect(control.totalNorm).toBe(0);
        expect(Number.isFinite(control.totalNorm), `norm at step ${s + 1}`).toBe(true);
        expect(Math.abs(control.totalNorm - twin.totalNorm), `norm at step ${s + 1}: gpu ${control.totalNorm} twin ${twin.totalNorm}`).toBeLessThanOrEqual(1e-6 * twin.totalNorm);
        expect([control.step, control.calls, control.lossScale, control.foundInf]).toEqual([twin.step, twin.calls, twin.lossScale, twin.foundInf]);
      }
      expect(failures).toEqual([]);
      const ownSteps = getDefinition(name).groupStepCount === undefined ? [3, 3, 2] : [undefined, undefined, undefined];
      expect((await gpu.stateDict()).state.map((t) => t.step)).toEqual(ownSteps);
      gpu.destroy();
      params.destroy();
    });
  });
});

describe('non-finite skipping under the step rule: the device counts the steps each tensor missed', () => {
  // Loss scaling skips a step with a NaN or ±Inf among the gradients that exist (GradScaler's
  // found_inf over the grads that are not None): then no tensor's count advances. For optimizers
  // whose step scalars do not depend on the count, the device's counts are the state dict's.
  const withInf = (step: number, i: number, length: number) => {
    const g = gradFor(step, i, length);
    if (step === 2 && i === 0) g[5] = Infinity;
    // An absent tensor's stale region: its Inf must not skip the step.
    if (step === 5 && i === 0) g[1] = -Infinity;
    return g;
  };
  test.each([
    ['rmsprop', { lr: 0.01, momentum: 0.9, lossScaling: { initScale: 64, growthInterval: 2 }, gradClipping: { maxNorm: 1 } }],
    ['lion', { lr: 0.01, weightDecay: 0.1, lossScaling: { initScale: 8 } }],
    ['adadelta', { lossScaling: { initScale: 16, dynamic: false }, skipNonFinite: true, groups: [{ tensors: ['t2'], lr: 0.5 }] }],
    ['rmsprop', { lr: 0.01, lossScaling: { initScale: 4 }, ...QUANTIZED('q8') }],
    ['lars', { lr: 0.1, weightDecay: 0.01, lossScaling: { initScale: 4 }, gradClipping: { maxNorm: 1 } }],
  ] as const)('%s %j: skipped steps count for no tensor; state dicts carry the device counts and load them back', async (name, options) => {
    await withDevice(async (device) => {
      const tensors = tensorsOf();
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer(name as 'adam', params, options as never);
      const ref = createReferenceOptimizer(name as 'adam', tensors.map((t) => ({ ...t, data: t.data.slice() })), options as never);
      const failures: string[] = [];
      const stepBoth = async (opt: Optimizer<any>, s: number, present: readonly boolean[]) => {
        const before = await Promise.all(tensors.map((_, i) => tensorBits(opt, params, i)));
        params.writeGrads(params.tensors.map((t, i) => withInf(s, i, t.length)));
        params.zeroGrad();
        params.markGradients(params.tensors.filter((_, i) => present[i]).map((t) => t.name));
        opt.step();
        ref.step(tensors.map((t, i) => (present[i] ? withInf(s, i, t.data.length) : null)));
        const skipped = ref.control!.skipped;
        for (const [i, has] of present.entries()) if (!has || skipped) expect(await tensorBits(opt, params, i), `tensor ${i} at step ${s}`).toEqual(before[i]);
        failures.push(...(await compareWithReference(opt, params, ref, PARITY_TOLERANCE, `step ${s}`)).failures);
        const control = await opt.readControl();
        expect([control.step, control.calls, control.lossScale, control.foundInf, control.skipped], `control at step ${s}`).toEqual([ref.control!.step, ref.control!.calls, ref.control!.lossScale, ref.control!.foundInf, skipped]);
      };
      for (const [s, present] of PRESENT.entries()) await stepBoth(gpu, s + 1, present);
      expect(failures).toEqual([]);
      // Step 1 taken by t0, t2; step 2 skipped (Inf in t0); step 3 none; step 4 all; step 5 t1 (t0's stale Inf ignored).
      expect(ref.stateDict().state.map((t) => t.step)).toEqual([2, 2, 2]);
      const sd = await gpu.stateDict();
      expect(sd.step).toBe(4);
      expect(sd.state.map((t) => t.step)).toEqual([2, 2, 2]);
      // Loaded into a fresh optimizer: its device counts continue from the dict's.
      const restored = createOptimizer(name as 'adam', params, options as never);
      restored.loadStateDict(sd);
      await stepBoth(restored, 6, [true, false, true]);
      expect(failures).toEqual([]);
      expect((await restored.stateDict()).state.map((t) => t.step)).toEqual([3, 2, 3]);
      expect(ref.stateDict().state.map((t) => t.step)).toEqual([3, 2, 3]);
      for (const o of [gpu, restored]) o.destroy();
      params.destroy();
    });
  });
});
