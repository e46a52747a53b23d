/**
 * The torch-named schedules and ReduceLROnPlateau driving the GPU optimizer: several epochs of
 * steps recorded into one encoder each, the plateau fed a metric between epochs, against the CPU
 * twin driven the same way (the lrs themselves are checked against torch in
 * tests/unit/schedules-torch.test.ts).
 */
import { describe, expect, test } from 'vitest';
import { cosineAnnealingWarmRestarts, createOptimizer, createParameterSet, createReferenceOptimizer, linearLr, reduceLrOnPlateau, sequentialLr } from '../../src/index.js';
import { namedTensors, randomArray, rng } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { compareWithReference, stageGradients } from '../helpers/parity.js';

const gradFor = (step: number, i: number, length: number) => randomArray(length, rng(step * 37 + i));
/** A metric that improves for two epochs, then stalls: patience 1 reduces from the fourth on. */
const METRICS = [1, 0.5, 0.5, 0.5, 0.5, 0.5];
const STEPS_PER_EPOCH = 4;

describe('torch-named schedules and reduceLrOnPlateau on the GPU optimizer', () => {
  test('sgd with momentum: sequentialLr(linearLr, cosineAnnealingWarmRestarts) and a plateau match the twin', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors([5, 300], 83);
      const options = {
        lr: 0.05,
        momentum: 0.9,
        groups: [{ tensors: [tensors[1]!.name], lr: 0.02 }],
        lrSchedule: sequentialLr([linearLr({ startFactor: 0.25, totalIters: 6 }), cosineAnnealingWarmRestarts({ T0: 5, TMult: 2 })], [6]),
      };
      const params = createParameterSet(device, tensors);
      const gpu = createOptimizer('sgd', params, options);
      const ref = createReferenceOptimizer('sgd', tensors.map((t) => ({ name: t.name, data: t.data.slice() })), options);
      const gpuPlateau = reduceLrOnPlateau(gpu, { patience: 1, factor: 0.5 });
      const refPlateau = reduceLrOnPlateau(ref, { patience: 1, factor: 0.5 });
      for (const [epoch, metric] of METRICS.entries()) {
        const grads = Array.from({ length: STEPS_PER_EPOCH }, (_, s) => tensors.map((t, i) => gradFor(epoch * STEPS_PER_EPOCH + s, i, t.data.length)));
        const staged = stageGradients(device, params, grads);
        const encoder = device.createCommandEncoder({ label: `test:plateau-epoch-${epoch}` });
        grads.forEach((g, s) => {
          staged.record(encoder, s);
          gpu.step(encoder);
          ref.step(g);
        });
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
        staged.destroy();
        gpuPlateau.step(metric);
        refPlateau.step(metric);
        expect(gpu.groups.map((g) => g.lr)).toEqual(ref.groups.map((g) => g.lr));
      }
      // Two reductions happened (epochs 3 and 5), so the later steps ran at the reduced lrs.
      expect(gpu.groups.map((g) => g.lr)).toEqual([0.05 / 4, 0.02 / 4]);
      const r = await compareWithReference(gpu, params, ref, { atol: 1e-7, rtol: 1e-5 }, 'schedules and plateau');
      expect(r.failures).toEqual([]);
      gpu.destroy();
      params.destroy();
    });
  });
});
