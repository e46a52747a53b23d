/**
 * 8-bit block-wise state (stateFormat 'q8'): the GPU against the CPU twin, which quantizes every
 * run of every block the same way, bit for bit on params and every slot (codes, absmax and the f32
 * state of small tensors, compared as the values they decode to); the stored form in state dicts;
 * special values; the memory; misuse.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { createOptimizer, createParameterSet, createReferenceOptimizer, type OptimizerStateDict } from '../../src/index.js';
import type { Q8Slot } from '../../src/state/state-dict.js';
import { namedTensors, randomArray, rng, SPECIAL_GRADIENTS } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { expectRestoredTwin, expectSplitEqualsWhole, oneEncoderParity, runParity } from '../helpers/parity.js';
import { BLOCKWISE_MATRIX, PARITY_TOLERANCE } from '../helpers/cases.js';

/** Every optimizer whose state q8 takes, with its rows (Adafactor's factored state, Muon, Prodigy and cautious rows are refused: tests/unit/validation.test.ts, muon-hybrid.test.ts). */
const QUANTIZABLE = BLOCKWISE_MATRIX;
const SIZES = [1, 3, 63, 64, 65, 1000, 4099];
/** Tensors from 1000 elements on are quantized, the smaller ones keep f32 state: both paths at once. */
const Q8 = { stateFormat: 'q8', quantization: { minQuantizedElements: 1000 } };
const gradFor = (step: number, i: number, length: number) => randomArray(length, rng(step * 1000 + i));
const worst = { maxAbs: 0, where: '' };

async function parity(device: GPUDevice, c: Parameters<typeof runParity>[1]) {
  const result = await runParity(device, c);
  if (result.maxAbs >= worst.maxAbs) Object.assign(worst, { maxAbs: result.maxAbs, where: `${c.name} ${JSON.stringify(c.options)}` });
  return result;
}

describe('q8 state: the option matrix, 7 odd sizes, 8 steps', () => {
  test.each(QUANTIZABLE.flatMap(([name, matrix]) => matrix.map((options) => [`${name} ${JSON.stringify(options)}`, name, options] as const)))('%s', async (_l, name, options) => {
    await withDevice(async (device) => {
      const result = await parity(device, { name, options: { ...options, ...Q8 }, tensors: namedTensors(SIZES, 7), steps: 8, checkAt: [1, 2, 8], grad: gradFor, tolerance: PARITY_TOLERANCE });
      const sd = await result.gpu.stateDict();
      expect(sd.stateFormat).toBe('q8');
      expect(sd.quantization).toEqual({ blockSize: 256, minQuantizedElements: 1000 });
      for (const [slot, value] of Object.entries(sd.state[6]!)) {
        if (typeof value !== 'number') expect(value instanceof Float32Array ? 'f32' : 'codes', slot).toBe(slot === 'z' ? 'f32' : 'codes');
      }
      expect(sd.state[4]!.constructor).toBe(Object);
      for (const value of Object.values(sd.state[4]!)) if (typeof value !== 'number') expect(value).toBeInstanceOf(Float32Array);
      result.gpu.destroy();
      result.params.destroy();
      expect(result.failures).toEqual([]);
    });
  });
});

describe('q8 state: block sizes, special gradients, splits, one encoder, training features', () => {
  test.each([
    ['adam', { blockSize: 64, minQuantizedElements: 0 }],
    ['rmsprop', { blockSize: 1024, minQuantizedElements: 0 }],
    ['adamax', { blockSize: 512, minQuantizedElements: 60 }],
    ['adam', { blockSize: 2048, minQuantizedElements: 100 }],
    ['lion', { blockSize: 4096, minQuantizedElements: 0 }],
  ] as const)('%s %j: every tensor size, 6 steps', async (name, quantization) => {
    await withDevice(async (device) => {
      const result = await parity(device, { name, options: { stateFormat: 'q8', quantization }, tensors: namedTensors([...SIZES, 9001], 9), steps: 6, checkAt: [6], grad: gradFor, tolerance: PARITY_TOLERANCE });
      expect(result.failures).toEqual([]);
      result.gpu.destroy();
      result.params.destroy();
    });
  });

  test.each(QUANTIZABLE.map(([name, matrix]) => [name, matrix[matrix.length - 1]!] as const))('%s %j: special gradients', async (name, options) => {
    await withDevice(async (device) => {
      const special = SPECIAL_GRADIENTS.length;
      const result = await parity(device, {
        name,
        options: { ...options, stateFormat: 'q8', quantization: { minQuantizedElements: 30 } },
        tensors: namedTensors([special * 3 + 1, 700, 20], 3),
        steps: 4,
        checkAt: [1, 2, 4],
        grad: (step, i, length) => (i === 0 ? Float32Array.from({ length }, (_, k) => SPECIAL_GRADIENTS[(k + step) % special]!) : gradFor(step, i, length)),
        tolerance: PARITY_TOLERANCE,
      });
      expect(result.failures).toEqual([]);
      result.gpu.destroy();
      result.params.destroy();
    });
  });

  test('a NaN in a run makes the whole run NaN (never a finite value); other tensors are untouched', async () => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, [{ name: 'a', data: new Float32Array(512).fill(1) }, { name: 'b', data: new Float32Array(300).fill(1) }]);
      const adam = createOptimizer('adam', params, { stateFormat: 'q8', quantization: { minQuantizedElements: 0 } });
      const g = new Float32Array(512).fill(0.5);
      g[3] = NaN;
      params.writeGrads([g, new Float32Array(300).fill(0.5)]);
      adam.step();
      const { state } = await adam.stateDict({ dequantize: true });
      const m = state[0]!.exp_avg as Float32Array;
      // Elements 0 … 255 share a run with the NaN; 256 … 511 are another block.
      expect(m.subarray(0, 256).every(Number.isNaN)).toBe(true);
      expect(Array.from(m.subarray(256)).every((x) => Math.abs(x - 0.05) < 0.05 * 0.01)).toBe(true);
      expect((state[1]!.exp_avg as Float32Array).every((x) => Math.abs(x - 0.05) < 0.05 * 0.01)).toBe(true);
      adam.destroy();
      params.destroy();
    });
  });

  test.each([
    ['adam', { amsgrad: true }],
    ['sgd', { lr: 0.1, momentum: 0.9, groups: [{ tensors: ['t1_3'], lr: 0.01 }] }],
    ['lamb', { lr: 0.01, groups: [{ tensors: ['t1_3'], weightDecay: 0.1 }] }],
  ] as const)('%s %j: split segments equal one segment, bit for bit', async (name, options) => {
    await withDevice((device) =>
      expectSplitEqualsWhole(device, { name, options: { ...options, ...Q8 }, tensors: namedTensors([...SIZES, 9001], 5), steps: 3, checkAt: [3], grad: gradFor, tolerance: PARITY_TOLERANCE }),
    );
  });

  // LAMB: its moments are quantized in the per-tensor pass, the update pass only reads them.
  test.each(['adam', 'lamb'])('%s: 5 steps in one encoder, with clipping by value, loss scaling, accumulation, skipping and groups, equal the twin', async (name) => {
    await withDevice(async (device) => {
      const tensors = namedTensors(SIZES, 13);
      const options = { ...Q8, lr: 0.002, lossScaling: { initScale: 64 }, gradClipping: { maxValue: 2 }, accumulation: { steps: 2 }, skipNonFinite: true, groups: [{ tensors: ['t1_3', 't5_1000'], lr: 0.01 }] };
      const grads = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((s) => tensors.map((t, i) => gradFor(s, i, t.data.length).map((x, k) => (s === 5 && i === 6 && k === 0 ? Infinity : x * 64))));
      const { failures, gpu, params } = await oneEncoderParity(device, name, options, tensors, grads);
      expect(failures).toEqual([]);
      expect((await gpu.stateDict()).step).toBe(4); // 5 updates, one skipped
      gpu.destroy();
      params.destroy();
    });
  });
});

describe('q8 state dicts and memory', () => {
  test('codes and absmax in the dict, bit-identical through JSON and loadStateDict; dequantized export; f32 dicts quantized on load', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors([5000, 100, 70_000], 21);
      const pa = createParameterSet(device, tensors);
      const a = createOptimizer('adam', pa, { stateFormat: 'q8' });
      for (let s = 1; s <= 3; s++) {
        pa.writeGrads(tensors.map((t, i) => gradFor(s, i, t.data.length)));
        a.step();
      }
      const sd = await a.stateDict();
      const m = sd.state[0]!.exp_avg as Q8Slot;
      expect(m.codes).toBeInstanceOf(Uint8Array);
      expect(m.codes.length).toBe(5000);
      expect(m.absmax.length).toBe(Math.ceil(5000 / 256)); // tensor 0 starts at 0: 20 runs
      expect(sd.state[1]!.exp_avg).toBeInstanceOf(Float32Array); // 100 elements: f32
      // Adam on 75 100 parameters: codes 1 B + absmax 4 B per 256 per slot, small tensors 4 B.
      const bytesPerParam = a.stateBytes / 75_100;
      console.log(`q8 Adam state: ${a.stateBytes} B for 75 100 parameters, ${bytesPerParam.toFixed(3)} B/param (f32: 8)`);
      expect(bytesPerParam).toBeLessThan(2.1);
      expect(a.stateStorage).toEqual({ format: 'q8', compactTensors: [tensors[0]!.name, tensors[2]!.name], f32Tensors: [tensors[1]!.name], minQuantizedElements: 4096, note: expect.stringMatching(/^1 of 3 tensors .* have fewer than minQuantizedElements \(4096\) elements and keep f32 state/) });

      // Through JSON into a fresh optimizer: the same bits, and the same next step.
      const { restored: b, copy: pb } = await expectRestoredTwin(device, 'adam', { stateFormat: 'q8' }, pa, a, tensors.map((t, i) => gradFor(9, i, t.data.length)));

      // Dequantized: what the kernel loads; an f32 optimizer takes it exactly, the twin quantizes it as the GPU does.
      const plain = await a.stateDict({ dequantize: true });
      expect(plain.stateFormat).toBeUndefined();
      expect(plain.quantization).toBeUndefined();
      const f32 = createOptimizer('adam', pa);
      f32.loadStateDict(plain);
      expect((await f32.stateDict()).state).toEqual(plain.state);
      const twin = createReferenceOptimizer('adam', tensors.map((t) => ({ name: t.name, data: t.data.slice() })), { stateFormat: 'q8' });
      twin.loadStateDict(plain);
      b.loadStateDict(plain);
      expect((await b.stateDict()).state).toEqual(twin.stateDict().state);
      for (const x of [a, b, f32, pa, pb]) x.destroy();
    });
  });

  // Only chunks with a run have codes: a tensor under minQuantizedElements costs its f32 values.
  test('small tensors: q8 state is no larger than f32 state, and still equals the twin', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors([...Array.from({ length: 40 }, () => 2048), 100, 5000], 23);
      const result = await parity(device, { name: 'adam', options: { stateFormat: 'q8' }, tensors, steps: 3, checkAt: [3], grad: gradFor, tolerance: PARITY_TOLERANCE });
      expect(result.failures).toEqual([]);
      const f32 = createOptimizer('adam', result.params);
      const params = tensors.reduce((n, t) => n + t.data.length, 0);
      console.log(`q8 Adam state, 40 × 2048 + 100 + 5000: ${(result.gpu.stateBytes / params).toFixed(3)} B/param (f32: ${(f32.stateBytes / params).toFixed(3)})`);
      expect(result.gpu.stateBytes).toBeLessThan(f32.stateBytes);
      // Only small tensors (a 1010-parameter model): q8 saves nothing, and stateStorage says why.
      const small = createParameterSet(device, namedTensors([32, 16, 960, 2], 24));
      const [smallQ8, smallF32] = [createOptimizer('adam', small, { stateFormat: 'q8' }), createOptimizer('adam', small)];
      expect(smallQ8.stateBytes).toBe(smallF32.stateBytes);
      expect(smallQ8.stateStorage.compactTensors).toEqual([]);
      expect(smallQ8.stateStorage.note).toMatch(/quantizes none of the 4 tensors: each has fewer than minQuantizedElements \(4096\) elements/);
      expect(smallF32.stateStorage.note).toBeUndefined();
      smallQ8.destroy();
      smallF32.destroy();
      small.destroy();
      f32.destroy();
      result.gpu.destroy();
      result.params.destroy();
    });
  });

  test('misuse: optimizers q8 does not take, bad quantization options, dicts that do not fit; nothing changes', async () => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, namedTensors([5000], 2));
      expect(() => createOptimizer('adafactor', params, { stateFormat: 'q8' })).toThrow(/adafactor keeps its state factored/);
      expect(() => createOptimizer('adam', params, { quantization: { blockSize: 256 } })).toThrow(/quantization applies to stateFormat 'q8' or 'q4' only/);
      expect(() => createOptimizer('adam', params, { stateFormat: 'q8', stochasticRounding: true })).toThrow(/stochasticRounding rounds 16-bit state/);
      for (const [bad, message] of [
        [{ blockSize: 100 }, /blockSize must be a power of two in \[64, 4096\], got 100/],
        [{ blockSize: 8192 }, /blockSize must be a power of two in \[64, 4096\], got 8192/],
        [{ minQuantizedElements: -1 }, /minQuantizedElements must be an integer ≥ 0, got -1/],
        [{ block: 256 }, /unknown quantization option "block"; known: blockSize, minQuantizedElements/],
        ['256', /quantization must be an object/],
      ] as const) {
        expect(() => createOptimizer('adam', params, { stateFormat: 'q8', quantization: bad as never })).toThrow(message);
        expect(() => createReferenceOptimizer('adam', [new Float32Array(3)], { stateFormat: 'q8', quantization: bad as never })).toThrow(message);
      }
      const opt = createOptimizer('adam', params, { stateFormat: 'q8' });
      params.writeGrads([gradFor(1, 0, 5000)]);
      opt.step();
      const good = await opt.stateDict();
      const broken: [string, (sd: OptimizerStateDict<any>) => unknown, RegExp][] = [
        ['no quantization', (sd) => delete sd.quantization, /stateFormat 'q8' needs its quantization/],
        ['a bad block size', (sd) => (sd.quantization = { blockSize: 3, minQuantizedElements: 4096 }), /quantization.blockSize must be a power of two/],
        ['short codes', (sd) => ((sd.state[0]!.exp_avg as Q8Slot).codes = new Uint8Array(4999)), /exp_avg must be \{ codes: Uint8Array of length 5000, absmax: Float32Array of length 20 \}/],
        ['missing absmax', (sd) => ((sd.state[0]!.exp_avg as any).absmax = undefined), /exp_avg must be \{ codes: Uint8Array/],
        ['f32 values', (sd) => (sd.state[0]!.exp_avg_sq = new Float32Array(5000)), /exp_avg_sq must be \{ codes/],
        ['quantization without q8', (sd) => delete sd.stateFormat, /it has a quantization but stateFormat "f32"/],
      ];
      for (const [what, corrupt, message] of broken) {
        const sd = structuredClone(good);
        corrupt(sd);
        expect(() => opt.loadStateDict(sd), what).toThrow(message);
      }
      expect((await opt.stateDict()).state).toEqual(good.state);
      opt.destroy();
      params.destroy();
    });
  });
});

afterAll(() => {
  console.log(`q8 parity: largest |gpu − twin| = ${worst.maxAbs} (${worst.where})`);
});
