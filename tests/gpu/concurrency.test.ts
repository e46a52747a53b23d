/**
 * The reliability contract's concurrency clauses (README, "Concurrency"): the async API behaves as
 * if run in call order or refuses with a clear error, and what the API cannot check up front
 * (an encoder finished before the optimizer saw it) never leaves a wrong count behind.
 */
import { describe, expect, test } from 'vitest';
import { createOptimizer, createParameterSet, requestOptimizerDevice } from '../../src/index.js';
import { namedTensors } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { disposeFixture, expectUnchangedAndUsable, FIXTURE_OPTIONS, makeFixture, snapshot } from '../helpers/reliability.js';

describe('what step() and train()/eval() cannot check up front leaves no wrong count', () => {
  test('a stateDict() right after a step into an encoder finished before the optimizer saw it rejects (no step claimed)', async () => {
    await withDevice(async (device) => {
      const f = await makeFixture(device);
      const encoder = device.createCommandEncoder({ label: 'test:finished-early' });
      encoder.finish();
      f.opt.step(encoder); // the 4th call: an update, refused by the GPU asynchronously
      await expect(f.opt.stateDict()).rejects.toThrow(/refuses further use: the GPU refused step 2's commands/);
      await expect(f.opt.stateDict({ dequantize: true })).rejects.toThrow(/refuses further use/);
      disposeFixture(f);
    });
  });

  test.each(['eval', 'train'] as const)('Schedule-Free %s() into an encoder finished early: the mode is not switched, later calls refuse', async (to) => {
    await withDevice(async (device) => {
      const tensors = namedTensors([5, 70], 7);
      const params = createParameterSet(device, tensors);
      const opt = createOptimizer('adamw_schedule_free', params, { lr: 0.01 });
      params.writeGrads(tensors.map((t) => new Float32Array(t.data.length).fill(0.5)));
      opt.step();
      if (to === 'train') opt.eval();
      const saved = await opt.stateDict();
      const from = opt.mode;
      const encoder = device.createCommandEncoder({ label: 'test:finished-early' });
      encoder.finish();
      if (to === 'eval') opt.eval(encoder);
      else opt.train(encoder);
      await expect(opt.stateDict()).rejects.toThrow(new RegExp(`refuses further use: the GPU refused the switch to ${to}`));
      expect(opt.mode).toBe(from);
      expect(() => opt.step()).toThrow(/refuses further use/);
      opt.loadStateDict(saved);
      expect(await opt.stateDict()).toEqual(saved);
      opt.destroy();
      params.destroy();
    });
  });

  const GARBAGE: [string, unknown, RegExp][] = [
    ['a number', 5, /timestampWrites must be an object/],
    ['without a querySet', {}, /timestampWrites\.querySet must be a GPUQuerySet, got undefined/],
    ['querySet a number', { querySet: 5 }, /timestampWrites\.querySet must be a GPUQuerySet, got 5$/],
    ['an unknown key', { querySet: 'later', beginIndex: 0 }, /unknown timestampWrites key "beginIndex"/],
    ['an occlusion query set', { querySet: 'occlusion', beginningOfPassWriteIndex: 0 }, /timestampWrites\.querySet is of type "occlusion", not "timestamp"/],
  ];

  test.each(GARBAGE)('step(encoder, { timestampWrites: %s }) throws before anything is recorded or counted', async (_label, garbage, message) => {
    await withDevice(async (device) => {
      const f = await makeFixture(device);
      const before = await snapshot(f);
      const querySet = device.createQuerySet({ label: 'test:occlusion', type: 'occlusion', count: 2 });
      const timestampWrites = garbage && typeof garbage === 'object' && 'querySet' in garbage && typeof garbage.querySet === 'string' ? { ...garbage, querySet } : garbage;
      const encoder = device.createCommandEncoder({ label: 'test:user' });
      expect(() => f.opt.step(encoder, { timestampWrites } as never)).toThrow(message);
      device.queue.submit([encoder.finish()]); // what a caller does next: nothing of the refused step may be in it
      querySet.destroy();
      await expectUnchangedAndUsable(f, before);
      disposeFixture(f);
    });
  });
});

describe('the async API behaves as if run in call order', () => {
  const CONTROL_PATHS: [string, Record<string, unknown>][] = [
    ['loss scaling, clipping, accumulation', FIXTURE_OPTIONS],
    ['q8 state with clipping', { lr: 0.01, gradClipping: { maxNorm: 50 }, accumulation: { steps: 2 }, stateFormat: 'q8', quantization: { minQuantizedElements: 64, blockSize: 64 } }],
  ];

  test.each(CONTROL_PATHS)('a step() issued while stateDict() is pending does not leak into the dict (%s)', async (_label, options) => {
    await withDevice(async (device) => {
      const f = await makeFixture(device, 'adam', options);
      f.params.writeGrads(f.grads(4));
      f.opt.step(); // the 4th call: an update, so the next is a micro-step and the one after an update
      const expected = await f.opt.stateDict();
      const pending = f.opt.stateDict();
      f.opt.setHyperparameters({ lr: 0.5 });
      for (const call of [5, 6]) {
        f.params.writeGrads(f.grads(call));
        f.opt.step();
      }
      expect(await pending).toEqual(expected);
      disposeFixture(f);
    });
  });

  test('an eval() issued while stateDict() is pending does not change the dict\'s mode', async () => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, namedTensors([5, 70], 9));
      const opt = createOptimizer('adamw_schedule_free', params, { lr: 0.01, gradClipping: { maxNorm: 1 } });
      opt.step();
      const expected = await opt.stateDict();
      const pending = opt.stateDict();
      opt.eval();
      expect(await pending).toEqual(expected);
      expect((await pending).mode).toBe('train');
      opt.destroy();
      params.destroy();
    });
  });

  test('a loadStateDict() issued while stateDict() is pending: the dict is the state before the load', async () => {
    await withDevice(async (device) => {
      const f = await makeFixture(device);
      const saved = await f.opt.stateDict();
      f.params.writeGrads(f.grads(4));
      f.opt.step();
      const expected = await f.opt.stateDict();
      const pending = f.opt.stateDict();
      f.opt.loadStateDict(saved);
      expect(await pending).toEqual(expected);
      expect(await f.opt.stateDict()).toEqual(saved);
      disposeFixture(f);
    });
  });

  test('steps recorded into an unfinished encoder: loadStateDict() and stateDict() refuse, nothing changes; after finish() both work', async () => {
    await withDevice(async (device) => {
      const f = await makeFixture(device);
      const saved = await f.opt.stateDict();
      const encoder = device.createCommandEncoder({ label: 'test:open' });
      f.opt.step(encoder);
      f.ref.step(f.grads(3));
      expect(() => f.opt.loadStateDict(saved)).toThrow(/loadStateDict: steps are recorded into the command encoder "test:open", which this optimizer has not seen finished; finish and submit it first/);
      await expect(f.opt.stateDict()).rejects.toThrow(/stateDict: steps are recorded into the command encoder "test:open", which this optimizer has not seen finished/);
      device.queue.submit([encoder.finish()]);
      const before = await snapshot(f);
      expect(before.stepCount).toBe(2);
      await expectUnchangedAndUsable(f, before);
      f.opt.loadStateDict(saved);
      expect(await f.opt.stateDict()).toEqual(saved);
      disposeFixture(f);
    });
  });
});

describe('device loss', () => {
  test('createParameterSet on a lost device throws, naming the loss', async () => {
    const device = await requestOptimizerDevice();
    device.destroy();
    await device.lost;
    expect(() => createParameterSet(device, namedTensors([5], 3))).toThrow(/createParameterSet: the GPU device was lost \(destroyed/);
  });
});
