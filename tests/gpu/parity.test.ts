/**
 * GPU kernels vs the CPU reference, for every optimizer × option in the matrix, several tensors of
 * odd sizes in one parameter set (one dispatch), 10 steps, params and every state slot.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { namedTensors, randomArray, rng } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { runParity } from '../helpers/parity.js';
import { ODD_SIZES, OPTION_MATRIX, PARITY_TOLERANCE } from '../helpers/cases.js';

const worst = { maxAbs: 0, maxRel: 0, where: '' };

describe.each(Object.entries(OPTION_MATRIX))('%s', (name, matrix) => {
  test.each(matrix.map((options) => [JSON.stringify(options), options] as const))('%s', async (_label, options) => {
    await withDevice(async (device) => {
      const tensors = namedTensors(ODD_SIZES, 7);
      const result = await runParity(device, {
        name,
        options,
        tensors,
        steps: 10,
        checkAt: [1, 2, 5, 10],
        grad: (step, i, length) => randomArray(length, rng(step * 1000 + i)),
        tolerance: PARITY_TOLERANCE,
      });
      if (result.maxRel > worst.maxRel) Object.assign(worst, { maxRel: result.maxRel, where: `${name} ${JSON.stringify(options)}` });
      worst.maxAbs = Math.max(worst.maxAbs, result.maxAbs);
      result.gpu.destroy();
      result.params.destroy();
      expect(result.failures).toEqual([]);
    });
  });
});

afterAll(() => {
  console.log(`parity: largest |gpu − ref| = ${worst.maxAbs}, largest relative = ${worst.maxRel} (${worst.where})`);
});
