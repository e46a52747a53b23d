/**
 * Refusals name the argument, the expected type and the value as given (strings quoted, objects as
 * their contents), with the likely cause where one is common; and nothing changes.
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer, dequantizeStateDict, type OptimizerStateDict } from '../../src/index.js';
import { describeValue } from '../../src/core/describe-value.js';
import { resolveQuantization } from '../../src/state/q8.js';
import { cosineWithWarmup } from '../../src/core/schedules.js';
import { stateStorage } from '../../src/state/state-storage.js';
import { train } from '../../src/tfjs/train.js';

const one = () => [new Float32Array([1, 2, 3])];
const escape = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

describe('describeValue: the value as given', () => {
  test.each([
    ['0.01', '"0.01" (a string)'],
    ['', '"" (a string)'],
    [0.01, '0.01'],
    [NaN, 'NaN'],
    [-0, '-0'],
    [-Infinity, '-Infinity'],
    [true, 'true'],
    [null, 'null'],
    [undefined, 'undefined'],
    [3n, '3n (a bigint)'],
    [{ learningRate: 0.01 }, '{"learningRate":0.01} (an object)'],
    [[0.9], '[0.9] (an array)'],
    [new Float32Array(4), 'a Float32Array of length 4'],
    [new Map(), 'a Map'],
    [Promise.resolve(1), 'a Promise (did you forget await?)'],
    [function schedule() {}, 'a function (schedule)'],
    [Symbol('s'), 'Symbol(s) (a symbol)'],
  ] as const)('%o → %s', (value, shown) => {
    expect(describeValue(value)).toBe(shown);
  });
  test('long values are cut; objects without JSON still say what they hold', () => {
    expect(describeValue('x'.repeat(200))).toMatch(/^"x{78}… \(a string\)$/);
    expect(describeValue({ a: 'y'.repeat(200) })).toMatch(/^\{"a":"y+… \(an object\)$/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(describeValue(cyclic)).toBe('an object with keys a, self');
    expect(describeValue({ n: 1n })).toBe('an object with keys n');
  });
});

describe('option refusals quote what was given', () => {
  test('a number given as a string reads as a string, not as the number', () => {
    expect(() => createReferenceOptimizer('adam', one(), { lr: '0.01' } as never)).toThrow(
      escape('webgpu-optim: adam: lr must be a finite number, got "0.01" (a string)'),
    );
    expect(() => createReferenceOptimizer('adam', one(), { weightDecay: '0' } as never)).toThrow(escape('weightDecay must be a finite number, got "0" (a string)'));
    expect(() => createReferenceOptimizer('adam', one(), { amsgrad: 'true' } as never)).toThrow(escape('amsgrad must be a boolean, got "true" (a string)'));
    expect(() => createReferenceOptimizer('adam', one(), { betas: '0.9,0.999' } as never)).toThrow(escape('betas must be a pair [a, b], got "0.9,0.999" (a string)'));
    expect(() => createReferenceOptimizer('adam', one(), { betas: { beta1: 0.9 } } as never)).toThrow(escape('betas must be a pair [a, b], got {"beta1":0.9} (an object)'));
    expect(() => createReferenceOptimizer('adam', one(), 'adam' as never)).toThrow(escape("createReferenceOptimizer('adam') options must be an object, got \"adam\" (a string)"));
  });
  test('setHyperparameters refuses the same way and changes nothing', () => {
    const adam = createReferenceOptimizer('adam', one(), { lr: 0.1 });
    expect(() => adam.setHyperparameters({ lr: '0.2' } as never)).toThrow(escape('lr must be a finite number, got "0.2" (a string)'));
    expect(adam.groups[0]!.lr).toBe(0.1);
  });
  test('training options, state formats, quantization and schedules', () => {
    expect(() => createReferenceOptimizer('adam', one(), { lossScaling: 'dynamic' } as never)).toThrow(escape('lossScaling must be true, false or an object, got "dynamic" (a string)'));
    expect(() => createReferenceOptimizer('adam', one(), { gradClipping: { maxNorm: '1' } } as never)).toThrow(escape('gradClipping.maxNorm must be a finite number > 0, got "1" (a string)'));
    expect(() => createReferenceOptimizer('adam', one(), { stateFormat: 'int8' } as never)).toThrow(escape("stateFormat must be one of 'f32', 'bf16', 'f16', 'q8', 'q4', got \"int8\" (a string)"));
    expect(() => resolveQuantization({ blockSize: '256' }, 8, 'q')).toThrow(escape('quantization.blockSize must be a power of two in [64, 4096], got "256" (a string)'));
    expect(() => cosineWithWarmup({ warmupSteps: '10', totalSteps: 100 } as never)).toThrow(escape('warmupSteps must be an integer >= 0, got "10" (a string)'));
  });
});

describe('loadStateDict and dequantizeStateDict: what was passed instead of a state dict', () => {
  const dict = () => createReferenceOptimizer('adam', one()).stateDict();
  test.each([
    ['a Promise (a forgotten await)', () => Promise.resolve(dict()), /cannot load this state dict: the state dict is a Promise: did you forget await\?/],
    ['{}', () => ({}), /cannot load this state dict: it names no optimizer \("optimizer" is undefined\): not a state dict from stateDict\(\) or stateDictFromJSON\(\)/],
    ['JSON text', () => JSON.stringify({ optimizer: 'adam' }), /the state dict must be an object, got "\{\\"optimizer\\":\\"adam\\"\}" \(a string\): JSON text is read with stateDictFromJSON\(text\)/],
    ['null', () => null, /the state dict must be an object, got null$/],
    ['an array', () => [dict()], /the state dict must be an object, got \[.*\(an array\)$/],
    ['a number as the optimizer', () => ({ ...dict(), optimizer: 3 }), /it names no optimizer \("optimizer" is 3\)/],
    ['a version given as a string', () => ({ ...dict(), version: '1' }), /it is version "1" \(a string\); this library reads version 1/],
  ])('%s', (_label, given, message) => {
    const adam = createReferenceOptimizer('adam', one(), { lr: 0.1 });
    adam.step([new Float32Array([1, 1, 1])]);
    const before = structuredClone(adam.stateDict());
    expect(() => adam.loadStateDict(given() as never)).toThrow(message);
    expect(adam.stateDict()).toEqual(before);
    expect(() => dequantizeStateDict(given() as never)).toThrow(message.source.includes('cannot load') ? new RegExp(message.source.replace('cannot load this state dict', 'dequantizeStateDict')) : message);
  });
  test('another optimizer: named, and the loading one too', () => {
    const sd: OptimizerStateDict<object> = dict();
    expect(() => createReferenceOptimizer('adamw', one()).loadStateDict(sd as never)).toThrow(/adamw: cannot load this state dict: it belongs to optimizer "adam", not adamw/);
  });
});

describe('train.*: TF.js positional arguments', () => {
  test('an options object where the learning rate goes: named, shown, and the likely mix-up explained', () => {
    expect(() => train.adam({ learningRate: 0.01 } as never)).toThrow(
      escape(
        'webgpu-optim/tfjs: train.adam: learningRate must be a number, got {"learningRate":0.01} (an object): ' +
          "train.adam takes tf.train.adam's positional arguments (train.adam(0.01)); an options object with PyTorch's names goes to new WebGPUOptimizer('adam', { lr: 0.01 })",
      ),
    );
    expect(() => train.momentum({ lr: 0.1 } as never, 0.9)).toThrow(escape("new WebGPUOptimizer('sgd', { lr: 0.01 })"));
  });
  test('every argument of every factory is checked by its TF.js name', () => {
    expect(() => train.sgd('0.1' as never)).toThrow(escape('train.sgd: learningRate must be a number, got "0.1" (a string)'));
    expect(() => train.sgd(undefined as never)).toThrow(escape('train.sgd: learningRate must be a number, got undefined'));
    expect(() => train.momentum(0.1, '0.9' as never)).toThrow(escape('train.momentum: momentum must be a number, got "0.9" (a string)'));
    expect(() => train.momentum(0.1, 0.9, 'yes' as never)).toThrow(escape('train.momentum: useNesterov must be a boolean, got "yes" (a string)'));
    expect(() => train.adagrad(0.1, [0.1] as never)).toThrow(escape('train.adagrad: initialAccumulatorValue must be a number, got [0.1] (an array)'));
    expect(() => train.adadelta(0.1, 0.95, '1e-7' as never)).toThrow(escape('train.adadelta: epsilon must be a number, got "1e-7" (a string)'));
    expect(() => train.adam(0.1, 0.9, Promise.resolve(0.999) as never)).toThrow(escape('train.adam: beta2 must be a number, got a Promise (did you forget await?)'));
    expect(() => train.adamax(0.1, '0.9' as never)).toThrow(escape('train.adamax: beta1 must be a number, got "0.9" (a string)'));
    expect(() => train.rmsprop(0.1, 0.9, 0, null, 1 as never)).toThrow(escape('train.rmsprop: centered must be a boolean, got 1'));
  });
});

describe('stateStorage: why stateBytes is what it is', () => {
  const q8 = resolveQuantization(undefined, 8, 'q8')!;
  test('q8 on a model of small tensors (1010 parameters): nothing quantized, and the note says why', () => {
    const tensors = [{ name: 'w1', length: 2 * 16 }, { name: 'b1', length: 16 }, { name: 'w2', length: 16 * 60 }, { name: 'b2', length: 2 }];
    const storage = stateStorage(tensors, 'q8', q8);
    expect(storage).toMatchObject({ format: 'q8', compactTensors: [], f32Tensors: ['w1', 'b1', 'w2', 'b2'], minQuantizedElements: 4096 });
    expect(storage.note).toBe(
      "stateFormat 'q8' quantizes none of the 4 tensors: each has fewer than minQuantizedElements (4096) elements, so all state stays f32 and stateBytes equals f32's (a smaller quantization.minQuantizedElements quantizes them)",
    );
  });
  test('q8 with some small tensors names them; all large: no note', () => {
    const mixed = stateStorage([{ name: 'w', length: 5000 }, { name: 'a', length: 1 }, { name: 'b', length: 2 }, { name: 'c', length: 3 }, { name: 'd', length: 4 }], 'q8', q8);
    expect(mixed.compactTensors).toEqual(['w']);
    expect(mixed.note).toBe('4 of 5 tensors ("a", "b", "c" and 1 more) have fewer than minQuantizedElements (4096) elements and keep f32 state (a smaller quantization.minQuantizedElements quantizes them)');
    const lowered = stateStorage([{ name: 'w', length: 100 }], 'q8', resolveQuantization({ minQuantizedElements: 100 }, 8, 'q8'));
    expect(lowered).toEqual({ format: 'q8', compactTensors: ['w'], f32Tensors: [], minQuantizedElements: 100 });
  });
  test('f32 and 16-bit formats', () => {
    expect(stateStorage([{ name: 'w', length: 3 }], 'f32')).toEqual({ format: 'f32', compactTensors: [], f32Tensors: ['w'] });
    expect(stateStorage([{ name: 'w', length: 3 }], 'bf16')).toEqual({ format: 'bf16', compactTensors: ['w'], f32Tensors: [] });
  });
});
