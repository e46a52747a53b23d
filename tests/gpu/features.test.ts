/**
 * GPU behaviour beyond plain parity: special gradient values, steps recorded into one encoder,
 * forced splitting by device limits, state dict round trips, param groups, bad input, and the
 * promise that step() creates no GPU object.
 */
import { describe, expect, test } from 'vitest';
import { createOptimizer, createParameterSet, createReferenceOptimizer, type Optimizer, type ParameterSet } from '../../src/index.js';
import { getDefinition } from '../../src/optimizers/registry.js';
import { namedTensors, randomArray, rng, SPECIAL_GRADIENTS } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { compareWithReference, runParity, stageGradients } from '../helpers/parity.js';
import { ODD_SIZES, PARITY_TOLERANCE, REGISTERED } from '../helpers/cases.js';
import { RECORDS, type TestOptimizerName } from '../helpers/records/index.js';

/** The option a group of its own sets in these suites: lr, or the one the record names (Prodigy: lr is global). */
const groupOption = (name: TestOptimizerName): string => RECORDS[name].groupOption ?? 'lr';

/** Bitwise identity (NaN equal to NaN): used where the same kernel does the same work twice. */

async function snapshot(opt: Optimizer<any>, params: ParameterSet) {
  return { params: await params.read(), state: (await opt.stateDict()).state };
}

function expectIdentical(a: Awaited<ReturnType<typeof snapshot>>, b: Awaited<ReturnType<typeof snapshot>>) {
  expect(a.params.length).toBe(b.params.length);
  a.params.forEach((p, i) => expect(Array.from(p)).toEqual(Array.from(b.params[i]!)));
  a.state.forEach((slots, i) => {
    expect(Object.keys(slots).sort()).toEqual(Object.keys(b.state[i]!).sort());
    for (const [slot, values] of Object.entries(slots)) expect(values).toEqual(b.state[i]![slot]);
  });
}

const gradFor = (step: number, i: number, length: number) => randomArray(length, rng(step * 7919 + i));

describe('special gradients (NaN, ±Inf, ±1e20, ±1e-30, ±0, 3.5e38, 1e-38)', () => {
  // Every registered optimizer, plainest and richest configuration (plus Nesterov and centered momentum).
  const variants: [string, Record<string, unknown>][] = [
    ...REGISTERED.flatMap(({ name, plain, rich }) => [[name, plain], [name, rich]] as [string, Record<string, unknown>][]),
    ['sgd', { lr: 0.1, momentum: 0.9, nesterov: true }],
    ['rmsprop', { centered: true, momentum: 0.9 }],
  ];
  test.each(variants.map(([n, o]) => [`${n} ${JSON.stringify(o)}`, n, o] as const))('%s', async (_l, name, options) => {
    await withDevice(async (device) => {
      const special = SPECIAL_GRADIENTS.length;
      const result = await runParity(device, {
        name,
        options,
        tensors: namedTensors([special * 3 + 1, 70], 3),
        steps: 4,
        checkAt: [1, 2, 4],
        // Tensor 0 cycles through the special values, shifted each step so each element sees several.
        grad: (step, i, length) =>
          i === 0 ? Float32Array.from({ length }, (_, k) => SPECIAL_GRADIENTS[(k + step) % special]!) : gradFor(step, i, length),
        tolerance: PARITY_TOLERANCE,
      });
      result.gpu.destroy();
      result.params.destroy();
      expect(result.failures).toEqual([]);
    });
  });
});

describe('steps recorded into one command encoder', () => {
  test.each(REGISTERED)('$name: 6 steps in one encoder, lr changed between them, equal one-by-one submits', async ({ name, rich }) => {
    await withDevice(async (device) => {
      // Shapes too: Adafactor factors the matrix and the 3-D tensor (the others ignore shapes).
      const shapes = [[5], [13, 10], [10, 10, 10]];
      const tensors = namedTensors([5, 130, 1000], 11).map((t, i) => ({ ...t, shape: shapes[i]! }));
      const options = rich;
      const lrs = [0.05, 0.02, 0.1, 0.001, 0.3, 0.07];
      // The hyperparameter changed between steps: lr, or eps where lr is fixed once started.
      const key = getDefinition(name).fixedOnceStarted?.includes('lr' as never) ? 'eps' : 'lr';
      const grads = lrs.map((_, s) => tensors.map((t, i) => gradFor(s + 1, i, t.data.length)));

      // One by one: write grads, step, submit, for each step.
      const pa = createParameterSet(device, tensors);
      const a = createOptimizer(name as 'adam', pa, options as never);
      for (const [s, lr] of lrs.entries()) {
        a.setHyperparameters({ [key]: lr });
        pa.writeGrads(grads[s]!);
        a.step();
      }
      // All in one encoder: gradients copied in from a staging buffer inside the encoder, so
      // every step sees its own gradients; stepsInFlight 2 forces the scalar ring to grow.
      const pb = createParameterSet(device, tensors);
      const b = createOptimizer(name as 'adam', pb, { ...options, stepsInFlight: 2 } as never);
      const staged = stageGradients(device, pb, grads);
      const encoder = device.createCommandEncoder({ label: 'test:multi-step' });
      for (const [s, lr] of lrs.entries()) {
        b.setHyperparameters({ [key]: lr });
        staged.record(encoder, s);
        b.step(encoder);
      }
      device.queue.submit([encoder.finish()]);

      expect(b.stepCount).toBe(lrs.length);
      expectIdentical(await snapshot(b, pb), await snapshot(a, pa));

      // And both equal the reference.
      const ref = createReferenceOptimizer(name as 'adam', tensors.map((t) => ({ name: t.name, shape: t.shape, data: t.data.slice() })), options as never);
      for (const [s, lr] of lrs.entries()) {
        ref.setHyperparameters({ [key]: lr });
        ref.step(grads[s]!);
      }
      const r = await compareWithReference(b, pb, ref, PARITY_TOLERANCE, 'one encoder');
      expect(r.failures).toEqual([]);
      staged.destroy();
      for (const x of [a, b, pa, pb]) x.destroy();
    });
  });
});

describe('work split by device limits', () => {
  test.each([
    ...REGISTERED.map(({ name, rich }) => [name, rich] as const),
    ['sgd', { lr: 0.1, momentum: 0.9, groups: [{ tensors: ['t1_3', 't5_1000'], lr: 0.01, momentum: 0 }] }],
  ] as const)('%s %j: tiny binding size and 2 workgroups per dimension equal unsplit', async (name, options) => {
    await withDevice(async (device) => {
      const tensors = namedTensors(ODD_SIZES, 5);
      // 32 KiB bindings (8192 elements) and 2 × 2 workgroups of 256 × 4 elements per dispatch:
      // 4096 elements per segment, so the 101 345 elements need 25 segments, each a 2-D dispatch.
      const split = await runParity(device, {
        name, options, tensors, steps: 3, checkAt: [3], grad: gradFor, tolerance: PARITY_TOLERANCE,
        setOptions: { limits: { maxStorageBufferBindingSize: 32 * 1024, maxComputeWorkgroupsPerDimension: 2 } },
      });
      expect(split.params.layout.segments.length).toBeGreaterThan(20);
      expect(split.params.layout.segments.every((s) => s.workgroupsX <= 2 && s.workgroupsY <= 2)).toBe(true);
      const whole = await runParity(device, { name, options, tensors, steps: 3, checkAt: [3], grad: gradFor, tolerance: PARITY_TOLERANCE });
      expect(whole.params.layout.segments.length).toBe(1);
      expect(split.failures).toEqual([]);
      expectIdentical(await snapshot(split.gpu, split.params), await snapshot(whole.gpu, whole.params));
      for (const r of [split, whole]) {
        r.gpu.destroy();
        r.params.destroy();
      }
    });
  });
});

describe('several vectors per invocation', () => {
  test.each(REGISTERED.map(({ name, rich }) => [name, rich] as const))('%s %j: 4, and 3 over split segments, equal 1 bit for bit', async (name, options) => {
    await withDevice(async (device) => {
      const tensors = namedTensors(ODD_SIZES, 5);
      const run = (setOptions: object) => runParity(device, { name, options, tensors, steps: 3, checkAt: [3], grad: gradFor, tolerance: PARITY_TOLERANCE, setOptions });
      const one = await run({});
      const four = await run({ vectorsPerInvocation: 4 });
      // 3 vectors of 32-invocation workgroups over 25 segments: every segment ends inside a workgroup.
      const split = await run({ vectorsPerInvocation: 3, workgroupSize: 32, limits: { maxStorageBufferBindingSize: 16 * 1024, maxComputeWorkgroupsPerDimension: 8 } });
      expect(split.params.layout.segments.length).toBeGreaterThan(20);
      for (const r of [one, four, split]) expect(r.failures).toEqual([]);
      const reference = await snapshot(one.gpu, one.params);
      expectIdentical(await snapshot(four.gpu, four.params), reference);
      expectIdentical(await snapshot(split.gpu, split.params), reference);
      for (const r of [one, four, split]) {
        r.gpu.destroy();
        r.params.destroy();
      }
    });
  });
});

describe('stateDict → new optimizer → loadStateDict', () => {
  test.each([
    ...REGISTERED.map(({ name, rich }) => [name, rich] as const),
    ['sgd', { lr: 0.1, momentum: 0.9, nesterov: true }],
    ['adagrad', { lrDecay: 0.1, initialAccumulatorValue: 0.2 }],
    ['adamw', { groups: [{ tensors: ['t0_1'], weightDecay: 0 }] }],
  ] as const)('%s %j continues identically', async (name, options) => {
    await withDevice(async (device) => {
      const tensors = namedTensors([1, 65, 300], 13);
      const pa = createParameterSet(device, tensors);
      const a = createOptimizer(name as 'adam', pa, options as never);
      for (let s = 1; s <= 6; s++) {
        pa.writeGrads(tensors.map((t, i) => gradFor(s, i, t.data.length)));
        a.step();
      }
      // Stop after 3 steps in a second run, save, restore into fresh objects, continue.
      const pb = createParameterSet(device, tensors);
      let b = createOptimizer(name as 'adam', pb, options as never);
      for (let s = 1; s <= 3; s++) {
        pb.writeGrads(tensors.map((t, i) => gradFor(s, i, t.data.length)));
        b.step();
      }
      const sd = await b.stateDict();
      const saved = await pb.read();
      b.destroy();
      pb.destroy();
      const pc = createParameterSet(device, tensors.map((t, i) => ({ name: t.name, data: saved[i]! })));
      b = createOptimizer(name as 'adam', pc, options as never);
      b.loadStateDict(sd);
      expect(b.stepCount).toBe(3);
      for (let s = 4; s <= 6; s++) {
        pc.writeGrads(tensors.map((t, i) => gradFor(s, i, t.data.length)));
        b.step();
      }
      expectIdentical(await snapshot(b, pc), await snapshot(a, pa));
      for (const x of [a, b, pa, pc]) x.destroy();
    });
  });
});

describe('param groups in one dispatch', () => {
  test.each([
    // Every registered optimizer: a group with its own lr (or the option its record names instead).
    ...REGISTERED.map(({ name, rich }) => [name, { ...rich, groups: [{ tensors: ['t1_3', 't4_65'], [groupOption(name)]: 0.003 }] }] as const),
    ['adam', { lr: 0.01, weightDecay: 0.1, groups: [{ tensors: ['t1_3', 't4_65'], lr: 0.1, weightDecay: 0, eps: 1e-3 }, { tensors: ['t6_100003'], betas: [0.5, 0.9] }] }],
    ['sgd', { lr: 0.1, momentum: 0.9, groups: [{ tensors: ['t0_1', 't2_63'], momentum: 0, weightDecay: 0.5 }, { tensors: ['t5_1000'], lr: 1, dampening: 0.3 }] }],
    ['rmsprop', { momentum: 0.9, groups: [{ tensors: ['t3_64'], momentum: 0, alpha: 0.5 }] }],
    ['adagrad', { groups: [{ tensors: ['t1_3'], initialAccumulatorValue: 1, lrDecay: 0.5 }] }],
  ] as const)('%s %j', async (name, options) => {
    await withDevice(async (device) => {
      const result = await runParity(device, {
        name, options, tensors: namedTensors(ODD_SIZES, 17), steps: 5, checkAt: [1, 5], grad: gradFor, tolerance: PARITY_TOLERANCE,
      });
      // Muon with AdamW beside it adds groups of role 'adamw' for the tensors AdamW takes.
      const added = result.gpu.groups.filter((g) => (g as { role?: string }).role === 'adamw').length;
      expect(result.gpu.groups.length - added).toBe(options.groups.length + 1);
      expect(result.failures).toEqual([]);
      // Change one group's lr (or its record's group option) between steps: still the reference's result, no new pipeline.
      const key = groupOption(name as TestOptimizerName);
      result.gpu.setHyperparameters({ [key]: 0.003 }, 1);
      result.ref.setHyperparameters({ [key]: 0.003 }, 1);
      const grads = result.params.tensors.map((t, i) => gradFor(99, i, t.length));
      result.params.writeGrads(grads);
      result.gpu.step();
      result.ref.step(grads);
      const r = await compareWithReference(result.gpu, result.params, result.ref, PARITY_TOLERANCE, 'after setHyperparameters');
      expect(r.failures).toEqual([]);
      result.gpu.destroy();
      result.params.destroy();
    });
  });
});

describe('step() creates nothing', () => {
  // Adam, LAMB with its per-tensor sums and Adafactor with its factored state (extra passes,
  // tables and scratch, all made at creation).
  test.each([
    ['adam', { amsgrad: true, groups: [{ tensors: ['t0_3'], lr: 0.1 }] }],
    ['lamb', { lr: 0.01, groups: [{ tensors: ['t0_3'], lr: 0.1 }] }],
    ['adafactor', { groups: [{ tensors: ['t0_3'], lr: 0.1 }] }],
  ] as const)('%s: no buffer, bind group, pipeline or shader is created after the first step, with or without an encoder', async (name, options) => {
    await withDevice(async (device) => {
      const tensors = namedTensors([3, 1000], 19).map((t, i) => ({ ...t, shape: [[3], [25, 40]][i]! }));
      const params = createParameterSet(device, tensors);
      const opt = createOptimizer(name, params, options);
      const created: string[] = [];
      const methods = ['createBuffer', 'createBindGroup', 'createBindGroupLayout', 'createPipelineLayout', 'createComputePipeline', 'createComputePipelineAsync', 'createShaderModule', 'createTexture'] as const;
      const originals = methods.map((m) => device[m]);
      methods.forEach((m, k) => {
        (device as any)[m] = (...args: unknown[]) => {
          created.push(m);
          return (originals[k] as (...a: unknown[]) => unknown).apply(device, args);
        };
      });
      try {
        for (let s = 0; s < 5; s++) {
          opt.setHyperparameters({ lr: 0.001 * (s + 1) });
          opt.step();
        }
        const encoder = device.createCommandEncoder({ label: 'test:no-create' });
        for (let s = 0; s < 5; s++) opt.step(encoder);
        device.queue.submit([encoder.finish()]);
      } finally {
        methods.forEach((m, k) => ((device as any)[m] = originals[k]));
      }
      expect(created).toEqual([]);
      // A second optimizer of the same variant reuses the cached pipeline.
      let pipelines = 0;
      const original = device.createComputePipeline;
      device.createComputePipeline = (d) => (pipelines++, original.call(device, d));
      const again = createOptimizer(name, params, options);
      device.createComputePipeline = original;
      expect(pipelines).toBe(0);
      for (const x of [opt, again, params]) x.destroy();
    });
  });
});

describe('bad input is refused and changes nothing', () => {
  test('gradient arrays, groups, hyperparameters, state dicts', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors([3, 70], 23);
      const params = createParameterSet(device, tensors);
      const opt = createOptimizer('adam', params, { lr: 0.01 });
      params.writeGrads(tensors.map((t, i) => gradFor(1, i, t.data.length)));
      opt.step();
      const before = await snapshot(opt, params);

      expect(() => params.writeGrads([new Float32Array(3)])).toThrow(/expected 2 gradients/);
      expect(() => params.writeGrads([new Float32Array(3), new Float32Array(69)])).toThrow(/has 69 elements/);
      expect(() => params.writeGrads([new Float32Array(3), [1, 2] as never])).toThrow(/must be a Float32Array/);
      expect(() => params.write([new Float32Array(4), new Float32Array(70)])).toThrow(/has 4 elements/);
      expect(() => createOptimizer('nadamw' as never, params)).toThrow(/unknown optimizer "nadamw"/);
      expect(() => createOptimizer('adam', params, { learningRate: 1 } as never)).toThrow(/unknown option "learningRate"/);
      expect(() => createOptimizer('adam', params, { lr: NaN })).toThrow(/lr must be a finite number/);
      expect(() => createOptimizer('adam', params, { groups: [{ tensors: ['nope'] }] })).toThrow(/unknown tensor "nope"/);
      expect(() => createOptimizer('adam', params, { groups: [{ tensors: ['t0_3'] }, { tensors: ['t0_3'] }] })).toThrow(/groups\[0\] and groups\[1\]/);
      expect(() => createOptimizer('adam', params, { groups: [{ tensors: ['t0_3'], amsgrad: true }] })).toThrow(/same in every group/);
      expect(() => opt.setHyperparameters({ lr: -1 })).toThrow(/lr must be >= 0/);
      expect(() => opt.setHyperparameters({ amsgrad: true })).toThrow(/same in every group|another kernel/);
      expect(() => opt.setHyperparameters({ eps: 1e-6 }, 3)).toThrow(/no group 3/);
      const sd = await opt.stateDict();
      expect(() => opt.loadStateDict({ ...sd, optimizer: 'adamw' })).toThrow(/belongs to optimizer "adamw"/);
      expect(() => opt.loadStateDict({ ...sd, state: [sd.state[0]!, { exp_avg: new Float32Array(70) }] })).toThrow(/has slots/);
      expect(() => opt.loadStateDict({ ...sd, state: [sd.state[0]!, { ...sd.state[1], exp_avg: new Float32Array(7) }] })).toThrow(/length 70/);
      expect(() => opt.loadStateDict({ ...sd, tensors: [sd.tensors[0]!] })).toThrow(/has 1 tensors/);
      expect(() => opt.loadStateDict({ ...sd, step: -1 })).toThrow(/not a count/);
      const other = createOptimizer('sgd', params, { lr: 0.1, momentum: 0.9 });
      expect(() => opt.loadStateDict((async () => 0) as never)).toThrow();
      other.destroy();

      expect(opt.stepCount).toBe(1);
      expect(opt.groups[0]!.lr).toBe(0.01);
      expectIdentical(await snapshot(opt, params), before);
      opt.destroy();
      expect(() => opt.step()).toThrow(/destroyed/);
      params.destroy();
    });
  });

  test('limits: overrides above the device and parameter sets over maxBufferSize', async () => {
    await withDevice(async (device) => {
      const t = [{ name: 'w', data: new Float32Array(10) }];
      expect(() => createParameterSet(device, t, { limits: { maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize * 2 } })).toThrow(/≤ the device's/);
      expect(() => createParameterSet(device, t, { limits: { maxBufferSize: 128 } })).toThrow(/over the device's maxBufferSize of 128/);
      expect(() => createParameterSet(device, t, { workgroupSize: 100000 })).toThrow(/workgroupSize/);
      expect(() => createParameterSet(device, [{ name: 'w', data: new Float32Array(1) }, { name: 'w', data: new Float32Array(1) }])).toThrow(/used twice/);
    });
  });

  test('empty tensors are allowed and untouched', async () => {
    await withDevice(async (device) => {
      const result = await runParity(device, {
        name: 'adam', options: {}, tensors: [{ name: 'e', data: new Float32Array(0) }, ...namedTensors([5], 29)],
        steps: 2, checkAt: [2], grad: gradFor, tolerance: PARITY_TOLERANCE,
      });
      expect(result.failures).toEqual([]);
      expect(result.params.tensors.map((t) => t.offset)).toEqual([0, 0]);
      result.gpu.destroy();
      result.params.destroy();
    });
  });
});
