/**
 * 4-bit block-wise state (stateFormat 'q4', torchao's 4-bit AdamW: its maps, blocks of 128, two
 * codes per byte): the GPU against the CPU twin, the stored state bit for bit (codes, absmax and
 * the f32 state of small tensors, the dicts equal) and the params within PARITY_TOLERANCE (the f32
 * update itself may differ in a last bit on SwiftShader, as in every format); state dicts, JSON
 * and PyTorch checkpoints; the refusals; the memory.
 */
import { describe, expect, test } from 'vitest';
import { createOptimizer, createParameterSet, createReferenceOptimizer, fromTorchCheckpoint, toTorchCheckpoint, type OptimizerStateDict } from '../../src/index.js';
import type { Q8Slot } from '../../src/state/state-dict.js';
import { namedTensors, randomArray, rng, SPECIAL_GRADIENTS } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { expectRestoredTwin, runParity } from '../helpers/parity.js';
import { OPTION_MATRIX, PARITY_TOLERANCE } from '../helpers/cases.js';
import { Q4_MAPS } from '../../src/state/q8.js';
import { RECORDS } from '../helpers/records/index.js';

const SIZES = [1, 3, 63, 64, 65, 1000, 4099];
/** Tensors from 1000 elements on are quantized, the smaller ones keep f32 state: both paths at once. */
const Q4 = { stateFormat: 'q4', quantization: { minQuantizedElements: 1000 } };
const gradFor = (step: number, i: number, length: number) => randomArray(length, rng(step * 1000 + i));
/** Adam's and AdamW's option rows whose kernel block-wise state holds (cautious rows are refused). */
const ROWS = (['adam', 'adamw'] as const).flatMap((name) =>
  (OPTION_MATRIX[name] as readonly object[]).filter((row) => !(RECORDS[name].noQ8 as ((row: object) => boolean) | undefined)?.(row)).map((options) => [`${name} ${JSON.stringify(options)}`, name, options] as const),
);

/** Runs a parity case and checks the stored forms (codes, absmax, side values) are equal, bit for bit. */
async function exactParity(device: GPUDevice, c: Omit<Parameters<typeof runParity>[1], 'tolerance'>) {
  const result = await runParity(device, { ...c, tolerance: PARITY_TOLERANCE });
  expect(result.failures).toEqual([]);
  const [gpu, ref] = [await result.gpu.stateDict(), result.ref.stateDict()];
  expect(gpu.stateFormat).toBe('q4');
  expect(gpu.state).toEqual(ref.state);
  return { ...result, sd: gpu };
}

describe('q4 state: Adam and AdamW against the twin, bit for bit', () => {
  test.each(ROWS)('%s: 7 odd sizes, 8 steps', async (_l, name, options) => {
    await withDevice(async (device) => {
      const { sd, gpu, params } = await exactParity(device, { name, options: { ...options, ...Q4 }, tensors: namedTensors(SIZES, 7), steps: 8, checkAt: [1, 2, 8], grad: gradFor });
      expect(sd.quantization).toEqual({ blockSize: 128, minQuantizedElements: 1000 });
      const m = sd.state[6]!.exp_avg as Q8Slot; // 4099 elements: 2050 bytes, 33 runs of 128 (the tensor starts at a block)
      expect(m.codes).toBeInstanceOf(Uint8Array);
      expect([m.codes.length, m.absmax.length]).toEqual([2050, 33]);
      expect(sd.state[4]!.exp_avg).toBeInstanceOf(Float32Array);
      gpu.destroy();
      params.destroy();
    });
  });

  test.each([
    ['adam', { blockSize: 64, minQuantizedElements: 0 }],
    ['adamw', { blockSize: 2048, minQuantizedElements: 100 }],
  ] as const)('%s %j: every tensor size, 6 steps', async (name, quantization) => {
    await withDevice(async (device) => {
      const { gpu, params } = await exactParity(device, { name, options: { stateFormat: 'q4', quantization }, tensors: namedTensors([...SIZES, 9001], 9), steps: 6, checkAt: [6], grad: gradFor });
      gpu.destroy();
      params.destroy();
    });
  });

  test('special gradients (NaN, ±Inf, ±0, subnormals, huge) and zeros', async () => {
    await withDevice(async (device) => {
      const special = SPECIAL_GRADIENTS.length;
      const { gpu, params } = await exactParity(device, {
        name: 'adam',
        options: { stateFormat: 'q4', quantization: { minQuantizedElements: 30 }, amsgrad: true },
        tensors: namedTensors([special * 3 + 1, 700, 300, 20], 3),
        steps: 4,
        checkAt: [1, 2, 4],
        grad: (step, i, length) => (i === 0 ? Float32Array.from({ length }, (_, k) => SPECIAL_GRADIENTS[(k + step) % special]!) : i === 2 ? new Float32Array(length) : gradFor(step, i, length)),
      });
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

  test('misuse: optimizers q4 is not offered for, bad options, dicts that do not fit; nothing changes', async () => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, namedTensors([5000], 2));
      for (const name of ['sgd', 'lamb', 'adamax', 'lion', 'ademamix'] as const) {
        const offered = new RegExp(`stateFormat "q4" is offered for adam, adamw .*not for ${name}`);
        expect(() => createOptimizer(name, params, { stateFormat: 'q4' })).toThrow(offered);
        expect(() => createReferenceOptimizer(name, [new Float32Array(3)], { stateFormat: 'q4' })).toThrow(offered);
      }
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
