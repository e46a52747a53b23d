/**
 * The reliability contract, clause "a call does what it says or throws a clear error before
 * changing anything": every bad input and misuse below must throw a message naming the argument
 * (and the bad value), leave parameters, gradients, state, counts, the scaler, the accumulator
 * and the live GPU buffers exactly as they were, and the next valid step must still equal the
 * CPU reference. The fixture has every training feature on (loss scaling, clipping,
 * accumulation, a schedule, two groups) so each misuse meets the whole engine.
 */
import { describe, expect, test } from 'vitest';
import { createOptimizer, createParameterSet, createReferenceOptimizer, type OptimizerStateDict } from '../../src/index.js';
import { getDefinition } from '../../src/optimizers/registry.js';
import { REGISTERED } from '../helpers/cases.js';
import { withDevice } from '../helpers/gpu.js';
import { disposeFixture, expectUnchangedAndUsable, FIXTURE_OPTIONS, makeFixture, snapshot, type Fixture } from '../helpers/reliability.js';

type Misuse = [label: string, call: (f: Fixture, sd: OptimizerStateDict<any>) => unknown, message: RegExp];

const t5 = () => [{ name: 'a', data: new Float32Array(5) }];
const withOptions = (f: Fixture, extra: Record<string, unknown>) => createOptimizer('adam', f.params, { ...FIXTURE_OPTIONS, ...extra } as never);
const withSd = (f: Fixture, sd: OptimizerStateDict<any>, change: Record<string, unknown>) => f.opt.loadStateDict({ ...sd, ...change } as never);

const MISUSES: Misuse[] = [
  // createParameterSet
  ['createParameterSet without a device', () => createParameterSet({} as never, t5()), /needs a GPUDevice/],
  ['createParameterSet tensors not an array', (f) => createParameterSet(f.device, 'w' as never), /tensors must be an array/],
  ['createParameterSet data not a Float32Array', (f) => createParameterSet(f.device, [{ name: 'a', data: [1, 2] as never }]), /tensors\[0\]\.data must be a Float32Array/],
  ['createParameterSet duplicate names', (f) => createParameterSet(f.device, [...t5(), ...t5()]), /"a" is used twice/],
  ['createParameterSet empty name', (f) => createParameterSet(f.device, [{ name: '', data: new Float32Array(1) }]), /non-empty string name/],
  ['createParameterSet options a number', (f) => createParameterSet(f.device, t5(), 5 as never), /options must be an object, got 5/],
  ['createParameterSet unknown option', (f) => createParameterSet(f.device, t5(), { lable: 'x' } as never), /unknown createParameterSet option "lable"/],
  ['createParameterSet workgroupSize 0', (f) => createParameterSet(f.device, t5(), { workgroupSize: 0 }), /workgroupSize 0 must be/],
  ['createParameterSet shape [2, 3] for 5 values', (f) => createParameterSet(f.device, [{ name: 'a', data: new Float32Array(5), shape: [2, 3] }]), /tensor "a" has shape \[2, 3\] \(6 elements\) but 5 values/],
  ['createReferenceOptimizer shape [4] for 5 values', () => createReferenceOptimizer('adam', [{ name: 'a', data: new Float32Array(5), shape: [4] }]), /tensor "a" has shape \[4\] \(4 elements\) but 5 values/],
  ['createParameterSet vectorsPerInvocation 0', (f) => createParameterSet(f.device, t5(), { vectorsPerInvocation: 0 }), /vectorsPerInvocation 0 must be an integer from 1 to 16/],
  ['createParameterSet vectorsPerInvocation 17', (f) => createParameterSet(f.device, t5(), { vectorsPerInvocation: 17 }), /vectorsPerInvocation 17 must be/],
  ['createParameterSet vectorsPerInvocation 1.5', (f) => createParameterSet(f.device, t5(), { vectorsPerInvocation: 1.5 }), /vectorsPerInvocation 1.5 must be/],
  ['createParameterSet limits above the device', (f) => createParameterSet(f.device, t5(), { limits: { maxBufferSize: 2 ** 60 } }), /limits\.maxBufferSize must be .*≤ the device's/],
  ['createParameterSet shape [2^40, 0]', (f) => createParameterSet(f.device, [{ name: 'e', data: new Float32Array(0), shape: [2 ** 40, 0] }]), /tensor "e" of shape \[1099511627776, 0\]: dimension 0 \(1099511627776\) is over the \d+ elements one buffer of this device holds \(maxBufferSize \d+\)/],
  ['createParameterSet shape [2, 2^33, 0]', (f) => createParameterSet(f.device, [{ name: 'e', data: new Float32Array(0), shape: [2, 2 ** 33, 0] }]), /tensor "e" of shape \[2, 8589934592, 0\]: dimension 1 \(8589934592\) is over/],
  ['createParameterSet unknown limit', (f) => createParameterSet(f.device, t5(), { limits: { maxThreads: 4 } as never }), /unknown limit "maxThreads"/],
  // createOptimizer
  ['createOptimizer unknown optimizer', (f) => createOptimizer('nadamw' as never, f.params), /unknown optimizer "nadamw"/],
  ['createOptimizer without a parameter set', () => createOptimizer('adam', {} as never), /needs a ParameterSet from createParameterSet/],
  ['createOptimizer options a number (lr dropped)', (f) => createOptimizer('adam', f.params, 0.01 as never), /options must be an object, got 0\.01/],
  ['createOptimizer options an array', (f) => createOptimizer('adam', f.params, [] as never), /options must be an object, got \[\] \(an array\)/],
  ['createOptimizer unknown option', (f) => withOptions(f, { learningRate: 1 }), /unknown option "learningRate"/],
  ['lr NaN', (f) => withOptions(f, { lr: NaN }), /lr must be a finite number, got NaN/],
  ['lr overflowing float32', (f) => withOptions(f, { lr: 1e39 }), /lr = 1e\+39 overflows float32/],
  ['eps negative', (f) => withOptions(f, { eps: -1 }), /eps must be >= 0, got -1/],
  ['betas[0] = 1', (f) => withOptions(f, { betas: [1, 0.999] }), /betas\[0\] must be in \[0, 1\), got 1/],
  ['betas not a pair', (f) => withOptions(f, { betas: [0.9] }), /betas must be a pair/],
  ['amsgrad not a boolean', (f) => withOptions(f, { amsgrad: 'yes' }), /amsgrad must be a boolean, got "yes" \(a string\)/],
  ['groups not an array', (f) => withOptions(f, { groups: {} }), /groups must be an array/],
  ['group without tensors', (f) => withOptions(f, { groups: [{ lr: 1 }] }), /groups\[0\] needs a "tensors" array/],
  ['group with an unknown tensor', (f) => withOptions(f, { groups: [{ tensors: ['nope'] }] }), /groups\[0\] names unknown tensor "nope"/],
  ['tensor in two groups', (f) => withOptions(f, { groups: [{ tensors: ['t0_5'] }, { tensors: [0] }] }), /"t0_5" is in groups\[0\] and groups\[1\]/],
  ['kernel option differs between groups', (f) => withOptions(f, { groups: [{ tensors: ['t0_5'], amsgrad: true }] }), /"amsgrad" chooses the kernel/],
  ['unknown option in a group', (f) => withOptions(f, { groups: [{ tensors: ['t0_5'], gamma: 1 }] }), /unknown option "gamma" in groups\[0\]/],
  ['stepsInFlight 1e9', (f) => withOptions(f, { stepsInFlight: 1e9 }), /stepsInFlight must be an integer in \[1, 4096\], got 1000000000/],
  ['stepsInFlight 0', (f) => withOptions(f, { stepsInFlight: 0 }), /stepsInFlight must be an integer in \[1, 4096\], got 0/],
  ['accumulation: 4', (f) => withOptions(f, { accumulation: 4 }), /accumulation must be an object, got 4/],
  ['accumulation typo avg', (f) => withOptions(f, { accumulation: { steps: 2, avg: true } }), /unknown accumulation option "avg"/],
  ['accumulation steps 0', (f) => withOptions(f, { accumulation: { steps: 0 } }), /accumulation\.steps must be an integer in \[1, 16777216\], got 0/],
  ['accumulation without steps', (f) => withOptions(f, { accumulation: { average: true } }), /accumulation\.steps is required/],
  ['accumulation average not a boolean', (f) => withOptions(f, { accumulation: { steps: 2, average: 1 } }), /accumulation\.average must be a boolean, got 1/],
  ['lossScaling dynamic "no"', (f) => withOptions(f, { lossScaling: { dynamic: 'no' } }), /lossScaling\.dynamic must be a boolean, got "no"/],
  ['lossScaling initScale 1e39', (f) => withOptions(f, { lossScaling: { initScale: 1e39 } }), /lossScaling\.initScale = 1e\+39 overflows float32/],
  ['lossScaling initScale 0', (f) => withOptions(f, { lossScaling: { initScale: 0 } }), /lossScaling\.initScale must be a finite number > 0, got 0/],
  ['lossScaling growthInterval 1.5', (f) => withOptions(f, { lossScaling: { growthInterval: 1.5 } }), /lossScaling\.growthInterval must be an integer/],
  ['lossScaling backoffFactor 2', (f) => withOptions(f, { lossScaling: { backoffFactor: 2 } }), /lossScaling\.backoffFactor must be < 1, got 2/],
  ['lossScaling "on"', (f) => withOptions(f, { lossScaling: 'on' }), /lossScaling must be true, false or an object, got "on"/],
  ['lossScaling unknown key', (f) => withOptions(f, { lossScaling: { scale: 2 } }), /unknown lossScaling option "scale"/],
  ['gradClipping maxNorm -1', (f) => withOptions(f, { gradClipping: { maxNorm: -1 } }), /gradClipping\.maxNorm must be a finite number > 0, got -1/],
  ['gradClipping unknown key', (f) => withOptions(f, { gradClipping: { max: 1 } }), /unknown gradClipping option "max"/],
  ['gradClipping normType 1', (f) => withOptions(f, { gradClipping: { normType: 1 } }), /normType must be 2 or 'inf', got 1/],
  ['gradClipping perGroup "yes"', (f) => withOptions(f, { gradClipping: { perGroup: 'yes' } }), /gradClipping\.perGroup must be a boolean/],
  ['gradClipping a number', (f) => withOptions(f, { gradClipping: 5 }), /gradClipping must be an object, got 5/],
  ['skipNonFinite 1', (f) => withOptions(f, { skipNonFinite: 1 }), /skipNonFinite must be a boolean, got 1/],
  ['computeGradNorm "yes"', (f) => withOptions(f, { computeGradNorm: 'yes' }), /computeGradNorm must be a boolean/],
  ['lrSchedule a number', (f) => withOptions(f, { lrSchedule: 0.1 }), /lrSchedule must be a function/],
  // step
  ['step({})', (f) => f.opt.step({} as never), /step takes a GPUCommandEncoder or nothing, got \{\} \(an object\)$/],
  ['step(42)', (f) => f.opt.step(42 as never), /step takes a GPUCommandEncoder or nothing, got 42$/],
  ['step options with an unknown key', (f) => f.opt.step(undefined, { timestamp: 1 } as never), /unknown step option "timestamp"/],
  ['step options a number', (f) => f.opt.step(undefined, 5 as never), /options must be an object, got 5/],
  // setHyperparameters / setLrSchedule / groups
  ['setHyperparameters(5)', (f) => f.opt.setHyperparameters(5 as never), /setHyperparameters' argument must be an object, got 5/],
  ['setHyperparameters unknown key', (f) => f.opt.setHyperparameters({ beta1: 0.5 } as never), /unknown option "beta1" in setHyperparameters/],
  ['setHyperparameters lr -1', (f) => f.opt.setHyperparameters({ lr: -1 }), /lr must be >= 0, got -1/],
  ['setHyperparameters lr 1e39', (f) => f.opt.setHyperparameters({ lr: 1e39 }), /overflows float32/],
  ['setHyperparameters needing another kernel', (f) => f.opt.setHyperparameters({ amsgrad: true }), /another kernel variant|chooses the kernel/],
  ['setHyperparameters group 3', (f) => f.opt.setHyperparameters({ eps: 1e-6 }, 3), /no group 3 \(there are 2\)/],
  ['setHyperparameters one bad group of two', (f) => f.opt.setHyperparameters({ betas: [0.9, 1] }, 1), /betas\[1\] must be in \[0, 1\), got 1/],
  ['groups[0].lr = NaN', (f) => ((f.opt.groups[0] as { lr: number }).lr = NaN), /read.only|Cannot assign/],
  ['groups[1].betas[0] = 0.5', (f) => (((f.opt.groups[1] as { betas: number[] }).betas[0] = 0.5)), /read.only|Cannot assign/],
  ['eval() on an optimizer without modes', (f) => f.opt.eval(), /adam has no train\/eval modes/],
  ['train() on an optimizer without modes', (f) => f.opt.train(), /adam has no train\/eval modes/],
  ['setLrSchedule(5)', (f) => f.opt.setLrSchedule(5 as never), /the lr schedule must be a function \(t, baseLr\) => lr, got 5/],
  // loadStateDict
  ['loadStateDict(42)', (f) => f.opt.loadStateDict(42 as never), /cannot load this state dict: the state dict must be an object, got 42/],
  ['loadStateDict(stateDict()): a forgotten await', (f) => f.opt.loadStateDict(f.opt.stateDict() as never), /cannot load this state dict: the state dict is a Promise: did you forget await\?/],
  ['loadStateDict({})', (f) => f.opt.loadStateDict({} as never), /cannot load this state dict: it names no optimizer \("optimizer" is undefined\)/],
  ['loadStateDict of another optimizer', (f, sd) => withSd(f, sd, { optimizer: 'adamw' }), /it belongs to optimizer "adamw", not adam/],
  ['loadStateDict with one tensor too few', (f, sd) => withSd(f, sd, { tensors: [sd.tensors[0]] }), /it has 1 tensors, this optimizer 2/],
  ['loadStateDict of another tensor name', (f, sd) => withSd(f, sd, { tensors: [{ name: 'x', length: 5 }, sd.tensors[1]] }), /tensor 0 is "x" of length 5, expected "t0_5"/],
  ['loadStateDict of another tensor shape', (f, sd) => withSd(f, sd, { tensors: [{ ...sd.tensors[0], shape: [5, 1] }, sd.tensors[1]] }), /tensor 0 \("t0_5"\) has shape \[5,1\], this optimizer's is \[5\]/],
  ['loadStateDict step -1', (f, sd) => withSd(f, sd, { step: -1 }), /step -1 is not a count/],
  ['loadStateDict step 1.5', (f, sd) => withSd(f, sd, { step: 1.5 }), /step 1\.5 is not a count/],
  ['loadStateDict step 2^53', (f, sd) => withSd(f, sd, { step: 2 ** 53, stepCalls: 2 ** 53 }), /step 9007199254740992 is not a count/],
  ['loadStateDict stepCalls below step', (f, sd) => withSd(f, sd, { step: 5, stepCalls: 4 }), /stepCalls 4 must be a count ≥ step \(5\)/],
  ['loadStateDict scaler scale NaN', (f, sd) => withSd(f, sd, { scaler: { scale: NaN, growthTracker: 0 } }), /scaler\.scale NaN must be a finite float32 > 0/],
  ['loadStateDict scaler scale 0', (f, sd) => withSd(f, sd, { scaler: { scale: 0, growthTracker: 0 } }), /scaler\.scale 0 must be a finite float32 > 0/],
  ['loadStateDict scaler scale -8', (f, sd) => withSd(f, sd, { scaler: { scale: -8, growthTracker: 0 } }), /scaler\.scale -8 must be a finite float32 > 0/],
  ['loadStateDict scaler growthTracker 1.5', (f, sd) => withSd(f, sd, { scaler: { scale: 8, growthTracker: 1.5 } }), /scaler\.growthTracker 1\.5 must be an integer/],
  ['loadStateDict without a scaler (lossScaling on)', (f, sd) => withSd(f, sd, { scaler: undefined }), /it holds no loss-scaler state \(scaler\) but this optimizer has lossScaling/],
  ['loadStateDict with a missing slot', (f, sd) => withSd(f, sd, { state: [sd.state[0], { exp_avg: sd.state[1]!.exp_avg }] }), /tensor "t1_70" has slots \[exp_avg\], expected \[exp_avg,exp_avg_sq\]/],
  ['loadStateDict slot of the wrong length', (f, sd) => withSd(f, sd, { state: [sd.state[0], { ...sd.state[1], exp_avg: new Float32Array(7) }] }), /state\[1\]\.exp_avg must be a Float32Array of length 70/],
  ['loadStateDict slot as a plain array', (f, sd) => withSd(f, sd, { state: [sd.state[0], { ...sd.state[1], exp_avg: Array(70).fill(0) }] }), /state\[1\]\.exp_avg must be a Float32Array/],
  [
    'loadStateDict with other group membership',
    (f, sd) => withSd(f, sd, { options: { groups: [{ ...sd.options.groups[0], tensors: ['t1_70'] }, { ...sd.options.groups[1], tensors: ['t0_5'] }] } }),
    /its groups hold other tensors/,
  ],
  ['loadStateDict needing another kernel', (f, sd) => withSd(f, sd, { options: { groups: sd.options.groups.map((g) => ({ ...g, amsgrad: true })) } }), /another kernel variant/],
  ['loadStateDict with a bad hyperparameter', (f, sd) => withSd(f, sd, { options: { groups: sd.options.groups.map((g) => ({ ...g, lr: NaN })) } }), /lr must be a finite number, got NaN/],
  ['loadStateDict of another format', (f, sd) => withSd(f, sd, { format: 'torch' }), /its format is "torch"/],
  ['loadStateDict of version 2', (f, sd) => withSd(f, sd, { version: 2 }), /it is version 2; this library reads version 1/],
  ['loadStateDict accumulation microSteps 2 of 2', (f, sd) => withSd(f, sd, { accumulation: { microSteps: 2, grads: sd.accumulation!.grads } }), /accumulation\.microSteps 2 must be an integer in \[1, 1\]/],
  ['loadStateDict accumulation grads of the wrong length', (f, sd) => withSd(f, sd, { accumulation: { microSteps: 1, grads: [new Float32Array(5)] } }), /accumulation\.grads must hold one array per tensor \(2\)/],
  // the parameter set
  ['writeGrads of one tensor', (f) => f.params.writeGrads([new Float32Array(5)]), /expected 2 gradients \(one per tensor, in order\), got 1/],
  ['writeGrads of the wrong length', (f) => f.params.writeGrads([new Float32Array(5), new Float32Array(69)]), /gradients\[1\] \("t1_70"\) has 69 elements, the tensor has 70/],
  ['writeGrads of a Float64Array', (f) => f.params.writeGrads([new Float32Array(5), new Float64Array(70) as never]), /gradients\[1\] \("t1_70"\) must be a Float32Array/],
  ['write of the wrong length', (f) => f.params.write([new Float32Array(4), new Float32Array(70)]), /params\[0\] \("t0_5"\) has 4 elements/],
  ['zeroGrads({})', (f) => f.params.zeroGrads({} as never), /zeroGrads takes a GPUCommandEncoder or nothing/],
];

describe('every misuse throws a clear error and changes nothing', () => {
  test(`the suite covers ${MISUSES.length} misuses`, () => {
    expect(MISUSES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(MISUSES.map(([label]) => label)).size).toBe(MISUSES.length);
  });

  test.each(MISUSES)('%s', async (_label, call, message) => {
    await withDevice(async (device) => {
      const f = await makeFixture(device);
      const sd = await f.opt.stateDict();
      const before = await snapshot(f);
      expect(() => call(f, sd)).toThrow(message);
      await expectUnchangedAndUsable(f, before);
      disposeFixture(f);
    });
  });
});

describe('misuses with another fixture or an async answer', () => {
  test('step into an encoder that was already finished', async () => {
    await withDevice(async (device) => {
      const f = await makeFixture(device);
      const encoder = device.createCommandEncoder({ label: 'test:finished' });
      f.opt.step(encoder); // the 4th call: an update
      f.ref.step(f.grads(3));
      device.queue.submit([encoder.finish()]);
      const before = await snapshot(f);
      expect(() => f.opt.step(encoder)).toThrow(/this command encoder \("test:finished"\) was already finished; record into a new encoder/);
      await expectUnchangedAndUsable(f, before);
      disposeFixture(f);
    });
  });

  test.each([
    ['NaN', (): number => NaN, /the lr schedule returned NaN at step 1; it must be a number >= 0, finite in float32/],
    ['1e39', (): number => 1e39, /the lr schedule returned 1e\+39 at step 1/],
    ['-1', (): number => -1, /the lr schedule returned -1 at step 1/],
  ] as const)('a schedule returning %s throws before anything is recorded', async (_label, schedule, message) => {
    await withDevice(async (device) => {
      const f = await makeFixture(device);
      const before = await snapshot(f);
      f.opt.setLrSchedule(schedule);
      expect(() => f.opt.step()).toThrow(message); // the 4th call is an update: the schedule runs first
      f.opt.setLrSchedule(FIXTURE_OPTIONS.lrSchedule);
      await expectUnchangedAndUsable(f, before);
      disposeFixture(f);
    });
  });

  test('a loss-scaler state loaded into an optimizer without lossScaling', async () => {
    await withDevice(async (device) => {
      const f = await makeFixture(device, 'sgd', { lr: 0.1, momentum: 0.9 });
      const sd = await f.opt.stateDict();
      const before = await snapshot(f);
      expect(() => f.opt.loadStateDict({ ...sd, scaler: { scale: 8, growthTracker: 0 } })).toThrow(/it holds a loss-scaler state but this optimizer has no lossScaling/);
      await expectUnchangedAndUsable(f, before);
      disposeFixture(f);
    });
  });

  test('Adafactor over a 0-element tensor of as many rows as a buffer holds: refused before its per-row table is built, naming the tensor, shape and limit', async () => {
    await withDevice(async (device) => {
      const rows = Math.floor(device.limits.maxBufferSize / 4);
      const params = createParameterSet(device, [{ name: 'e', data: new Float32Array(0), shape: [rows, 0] }, { name: 'w', data: new Float32Array(4) }]);
      expect(() => createOptimizer('adafactor', params)).toThrow(
        new RegExp(`adafactor: tensor "e" of shape \\[${rows}, 0\\] needs a factor table of ${rows * 32 + 16} bytes \\(32 per row and per column, 16 per matrix\\), over the device's maxStorageBufferBindingSize \\(${device.limits.maxStorageBufferBindingSize}\\)`),
      );
      params.destroy();
    });
  });

  test('the CPU reference refuses a dict without a scaler when it scales the loss, as the GPU path does', () => {
    const tensors = () => [{ name: 'w', data: new Float32Array(4).fill(1) }];
    const ref = createReferenceOptimizer('adam', tensors(), { lossScaling: true });
    const plain = createReferenceOptimizer('adam', tensors());
    ref.step([new Float32Array(4).fill(0.5)]);
    const before = ref.stateDict();
    expect(() => ref.loadStateDict(plain.stateDict() as never)).toThrow(/it holds no loss-scaler state \(scaler\) but this optimizer has lossScaling/);
    expect(ref.stateDict()).toEqual(before);
  });

  test('the CPU reference refuses a dimension no table can index', () => {
    expect(() => createReferenceOptimizer('adafactor', [{ name: 'e', data: new Float32Array(0), shape: [2 ** 40, 0] }])).toThrow(
      /tensor "e" has shape \[1099511627776,0\]; dimension 0 \(1099511627776\) is over 4294967295/,
    );
  });

  test('reads without the control path reject with a reason', async () => {
    await withDevice(async (device) => {
      const f = await makeFixture(device, 'adam', { lr: 0.01 });
      const before = await snapshot(f);
      await expect(f.opt.getLastGradNorm()).rejects.toThrow(/gradient norms are computed only with gradClipping/);
      await expect(f.opt.getLossScale()).rejects.toThrow(/no lossScaling configured/);
      await expect(f.opt.readControl()).rejects.toThrow(/no control path/);
      await expectUnchangedAndUsable(f, before);
      disposeFixture(f);
    });
  });

  test('the CPU reference refuses duplicate tensor names, as the GPU path does', () => {
    const two = [{ name: 'w', data: new Float32Array(2) }, { name: 'w', data: new Float32Array(2) }];
    expect(() => createReferenceOptimizer('adam', two)).toThrow(/"w" is used twice/);
  });
});

describe('every registered optimizer refuses bad values of each of its options, and changes nothing', () => {
  test.each(REGISTERED)('$name', async ({ name, rich }) => {
    await withDevice(async (device) => {
      const options = { ...rich, lossScaling: { initScale: 256 }, accumulation: { steps: 2 } };
      const f = await makeFixture(device, name, options);
      const before = await snapshot(f);
      const definition = getDefinition(name);
      for (const key of Object.keys(definition.checks)) {
        const message = new RegExp(`${name}: ${key.replace(/[[\]]/g, '\\$&')}.* (must|overflows)`);
        expect(() => f.opt.setHyperparameters({ [key]: NaN }), key).toThrow(message);
        expect(() => createOptimizer(name as never, f.params, { ...options, [key]: 'x' } as never), key).toThrow(message);
      }
      expect(() => f.opt.setHyperparameters({ notAnOption: 1 } as never)).toThrow(new RegExp(`${name}: unknown option "notAnOption"`));
      expect(() => f.opt.step(42 as never)).toThrow(/takes a GPUCommandEncoder or nothing/);
      const other = createReferenceOptimizer(name === 'adam' ? 'sgd' : 'adam', f.params.tensors.map((t) => ({ name: t.name, data: new Float32Array(t.length) })), { lr: 0.1 });
      expect(() => f.opt.loadStateDict(other.stateDict() as never)).toThrow(/it belongs to optimizer/);
      await expectUnchangedAndUsable(f, before);
      disposeFixture(f);
    });
  });
});
