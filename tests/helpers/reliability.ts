/**
 * The reliability suite's fixture: a GPU optimizer and its CPU reference after two steps, a
 * snapshot of everything a misuse must leave alone (parameters, gradients, state, counts, loss
 * scaler, accumulator, live GPU buffers), and the check that the next valid step still equals
 * the reference.
 */
import { expect } from 'vitest';
import {
  createOptimizer,
  createParameterSet,
  createReferenceOptimizer,
  type Optimizer,
  type ParameterSet,
  type ReferenceOptimizer,
} from '../../src/index.js';
import { namedTensors, randomArray, rng } from './data.js';
import { compareWithReference } from './parity.js';
import { PARITY_TOLERANCE } from './cases.js';

/** Counts the GPU buffers created through `device` that are not destroyed yet. */
export function trackBuffers(device: GPUDevice) {
  const live = new Set<GPUBuffer>();
  const labels = new Map<GPUBuffer, string>();
  const create = device.createBuffer;
  device.createBuffer = (descriptor) => {
    const buffer = create.call(device, descriptor);
    live.add(buffer);
    labels.set(buffer, descriptor.label ?? '');
    const destroy = buffer.destroy;
    buffer.destroy = () => {
      live.delete(buffer);
      destroy.call(buffer);
    };
    return buffer;
  };
  return {
    get live() {
      return live.size;
    },
    liveLabels: () => [...live].map((b) => labels.get(b)!),
    restore: () => {
      device.createBuffer = create;
    },
  };
}

export const FIXTURE_OPTIONS = {
  lr: 0.01,
  lossScaling: { initScale: 256, growthInterval: 3 },
  gradClipping: { maxNorm: 50 },
  accumulation: { steps: 2 },
  lrSchedule: (t: number, lr: number) => lr / (1 + t),
  groups: [{ tensors: ['t1_70'], weightDecay: 0.1 }],
};

export interface Fixture {
  device: GPUDevice;
  params: ParameterSet;
  opt: Optimizer<any>;
  ref: ReferenceOptimizer<any>;
  name: string;
  options: Record<string, unknown>;
  grads: (call: number) => Float32Array[];
  buffers: ReturnType<typeof trackBuffers>;
}

/** adam (or `name`) over tensors of 5 and 70 elements, after 3 step() calls (one accumulation pending). */
export async function makeFixture(device: GPUDevice, name = 'adam', options: Record<string, unknown> = FIXTURE_OPTIONS): Promise<Fixture> {
  const buffers = trackBuffers(device);
  const tensors = namedTensors([5, 70], 101);
  const params = createParameterSet(device, tensors);
  const opt = createOptimizer(name as 'adam', params, options as never);
  const ref = createReferenceOptimizer(name as 'adam', tensors.map((t) => ({ name: t.name, data: t.data.slice() })), options as never);
  const grads = (call: number) => tensors.map((t, i) => randomArray(t.data.length, rng(call * 31 + i), 256));
  for (let call = 1; call <= 3; call++) {
    params.writeGrads(grads(call));
    opt.step();
    ref.step(grads(call));
  }
  return { device, params, opt, ref, name, options, grads, buffers };
}

/** Everything a refused call must leave as it was. */
export async function snapshot(f: Fixture) {
  return {
    params: await f.params.read(),
    grads: await f.params.readGrads(),
    stateDict: await f.opt.stateDict(),
    stepCount: f.opt.stepCount,
    microStepCount: f.opt.microStepCount,
    groups: JSON.stringify(f.opt.groups),
    live: f.buffers.live,
  };
}

/** The refused call changed nothing, and the next valid step still equals the reference. */
export async function expectUnchangedAndUsable(f: Fixture, before: Awaited<ReturnType<typeof snapshot>>) {
  expect(await snapshot(f)).toEqual(before);
  const grads = f.grads(4);
  f.params.writeGrads(grads);
  f.opt.step();
  f.ref.step(grads);
  const r = await compareWithReference(f.opt, f.params, f.ref, PARITY_TOLERANCE, `${f.name} after a refused call`);
  expect(r.failures).toEqual([]);
  expect(f.opt.stepCount).toBe(f.ref.stepCount);
  expect(f.opt.microStepCount).toBe(f.ref.microStepCount);
}

export function disposeFixture(f: Fixture) {
  f.opt.destroy();
  f.params.destroy();
  f.buffers.restore();
}
