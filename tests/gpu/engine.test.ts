/**
 * The reliability contract's other clauses: one step count (skips, hyperparameter changes, save →
 * load), step tables whose size does not grow with the step number, steps spread over unsubmitted
 * encoders, refused commands, destroy and device loss, leaks, NaN semantics of clipping, and state
 * dicts through JSON.
 */
import { describe, expect, test } from 'vitest';
import {
  cosineWithWarmup,
  createOptimizer,
  createParameterSet,
  createReferenceOptimizer,
  requestOptimizerDevice,
  stateDictFromJSON,
  stateDictToJSON,
} from '../../src/index.js';
import { namedTensors, randomArray, rng } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';
import { compareWithReference, runParity, stageGradients } from '../helpers/parity.js';
import { PARITY_TOLERANCE } from '../helpers/cases.js';
import { trackBuffers } from '../helpers/reliability.js';

const SIZES = [5, 70];
const gradFor = (step: number, i: number, length: number, scale = 1) => randomArray(length, rng(step * 7919 + i), scale);
const copies = (tensors: { name: string; data: Float32Array }[]) => tensors.map((t) => ({ name: t.name, data: t.data.slice() }));

describe('one step count', () => {
  test('setHyperparameters({ betas }) after skipped steps equals the reference', async () => {
    await withDevice(async (device) => {
      const options = { lr: 0.01, lossScaling: { initScale: 64 } };
      const result = await runParity(device, {
        name: 'adam', options, tensors: namedTensors(SIZES, 3), steps: 6, checkAt: [6], tolerance: PARITY_TOLERANCE,
        grad: (step, i, length) => {
          const g = gradFor(step, i, length, 64);
          if ((step === 2 || step === 4) && i === 1) g[3] = NaN;
          return g;
        },
      });
      expect(result.failures).toEqual([]);
      for (const x of [result.gpu, result.ref]) x.setHyperparameters({ betas: [0.5, 0.9] });
      for (let s = 7; s <= 9; s++) {
        const grads = result.params.tensors.map((t, i) => gradFor(s, i, t.length, 64));
        result.params.writeGrads(grads);
        result.gpu.step();
        result.ref.step(grads);
      }
      const r = await compareWithReference(result.gpu, result.params, result.ref, PARITY_TOLERANCE, 'betas after skips');
      expect(r.failures).toEqual([]);
      result.gpu.destroy();
      result.params.destroy();
    });
  });

  test('save → immediate load changes nothing (skips, loss scaling, a schedule, a pending accumulation)', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors(SIZES, 5);
      const options = { lossScaling: { initScale: 64, growthInterval: 2 }, lrSchedule: cosineWithWarmup({ warmupSteps: 2, totalSteps: 12 }), accumulation: { steps: 2 } };
      const grads = (s: number) => tensors.map((t, i) => {
        const g = gradFor(s, i, t.data.length, 64);
        if ((s === 3 || s === 4 || s === 7) && i === 0) g[0] = Infinity;
        return g;
      });
      const run = async (reload: boolean) => {
        const params = createParameterSet(device, tensors);
        const opt = createOptimizer('adam', params, options);
        for (let s = 1; s <= 16; s++) {
          params.writeGrads(grads(s));
          opt.step();
          if (reload && (s === 7 || s === 9)) opt.loadStateDict(await opt.stateDict()); // s = 9: mid-accumulation
        }
        const out = { params: await params.read(), sd: await opt.stateDict() };
        opt.destroy();
        params.destroy();
        return out;
      };
      const [plain, reloaded] = [await run(false), await run(true)];
      expect(plain.sd.step).toBeLessThan(plain.sd.stepCalls!); // steps were skipped
      expect(reloaded).toEqual(plain);
      // And the reference agrees with both.
      const ref = createReferenceOptimizer('adam', copies(tensors), options);
      for (let s = 1; s <= 16; s++) ref.step(grads(s));
      expect(ref.stateDict()).toEqual(plain.sd);
    });
  });

  test('loadStateDict at step 10⁷ and past 2³² costs no memory and continues exactly', async () => {
    await withDevice(async (device) => {
      for (const start of [10_000_000, 2 ** 32 + 5]) {
        const tensors = namedTensors(SIZES, 7);
        const options = { lr: 0.01, lossScaling: { initScale: 8 } };
        const ref = createReferenceOptimizer('adam', copies(tensors), options);
        ref.loadStateDict({ ...ref.stateDict(), step: start, stepCalls: start + 3 });
        const params = createParameterSet(device, tensors);
        const opt = createOptimizer('adam', params, options);
        const buffers = trackBuffers(device);
        opt.loadStateDict(ref.stateDict());
        for (let s = 1; s <= 4; s++) {
          const g = tensors.map((t, i) => gradFor(s, i, t.data.length, 8));
          if (s === 2) g[1]![5] = NaN;
          params.writeGrads(g);
          opt.step();
          ref.step(g);
        }
        const r = await compareWithReference(opt, params, ref, PARITY_TOLERANCE, `from step ${start}`);
        expect(r.failures).toEqual([]);
        expect((await opt.stateDict()).step).toBe(start + 3);
        buffers.restore();
        expect(buffers.live).toBe(0); // no table, ring or anything else was allocated for the big step
        opt.destroy();
        params.destroy();
      }
    });
  });
});

describe('20 000 steps', () => {
  test('with skips, loss scaling, a schedule, two groups and a save → JSON → load halfway: bit-exact against the reference; the step table never grows', async () => {
    await withDevice(async (device) => {
      const STEPS = 20_000;
      const PATTERNS = 31;
      const tensors = namedTensors(SIZES, 11);
      const options = {
        lr: 0.003,
        stepsInFlight: 100, // one encoder records 100 steps
        lossScaling: { initScale: 1024, growthInterval: 30 },
        gradClipping: { maxNorm: 1e9 }, // the clipping path runs, but never clips (norms are not bit-exact)
        lrSchedule: cosineWithWarmup({ warmupSteps: 500, totalSteps: STEPS }),
        groups: [{ tensors: ['t1_70'], betas: [0.8, 0.99] as [number, number] }],
      };
      // Step s uses gradient pattern s mod 31; pattern 0 holds a NaN (a skipped step every 31
      // steps), and steps 9000–9011 all hit it (a run of skips that backs the scale off 2¹²).
      const patterns = Array.from({ length: PATTERNS }, (_, p) => tensors.map((t, i) => {
        const g = gradFor(p + 1, i, t.data.length, 1024);
        if (p === 0 && i === 1) g[7] = NaN;
        return g;
      }));
      const patternOf = (s: number) => (s >= 9000 && s < 9012 ? 0 : s % PATTERNS);
      const ref = createReferenceOptimizer('adam', copies(tensors), options);
      const params = createParameterSet(device, tensors);
      let opt = createOptimizer('adam', params, options);
      const staged = stageGradients(device, params, patterns);
      const buffers = trackBuffers(device);
      const PER_ENCODER = 100;
      for (let s = 0; s < STEPS; s += PER_ENCODER) {
        const encoder = device.createCommandEncoder({ label: 'test:long-run' });
        for (let k = s; k < s + PER_ENCODER; k++) {
          staged.record(encoder, patternOf(k));
          opt.step(encoder);
          ref.step(patterns[patternOf(k)]!);
        }
        device.queue.submit([encoder.finish()]);
        if ((s + PER_ENCODER) % 500 === 0) await device.queue.onSubmittedWorkDone();
        if (s + PER_ENCODER === STEPS / 2) {
          const json = stateDictToJSON(await opt.stateDict());
          opt.destroy();
          opt = createOptimizer('adam', params, options);
          opt.loadStateDict(stateDictFromJSON(json));
        }
      }
      const r = await compareWithReference(opt, params, ref, { atol: 0, rtol: 0 }, 'after 20 000 steps');
      expect(r.failures).toEqual([]);
      const sd = await opt.stateDict();
      expect(sd.stepCalls).toBe(STEPS);
      expect(sd.step).toBe(ref.stateDict().step);
      expect(STEPS - sd.step).toBeGreaterThan(600); // the skips happened
      // Only the optimizer made at the reload created buffers: the ring and the step table never grew.
      const labels = buffers.liveLabels().filter((l) => /scalars|stepTable/.test(l));
      expect(labels.sort()).toEqual(['webgpu-optim:adam:scalars×100', 'webgpu-optim:adam:stepTable×1024']);
      buffers.restore();
      staged.destroy();
      opt.destroy();
      params.destroy();
    });
  }, 120_000);
});

describe('command encoders', () => {
  test('steps spread over several unsubmitted encoders, more than stepsInFlight, equal one-by-one submits', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors(SIZES, 13);
      const options = { lr: 0.05, stepsInFlight: 2, lossScaling: { initScale: 4 } };
      const grads = Array.from({ length: 9 }, (_, s) => tensors.map((t, i) => gradFor(s + 1, i, t.data.length, 4)));
      const pa = createParameterSet(device, tensors);
      const a = createOptimizer('adam', pa, options);
      for (const [s, g] of grads.entries()) {
        a.setHyperparameters({ lr: 0.01 * (s + 1) });
        pa.writeGrads(g);
        a.step();
      }
      const pb = createParameterSet(device, tensors);
      const b = createOptimizer('adam', pb, options);
      const staged = stageGradients(device, pb, grads);
      const encoders = [0, 1, 2].map((e) => device.createCommandEncoder({ label: `test:encoder${e}` }));
      for (const [s] of grads.entries()) {
        b.setHyperparameters({ lr: 0.01 * (s + 1) });
        const encoder = encoders[Math.floor(s / 3)]!;
        staged.record(encoder, s);
        b.step(encoder);
      }
      device.queue.submit(encoders.map((e) => e.finish()));
      expect(await pb.read()).toEqual(await pa.read());
      expect(await b.stateDict()).toEqual(await a.stateDict());
      staged.destroy();
      for (const x of [a, b, pa, pb]) x.destroy();
    });
  });

  test('an encoder finished before the optimizer saw it: the GPU refuses the step, later calls throw, loadStateDict recovers', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors(SIZES, 17);
      const params = createParameterSet(device, tensors);
      const opt = createOptimizer('adam', params, { lr: 0.01 });
      params.writeGrads(tensors.map((t, i) => gradFor(1, i, t.data.length)));
      opt.step();
      const saved = await opt.stateDict();
      const encoder = device.createCommandEncoder({ label: 'test:finished-early' });
      encoder.finish();
      opt.step(encoder); // WebGPU reports this asynchronously, as a validation error
      await device.queue.onSubmittedWorkDone();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(() => opt.step()).toThrow(/refuses further use: the GPU refused step 2's commands [^]*Load a saved state dict/);
      await expect(opt.stateDict()).rejects.toThrow(/refuses further use/);
      opt.loadStateDict(saved);
      opt.step();
      expect(opt.stepCount).toBe(2);
      opt.destroy();
      params.destroy();
    });
  });
});

describe('destroy, device loss and leaks', () => {
  test('every buffer made by a parameter set and its optimizers is destroyed', async () => {
    await withDevice(async (device) => {
      const buffers = trackBuffers(device);
      const params = createParameterSet(device, namedTensors(SIZES, 19), { limits: { maxStorageBufferBindingSize: 16384 } });
      const opts = [
        createOptimizer('adam', params, { amsgrad: true, groups: [{ tensors: ['t0_5'], lr: 0.1 }], accumulation: { steps: 2 }, lossScaling: true, gradClipping: { maxNorm: 1 }, stepsInFlight: 1 }),
        createOptimizer('sgd', params, { lr: 0.1, momentum: 0.9 }),
      ];
      const encoder = device.createCommandEncoder({ label: 'test:leaks' });
      for (let s = 0; s < 6; s++) for (const o of opts) o.step(encoder); // grows the first one's ring
      device.queue.submit([encoder.finish()]);
      await opts[0]!.stateDict();
      expect(buffers.live).toBeGreaterThan(10);
      for (const o of opts) o.destroy();
      params.destroy();
      expect(buffers.liveLabels()).toEqual([]);
      buffers.restore();
    });
  });

  test('after destroy(), every use throws; a destroyed set refuses new optimizers', async () => {
    await withDevice(async (device) => {
      const params = createParameterSet(device, namedTensors(SIZES, 23));
      const opt = createOptimizer('adam', params, { lossScaling: true });
      opt.destroy();
      expect(() => opt.step()).toThrow(/optimizer adam \("webgpu-optim:adam"\) was destroyed/);
      expect(() => opt.setHyperparameters({ lr: 1 })).toThrow(/was destroyed/);
      await expect(opt.getLossScale()).rejects.toThrow(/was destroyed/);
      await expect(opt.stateDict()).rejects.toThrow(/was destroyed/);
      expect(() => opt.loadStateDict({} as never)).toThrow(/was destroyed/);
      const other = createOptimizer('sgd', params, { lr: 0.1 });
      params.destroy();
      expect(() => other.step()).toThrow(/parameter set "webgpu-optim" was destroyed/);
      await expect(params.read()).rejects.toThrow(/parameter set "webgpu-optim" was destroyed/);
      expect(() => params.writeGrads([new Float32Array(5), new Float32Array(70)])).toThrow(/was destroyed/);
      expect(() => createOptimizer('adam', params)).toThrow(/parameter set "webgpu-optim" was destroyed/);
      other.destroy();
    });
  });

  test('a lost device: every call throws with the reason', async () => {
    const device = await requestOptimizerDevice();
    const params = createParameterSet(device, namedTensors(SIZES, 29));
    const opt = createOptimizer('adam', params, { lossScaling: true });
    params.writeGrads(params.tensors.map((t, i) => gradFor(1, i, t.length)));
    opt.step();
    device.destroy();
    await device.lost;
    expect(() => opt.step()).toThrow(/its GPU device was lost \(destroyed/);
    await expect(opt.getLossScale()).rejects.toThrow(/device was lost/);
    await expect(params.read()).rejects.toThrow(/device was lost/);
    expect(() => createOptimizer('adam', params)).toThrow(/device was lost/);
  });
});

describe('non-finite semantics', () => {
  test.each([2, 'inf'] as const)('clip_grad_norm_ (norm type %s) with a NaN gradient: NaN norm, NaN parameters, as torch', async (normType) => {
    await withDevice(async (device) => {
      const result = await runParity(device, {
        name: 'sgd', options: { lr: 0.1, gradClipping: { maxNorm: 1, normType }, skipNonFinite: false }, tensors: namedTensors(SIZES, 31), steps: 2, checkAt: [2], tolerance: PARITY_TOLERANCE,
        grad: (step, i, length) => {
          const g = gradFor(step, i, length);
          if (step === 2 && i === 0) g[1] = NaN;
          return g;
        },
      });
      expect(result.failures).toEqual([]);
      expect((await result.gpu.readControl()).totalNorm).toBeNaN();
      expect(Array.from((await result.params.read())[1]!).every(Number.isNaN)).toBe(true);
      result.gpu.destroy();
      result.params.destroy();
    });
  });

  test('a state dict holding NaN and ±Inf survives JSON exactly', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors(SIZES, 37);
      const result = await runParity(device, {
        name: 'adam', options: { amsgrad: true }, tensors, steps: 2, checkAt: [], tolerance: PARITY_TOLERANCE,
        grad: (step, i, length) => {
          const g = gradFor(step, i, length);
          if (i === 0) g.set([NaN, Infinity, -Infinity, -0]);
          return g;
        },
      });
      const sd = await result.gpu.stateDict();
      expect(Array.from(sd.state[0]!.exp_avg as Float32Array).some(Number.isNaN)).toBe(true);
      const back = stateDictFromJSON(stateDictToJSON(sd));
      expect(back).toEqual(sd);
      expect(JSON.parse(stateDictToJSON(sd)).format).toBe('webgpu-optim/state-dict');
      result.gpu.loadStateDict(back as never);
      expect(await result.gpu.stateDict()).toEqual(sd);
      result.gpu.destroy();
      result.params.destroy();
    });
  });
});

describe('Schedule-Free AdamW: innerMomentum per group', () => {
  test('a group at innerMomentum 0 keeps no exp_avg and steps as without momentum, beside a group at 0.9, bit for bit with the twin', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors([5, 70, 300], 43);
      const options = { lr: 0.01, innerMomentum: 0.9, groups: [{ tensors: ['t1_70'], innerMomentum: 0 }] };
      const result = await runParity(device, { name: 'adamw_schedule_free', options, tensors, steps: 5, checkAt: [5], grad: (s, i, n) => gradFor(s, i, n), tolerance: { atol: 0, rtol: 0 } });
      expect(result.failures).toEqual([]);
      const sd = await result.gpu.stateDict();
      expect(sd.state.map((slots) => Object.keys(slots).filter((k) => k !== 'step').sort())).toEqual([['exp_avg', 'exp_avg_sq', 'z'], ['exp_avg_sq', 'z'], ['exp_avg', 'exp_avg_sq', 'z']]);
      // The group at 0 equals an optimizer without momentum over that tensor alone.
      const alone = createReferenceOptimizer('adamw_schedule_free', [{ name: 't1_70', data: tensors[1]!.data.slice() }], { lr: 0.01 });
      for (let s = 1; s <= 5; s++) alone.step([gradFor(s, 1, 70)]);
      expect((await result.params.read())[1]).toEqual(alone.params[0]);
      result.gpu.destroy();
      result.params.destroy();
    });
  });
});

describe('train and eval modes (Schedule-Free AdamW)', () => {
  test('eval() and train() switch the parameters with one dispatch each, as the twin; the mode is saved and restored', async () => {
    await withDevice(async (device) => {
      const tensors = namedTensors([5, 70, 300], 41);
      const options = { lr: 0.01, warmupSteps: 2, weightDecay: 0.01, groups: [{ tensors: ['t1_70'], weightDecay: 0 }] };
      const result = await runParity(device, { name: 'adamw_schedule_free', options, tensors, steps: 4, checkAt: [4], grad: (s, i, n) => gradFor(s, i, n), tolerance: PARITY_TOLERANCE });
      expect(result.failures).toEqual([]);
      const { gpu, ref, params } = result;
      const encoder = device.createCommandEncoder({ label: 'test:eval' });
      gpu.eval(encoder);
      device.queue.submit([encoder.finish()]);
      ref.eval();
      expect(gpu.mode).toBe('eval');
      expect(await params.read()).toEqual(ref.params); // x, bit for bit
      expect(() => gpu.step()).toThrow(/adamw_schedule_free: the parameters hold the averaged point \(eval mode\); call train\(\) before step\(\)/);
      const sd = await gpu.stateDict();
      expect(sd.mode).toBe('eval');
      // A new optimizer over the saved parameters takes the mode from the state dict.
      const saved = await params.read();
      const pb = createParameterSet(device, tensors.map((t, i) => ({ name: t.name, data: saved[i]! })));
      const b = createOptimizer('adamw_schedule_free', pb, options);
      b.loadStateDict(sd);
      expect(b.mode).toBe('eval');
      for (const x of [gpu, b]) x.train();
      ref.train();
      expect(await params.read()).toEqual(ref.params); // y again
      expect(await pb.read()).toEqual(ref.params);
      const grads = tensors.map((t, i) => gradFor(5, i, t.data.length));
      for (const [o, p] of [[gpu, params], [b, pb]] as const) {
        p.writeGrads(grads);
        o.step();
      }
      ref.step(grads);
      for (const [o, p] of [[gpu, params], [b, pb]] as const) {
        const r = await compareWithReference(o, p, ref, PARITY_TOLERANCE, 'after eval → train → step');
        expect(r.failures).toEqual([]);
      }
      for (const x of [gpu, b, params, pb]) x.destroy();
    });
  });
});
