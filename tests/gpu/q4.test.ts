/**
 * 4-bit block-wise state (stateFormat 'q4', torchao's 4-bit maps, blocks of 128, two codes per
 * byte) on every optimizer whose state q8 takes: the GPU against the CPU twin, the stored state bit
 * for bit (codes, absmax and the f32 state of small tensors, the dicts equal) and the params within
 * PARITY_TOLERANCE (the f32 update itself may differ in a last bit on SwiftShader, as in every
 * format); state dicts, JSON and PyTorch checkpoints; the refusals; the memory.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { createOptimizer, createParameterSet, createReferenceOptimizer, fromTorchCheckpoint, toTorchCheckpoint, type OptimizerStateDict } from '../../src/index.js';
import type { Q8Slot } from '../../src/state/state-dict.js';
import { namedTensors, randomArray, rng, SPECIAL_GRADIENTS } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { expectRestoredTwin, expectSplitEqualsWhole, oneEncoderParity, recordShaped, runParity } from '../helpers/parity.js';
import { BLOCKWISE_MATRIX, PARITY_TOLERANCE } from '../helpers/cases.js';
import { Q4_MAPS } from '../../src/state/q8.js';

const SIZES = [1, 3, 63, 64, 65, 1000, 4099];
/** Tensors from 1000 elements on are quantized, the smaller ones keep f32 state: both paths at once. */
const Q4 = { stateFormat: 'q4', quantization: { minQuantizedElements: 1000 } };
const gradFor = (step: number, i: number, length: number) => randomArray(length, rng(step * 1000 + i));
/** Every row of every optimizer whose state block-wise formats take (as the q8 suite's). */
const ROWS = BLOCKWISE_MATRIX.flatMap(([name, matrix]) => matrix.map((options) => [`${name} ${JSON.stringify(options)}`, name, options] as const));
const worst = { maxAbs: 0, where: '' };

/**
 * The stored form of a dict's quantized slots: codes, absmax and the side values of small tensors.
 * Slots kept f32 in every format (Schedule-Free's z: a Float32Array beside codes) are f32 updates
 * like the params, compared within the tolerance by runParity.
 */
function storedForm(sd: OptimizerStateDict<any>) {
  const f32Slots = new Set(sd.state.flatMap((slots) => (Object.values(slots).some((v) => v && typeof v === 'object' && 'codes' in v) ? Object.keys(slots).filter((k) => slots[k] instanceof Float32Array) : [])));
  return sd.state.map((slots) => Object.fromEntries(Object.entries(slots).filter(([k]) => !f32Slots.has(k))));
}

/** Runs a parity case and checks the stored forms (codes, absmax, side values) are equal, bit for bit. */
async function exactParity(device: GPUDevice, c: Omit<Parameters<typeof runParity>[1], 'tolerance'>) {
  const result = await runParity(device, { ...c, tolerance: PARITY_TOLERANCE });
  if (result.maxAbs >= worst.maxAbs) Object.assign(worst, { maxAbs: result.maxAbs, where: `${c.name} ${JSON.stringify(c.options)}` });
  expect(result.failures).toEqual([]);
  const [gpu, ref] = [await result.gpu.stateDict(), result.ref.stateDict()];
  expect(gpu.stateFormat).toBe('q4');
  expect(storedForm(gpu)).toEqual(storedForm(ref));
  return { ...result, sd: gpu };
}

describe('q4 state: the option matrix against the twin, bit for bit, 7 odd sizes, 8 steps', () => {
  test.each(ROWS)('%s', async (_l, name, options) => {
    await withDevice(async (device) => {
      const { sd, gpu, params } = await exactParity(device, { name, options: { ...options, ...Q4 }, tensors: namedTensors(SIZES, 7), steps: 8, checkAt: [1, 2, 8], grad: gradFor });
      expect(sd.quantization).toEqual({ blockSize: 128, minQuantizedElements: 1000 });
      // 4099 elements: 2050 bytes of codes, 33 runs of 128 (the tensor starts at a block); Schedule-Free's z stays f32.
      for (const [slot, value] of Object.entries(sd.state[6]!)) {
        if (typeof value === 'number') continue;
        if (slot === 'z') expect(value).toBeInstanceOf(Float32Array);
        else expect([slot, (value as Q8Slot).codes.length, (value as Q8Slot).absmax.length]).toEqual([slot, 2050, 33]);
      }
      for (const value of Object.values(sd.state[4]!)) if (typeof value !== 'number') expect(value).toBeInstanceOf(Float32Array);
      gpu.destroy();
      params.destroy();
    });
  });
});

describe('q4 state: block sizes, special gradients, splits, one encoder', () => {
  test.each<[string, object, object?]>([
    ['adam', { blockSize: 64, minQuantizedElements: 0 }],
    ['adamw', { blockSize: 2048, minQuantizedElements: 100 }],
    ['rmsprop', { blockSize: 1024, minQuantizedElements: 0 }],
    ['lamb', { blockSize: 256, minQuantizedElements: 60 }, { lr: 0.01 }],
    ['rprop', { blockSize: 64, minQuantizedElements: 0 }],
  ])('%s %j: every tensor size, 6 steps', async (name, quantization, options = {}) => {
    await withDevice(async (device) => {
      const { gpu, params } = await exactParity(device, { name, options: { ...options, stateFormat: 'q4', quantization }, tensors: namedTensors([...SIZES, 9001], 9), steps: 6, checkAt: [6], grad: gradFor });
      gpu.destroy();
      params.destroy();
    });
  });

  test.each(BLOCKWISE_MATRIX.map(([name, matrix]) => [name, matrix[matrix.length - 1]!] as const))('%s %j: special gradients (NaN, ±Inf, ±0, subnormals, huge) and zeros', async (name, options) => {
    await withDevice(async (device) => {
      const special = SPECIAL_GRADIENTS.length;
      const { gpu, params } = await exactParity(device, {
        name,
        options: { ...options, stateFormat: 'q4', quantization: { minQuantizedElements: 30 } },
        tensors: namedTensors([special * 3 + 1, 700, 300, 20], 3),
        steps: 4,
        checkAt: [1, 2, 4],
        grad: (step, i, length) => (i === 0 ? Float32Array.from({ length }, (_, k) => SPECIAL_GRADIENTS[(k + step) % special]!) : i === 2 ? new Float32Array(length) : gradFor(step, i, length)),
      });
      gpu.destroy();
      params.destroy();
    });
  });

  // State that starts at 0 starts as torchao's, codes and scales 0 (loading as ±0); quantized at
  // creation instead, each run would hold 1/16 of the least scale, which a tiny first gradient sees.
  test('before the first update, the stored state of every optimizer (the richest row) equals the twin\'s', async () => {
    await withDevice(async (device) => {
      for (const [name, matrix] of BLOCKWISE_MATRIX) {
        const options = { ...matrix[matrix.length - 1]!, ...Q4 };
        const tensors = recordShaped(name, namedTensors([1000, 70], 4));
        const params = createParameterSet(device, tensors);
        const gpu = createOptimizer(name as 'adam', params, options as never);
        const twin = createReferenceOptimizer(name as 'adam', tensors.map((t) => ({ ...t, data: t.data.slice() })), options as never);
        expect(storedForm(await gpu.stateDict()), name).toEqual(storedForm(twin.stateDict()));
        gpu.destroy();
        params.destroy();
      }
    });
  });

  test.each([
    ['sgd', { lr: 0.1, momentum: 0.9, groups: [{ tensors: ['t1_3'], lr: 0.01 }] }],
    ['lamb', { lr: 0.01, groups: [{ tensors: ['t1_3'], weightDecay: 0.1 }] }],
  ] as const)('%s %j: split segments equal one segment, bit for bit', async (name, options) => {
    await withDevice((device) =>
      expectSplitEqualsWhole(device, { name, options: { ...options, ...Q4 }, tensors: namedTensors([...SIZES, 9001], 5), steps: 3, checkAt: [3], grad: gradFor, tolerance: PARITY_TOLERANCE }),
    );
  });

  // LAMB: its moments are quantized in the per-tensor pass (tiles of 2048 under q4), the update pass only reads them.
  test.each(['adam', 'lamb'])('%s: 5 steps in one encoder, with clipping by value, loss scaling, accumulation, skipping and groups, equal the twin', async (name) => {
    await withDevice(async (device) => {
      const tensors = namedTensors(SIZES, 13);
      const options = { ...Q4, lr: 0.002, lossScaling: { initScale: 64 }, gradClipping: { maxValue: 2 }, accumulation: { steps: 2 }, skipNonFinite: true, groups: [{ tensors: ['t1_3', 't5_1000'], lr: 0.01 }] };
      const grads = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((s) => tensors.map((t, i) => gradFor(s, i, t.data.length).map((x, k) => (s === 5 && i === 6 && k === 0 ? Infinity : x * 64))));
      const { failures, gpu, params, ref } = await oneEncoderParity(device, name, options, tensors, grads);
      expect(failures).toEqual([]);
      const sd = await gpu.stateDict();
      expect(sd.step).toBe(4); // 5 updates, one skipped
      expect(storedForm(sd)).toEqual(storedForm(ref.stateDict()));
      gpu.destroy();
      params.destroy();
    });
  });

  // With β₁ = 0.5 the first step stores m = g/2 exactly, so m / absmax = g / max|g|: a gradient of
  // half the map's least positive value, with max|g| = 1, lands exactly halfway between the codes
  // of 0 and 0.0055, and torchao rounds it up (rounding it down, the kernel would differ here).
  test('a value exactly halfway between two map values rounds up, on the GPU as in the twin', async () => {
    await withDevice(async (device) => {
      const half = Q4_MAPS.signed[8]! / 2;
      const g = Float32Array.from({ length: 128 }, (_, k) => (k === 0 ? 1 : k % 2 ? half : -half));
      const params = createParameterSet(device, [{ name: 'w', data: new Float32Array(128) }]);
      const adam = createOptimizer('adam', params, { stateFormat: 'q4', quantization: { minQuantizedElements: 0 }, betas: [0.5, 0.75] });
      const twin = createReferenceOptimizer('adam', [new Float32Array(128)], { stateFormat: 'q4', quantization: { minQuantizedElements: 0 }, betas: [0.5, 0.75] });
      params.writeGrads([g]);
      adam.step();
      twin.step([g]);
      const m = (await adam.stateDict()).state[0]!.exp_avg as Q8Slot;
      expect(m).toEqual(twin.stateDict().state[0]!.exp_avg);
      // Element 0 (1: code 15), 1 (+half: up to 0.0055, code 8) and 2 (−half: up to 0, code 7), two per byte.
      expect([m.codes[0]! >> 4, m.codes[0]! & 15, m.codes[1]! >> 4]).toEqual([15, 8, 7]);
      adam.destroy();
      params.destroy();
    });
  });
});

describe('q4 state dicts, checkpoints and refusals', () => {
  test('codes (two per byte) and absmax in the dict, bit-identical through JSON and loadStateDict; dequantized; PyTorch checkpoints in f32; q8 and q4 dicts cross-load decoded', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors([5001, 100, 70_000], 21);
      const pa = createParameterSet(device, tensors);
      const a = createOptimizer('adamw', pa, { stateFormat: 'q4' });
      for (let s = 1; s <= 3; s++) {
        pa.writeGrads(tensors.map((t, i) => gradFor(s, i, t.data.length)));
        a.step();
      }
      const sd = await a.stateDict();
      expect(sd.quantization).toEqual({ blockSize: 128, minQuantizedElements: 4096 });
      const m = sd.state[0]!.exp_avg as Q8Slot;
      expect([m.codes.length, m.absmax.length]).toEqual([2501, 40]); // 5001 elements: 2501 bytes, 40 runs of 128
      expect(m.codes[2500]! & 15).toBe(0); // the odd last code takes the high half
      expect(sd.state[1]!.exp_avg).toBeInstanceOf(Float32Array); // 100 elements: f32
      expect(a.stateStorage).toMatchObject({ format: 'q4', f32Tensors: [tensors[1]!.name] });

      // Through JSON into a fresh optimizer: the same bits, and the same next step.
      const { restored: b, copy: pb } = await expectRestoredTwin(device, 'adamw', { stateFormat: 'q4' }, pa, a, tensors.map((t, i) => gradFor(9, i, t.data.length)));

      // Dequantized: the values the kernel loads; an f32 optimizer takes them exactly, the twin
      // quantizes them as the GPU does.
      const plain = await a.stateDict({ dequantize: true });
      expect([plain.stateFormat, plain.quantization]).toEqual([undefined, undefined]);
      const f32 = createOptimizer('adamw', pa);
      f32.loadStateDict(plain);
      expect((await f32.stateDict()).state).toEqual(plain.state);
      const twin = createReferenceOptimizer('adamw', tensors.map((t) => ({ name: t.name, data: t.data.slice() })), { stateFormat: 'q4' });
      twin.loadStateDict(plain);
      b.loadStateDict(plain);
      expect((await b.stateDict()).state).toEqual(twin.stateDict().state);

      // A PyTorch checkpoint holds the decoded f32 values.
      const stored = await a.stateDict();
      const back = fromTorchCheckpoint(toTorchCheckpoint(stored), await f32.stateDict());
      expect(back.state).toEqual(plain.state);

      // A q4 dict into a q8 optimizer (and back): decoded, then quantized in the other format.
      const q8 = createOptimizer('adamw', pb, { stateFormat: 'q8' });
      q8.loadStateDict(stored);
      const q8Twin = createReferenceOptimizer('adamw', tensors.map((t) => ({ name: t.name, data: t.data.slice() })), { stateFormat: 'q8' });
      q8Twin.loadStateDict(plain);
      expect((await q8.stateDict()).state).toEqual(q8Twin.stateDict().state);
      b.loadStateDict(await q8.stateDict());
      twin.loadStateDict(await q8.stateDict({ dequantize: true }));
      expect((await b.stateDict()).state).toEqual(twin.stateDict().state);
      for (const x of [a, b, f32, q8, pa, pb]) x.destroy();
    });
  });

  test('misuse: optimizers whose state q4 cannot hold, bad options, dicts that do not fit; nothing changes', async () => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, namedTensors([5000], 2));
      // Where q8 is refused, q4 is, for the same reason (every row of every matrix: tests/unit/q4.test.ts).
      expect(() => createOptimizer('prodigy', params, { stateFormat: 'q4' })).toThrow(/stateFormat "q4": Prodigy's s and p0 are not moving averages/);
      expect(() => createReferenceOptimizer('prodigy', [new Float32Array(3)], { stateFormat: 'q4' })).toThrow(/stateFormat "q4": Prodigy's s and p0 are not moving averages/);
      expect(() => createOptimizer('adafactor', params, { stateFormat: 'q4' })).toThrow(/adafactor keeps its state factored/);
      expect(() => createOptimizer('adam', params, { stateFormat: 'q4', cautious: true })).toThrow(/stateFormat "q4": /);
      expect(() => createOptimizer('adam', params, { stateFormat: 'q4', stochasticRounding: true })).toThrow(/stochasticRounding rounds 16-bit state/);
      for (const bad of [4096, 100]) {
        expect(() => createOptimizer('adam', params, { stateFormat: 'q4', quantization: { blockSize: bad } })).toThrow(`stateFormat 'q4': quantization.blockSize must be a power of two in [64, 2048], got ${bad}`);
      }
      const opt = createOptimizer('adam', params, { stateFormat: 'q4' });
      params.writeGrads([gradFor(1, 0, 5000)]);
      opt.step();
      const good = await opt.stateDict();
      const broken: [string, (sd: OptimizerStateDict<any>) => unknown, RegExp][] = [
        ['no quantization', (sd) => delete sd.quantization, /stateFormat 'q4' needs its quantization/],
        ['codes of q8 length', (sd) => ((sd.state[0]!.exp_avg as Q8Slot).codes = new Uint8Array(5000)), /exp_avg must be \{ codes: Uint8Array of length 2500, two codes per byte, absmax: Float32Array of length 40 \} \(stateFormat 'q4', blocks of 128\)/],
        ['missing absmax', (sd) => ((sd.state[0]!.exp_avg_sq as any).absmax = undefined), /exp_avg_sq must be \{ codes: Uint8Array of length 2500/],
        ['a block too large for q4', (sd) => (sd.quantization = { blockSize: 4096, minQuantizedElements: 4096 }), /quantization.blockSize must be a power of two in \[64, 2048\]/],
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
  console.log(`q4 parity: largest |gpu − twin| = ${worst.maxAbs} (${worst.where})`);
});
