/**
 * The pieces both front-ends (GPU optimizer and CPU twin) share: the front state and its getters,
 * and the state-dict flow (a dict built from a snapshot; a load checked in full before any part
 * of it is stored).
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer } from '../../src/index.js';
import { getDefinition } from '../../src/optimizers/registry.js';
import { resolveOptions } from '../../src/front/resolve.js';
import { createFrontState, withFrontView } from '../../src/front/front-state.js';
import { loadStateDictInto, stateDictOf, type DictSource, type LoadSinks } from '../../src/front/state-dict-flow.js';

const tensors = [
  { name: 'w', length: 3, shape: [3] },
  { name: 'b', length: 2, shape: [2] },
];
const data = () => [new Float32Array([1, 2, 3]), new Float32Array([4, 5])];
const grads = () => [new Float32Array([0.5, -0.5, 0.25]), new Float32Array([1, -1])];

/** Every sink of a load, recording the order of its calls. */
function recordingSinks(calls: string[]): LoadSinks<any> {
  return {
    counts: (loaded) => calls.push(`counts ${loaded.stepCalls}`),
    control: (restored) => calls.push(`control ${JSON.stringify(restored)}`),
    accumulated: (g) => calls.push(`accumulated ${g ? g.length : 'none'}`),
    slots: (values, stored) => calls.push(`slots ${values(0, 'exp_avg')!.length} ${stored ? 'stored' : 'values'}`),
  };
}

describe('front state', () => {
  test('the view reads the state live, through steps, hyperparameter changes and restores', () => {
    const definition = getDefinition('adam');
    const resolved = resolveOptions(definition, [{ name: 'w', shape: [1] }, { name: 'b', shape: [1] }], { lr: 0.1, accumulation: { steps: 2 } }, 'test');
    const front = createFrontState(definition, resolved);
    const view = withFrontView(front, { extra: 1 });
    expect([view.stepCount, view.microStepCount, view.groups[0]!.lr, view.mode, view.extra]).toEqual([0, 0, 0.1, undefined, 1]);
    front.book.run(() => undefined, { update: () => {} });
    front.book.run(() => new Float32Array(1), { update: () => {} });
    front.setHyperparameters({ lr: 0.5 });
    expect([view.stepCount, view.microStepCount, view.groups[0]!.lr]).toEqual([1, 2, 0.5]);
    expect(() => front.setHyperparameters({ lr: -1 })).toThrow(/lr/);
    expect(view.groups[0]!.lr).toBe(0.5);
    expect(() => front.setLrSchedule('fast' as never)).toThrow();
    expect(front.schedule).toBeUndefined();
  });

  test('a mode optimizer starts in its initial mode and its view follows switches', () => {
    const ref = createReferenceOptimizer('adamw_schedule_free', data(), { lr: 0.1 });
    expect(ref.mode).toBe('train');
    ref.eval();
    expect(ref.mode).toBe('eval');
    expect(() => ref.step(grads())).toThrow(/eval mode/);
    ref.train();
    expect(ref.mode).toBe('train');
  });
});

describe('state-dict flow', () => {
  const source = (overrides: Partial<DictSource<any>>): DictSource<any> => {
    const definition = getDefinition('adam');
    const { config, training } = resolveOptions(definition, [{ name: 'w', shape: [1] }, { name: 'b', shape: [1] }], { lr: 0.1, lossScaling: { initScale: 8 }, accumulation: { steps: 3 } }, 'test');
    return {
      config,
      tensors,
      training,
      stepCalls: 7,
      control: { step: 5, lossScale: 4, growthTracker: 2 },
      pendingMicroSteps: 0,
      accumulated: () => {
        throw new Error('read with nothing pending');
      },
      mode: undefined,
      stateFormat: 'f32',
      quantization: undefined,
      slotData: (i, slot) => new Float32Array(tensors[i]!.length).fill(slot.length),
      ...overrides,
    };
  };

  test('PyTorch step and the scaler come from the control path; the accumulation only when micro-batches are pending', () => {
    const sd = stateDictOf(source({}), {}, 'test');
    expect([sd.step, sd.stepCalls, sd.scaler, sd.accumulation]).toEqual([5, 7, { scale: 4, growthTracker: 2 }, undefined]);
    const pending = stateDictOf(source({ pendingMicroSteps: 2, accumulated: (i) => new Float32Array(tensors[i]!.length).fill(i + 1) }), {}, 'test');
    expect(pending.accumulation).toEqual({ microSteps: 2, grads: [new Float32Array([1, 1, 1]), new Float32Array([2, 2])] });
    const uncontrolled = stateDictOf(source({ control: undefined }), {}, 'test');
    expect([uncontrolled.step, uncontrolled.scaler]).toEqual([7, undefined]);
  });

  test('a load checks the whole dict before it hands any part to a sink, then hands every part in order', () => {
    const named = data().map((d, i) => ({ name: tensors[i]!.name, data: d }));
    const ref = createReferenceOptimizer('adam', named, { lr: 0.1, lossScaling: { initScale: 8 }, accumulation: { steps: 2 } });
    ref.step(grads());
    ref.step(grads());
    ref.step(grads());
    const sd = ref.stateDict();
    const definition = getDefinition('adam');
    const { config, training } = resolveOptions(definition, [{ name: 'w', shape: [1] }, { name: 'b', shape: [1] }], { lr: 0.1, lossScaling: { initScale: 8 }, accumulation: { steps: 2 } }, 'test');
    const target = { definition, tensors, config, training, quantization: undefined };
    const calls: string[] = [];
    // The last thing checked is the last tensor's slots: a dict bad only there still reaches no sink.
    const bad = { ...sd, state: [sd.state[0]!, { ...sd.state[1]!, exp_avg_sq: new Float32Array(1) }] };
    expect(() => loadStateDictInto(target, bad, recordingSinks(calls))).toThrow(/state\[1\]\.exp_avg_sq must be a Float32Array of length 2/);
    expect(calls).toEqual([]);
    loadStateDictInto(target, sd, recordingSinks(calls));
    expect(calls).toEqual(['counts 1', 'control {"step":1,"calls":1,"lossScale":8,"growthTracker":1}', 'accumulated 2', 'slots 3 values']);
  });

  test('a q8 dict hands its stored form only to an optimizer of the same quantization', () => {
    const big = [new Float32Array(4096).fill(1)];
    const grad = [new Float32Array(4096).fill(0.5)];
    const names = [{ name: '0', length: 4096, shape: [4096] }];
    const ref = createReferenceOptimizer('adam', big, { lr: 0.1, stateFormat: 'q8' });
    ref.step(grad);
    const sd = ref.stateDict();
    const definition = getDefinition('adam');
    for (const [quantization, expected] of [
      [{ blockSize: 256, minQuantizedElements: 4096 }, 'stored'],
      [{ blockSize: 512, minQuantizedElements: 4096 }, 'values'],
      [undefined, 'values'],
    ] as const) {
      const { config, training } = resolveOptions(definition, [{ name: '0', shape: [1] }], { lr: 0.1 }, 'test');
      let got = '';
      loadStateDictInto({ definition, tensors: names, config, training, quantization }, sd, { counts: () => {}, slots: (_values, stored) => (got = stored ? 'stored' : 'values') });
      expect(got, JSON.stringify(quantization)).toBe(expected);
    }
  });
});
