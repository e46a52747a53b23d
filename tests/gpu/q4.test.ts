/**
 * 4-bit block-wise state (stateFormat 'q4', torchao's 4-bit AdamW: its maps, blocks of 128, two
 * codes per byte): the GPU against the CPU twin, the stored state bit for bit (codes, absmax and
 * the f32 state of small tensors, the dicts equal) and the params within PARITY_TOLERANCE (the f32
 * update itself may differ in a last bit on SwiftShader, as in every format); state dicts, JSON
 * and PyTorch checkpoints; the refusals; the memory.
 */
import { describe, expect, test } from 'vitest';
import { createOptimizer, createParameterSet, createReferenceOptimizer, fromTorchCheckpoint, stateDictFromJSON, stateDictToJSON, toTorchCheckpoint, type OptimizerStateDict } from '../../src/index.js';
import type { Q8Slot } from '../../src/state/state-dict.js';
import { namedTensors, randomArray, rng, SPECIAL_GRADIENTS } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { expectRestoredTwin, runParity } from '../helpers/parity.js';
import { OPTION_MATRIX, PARITY_TOLERANCE } from '../helpers/cases.js';
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
});
