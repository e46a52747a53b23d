/** Runs the GPU optimizer and the CPU reference side by side and compares params and every slot. */
import { expect } from 'vitest';
import {
  createOptimizer,
  createParameterSet,
  createReferenceOptimizer,
  stateDictFromJSON,
  stateDictToJSON,
  type Optimizer,
  type ParameterSet,
  type ParameterSetOptions,
  type ReferenceOptimizer,
} from '../../src/index.js';
import { dequantizeStateDict } from '../../src/state/state-dict.js';
import { compare, type Tolerance } from './allclose.js';
import { PARITY_TOLERANCE } from './cases.js';
import { RECORDS, type TestOptimizerName } from './records/index.js';

/** The tensors with the shapes the optimizer's record gives those without one (Muon's matrices; records/record.ts, `shapes`). */
export function recordShaped<T extends { data: Float32Array; shape?: readonly number[] }>(name: string, tensors: readonly T[]): T[] {
  const shapes = (RECORDS as Record<string, { shapes?: (sizes: readonly number[]) => readonly (readonly number[])[] }>)[name as TestOptimizerName]?.shapes?.(tensors.map((t) => t.data.length));
  return tensors.map((t, i) => (t.shape === undefined && shapes ? { ...t, shape: shapes[i] } : t));
}

export interface ParityCase {
  name: string;
  options: Record<string, unknown>;
  tensors: { name: string; data: Float32Array; shape?: readonly number[] }[];
  steps: number;
  /** Gradient of tensor i at step s (1-based). */
  grad: (step: number, tensor: number, length: number) => Float32Array;
  /** Steps after which params and state are read back and compared. */
  checkAt: readonly number[];
  tolerance: Tolerance;
  setOptions?: ParameterSetOptions;
}

export interface ParityResult {
  maxAbs: number;
  maxRel: number;
  failures: string[];
  gpu: Optimizer<any>;
  params: ParameterSet;
  ref: ReferenceOptimizer<any>;
}

/** Compares GPU params and every state slot of every tensor against the reference. */
export async function compareWithReference(
  gpu: Optimizer<any>,
  params: ParameterSet,
  ref: ReferenceOptimizer<any>,
  tolerance: Tolerance,
  where: string,
) {
  const failures: string[] = [];
  let maxAbs = 0;
  let maxRel = 0;
  const note = (what: string, r: ReturnType<typeof compare>) => {
    maxAbs = Math.max(maxAbs, r.maxAbs);
    maxRel = Math.max(maxRel, r.maxRel);
    if (r.mismatches.length > 0) {
      failures.push(`${where} ${what}: ${r.mismatches.map((m) => `[${m.index}] gpu ${m.actual} ref ${m.expected}`).join('; ')}`);
    }
  };
  const gpuParams = await params.read();
  gpuParams.forEach((p, i) => note(`param ${params.tensors[i]!.name}`, compare(p, ref.params[i]!, tolerance)));
  const stored = await gpu.stateDict();
  const refStored = ref.stateDict();
  if (stored.stateFormat !== refStored.stateFormat) failures.push(`${where}: stateFormat ${stored.stateFormat} vs ${refStored.stateFormat}`);
  stored.state.forEach((slots, i) => {
    for (const [slot, value] of Object.entries(slots)) {
      const kind = (x: unknown) => (typeof x === 'object' && x !== null ? x.constructor.name : typeof x);
      if (kind(value) !== kind(refStored.state[i]![slot])) failures.push(`${where}: ${slot} of tensor ${i} is ${kind(value)} vs ${kind(refStored.state[i]![slot])}`);
    }
  });
  // 16-bit slots compared as their (exactly) decoded values: the tolerance is one of values.
  const sd = dequantizeStateDict(stored);
  const refSd = dequantizeStateDict(refStored);
  if (sd.step !== refSd.step) failures.push(`${where}: step ${sd.step} vs ${refSd.step}`);
  sd.state.forEach((slots, i) => {
    const refSlots = refSd.state[i]!;
    const names = Object.keys(refSlots).sort();
    if (JSON.stringify(Object.keys(slots).sort()) !== JSON.stringify(names)) {
      failures.push(`${where}: tensor ${i} slots [${Object.keys(slots)}] vs [${names}]`);
    }
    // Dequantized: every slot is a Float32Array here.
    const values = (x: unknown) => (typeof x === 'number' ? [x] : ((x as Float32Array | undefined) ?? []));
    for (const slot of names) note(`${params.tensors[i]!.name}.${slot}`, compare(values(slots[slot]), values(refSlots[slot]), tolerance));
  });
  return { failures, maxAbs, maxRel };
}

export async function runParity(device: GPUDevice, given: ParityCase): Promise<ParityResult> {
  const c = { ...given, tensors: recordShaped(given.name, given.tensors) };
  const params = createParameterSet(device, c.tensors, c.setOptions);
  const gpu = createOptimizer(c.name as 'adam', params, c.options as never);
  const ref = createReferenceOptimizer(c.name as 'adam', c.tensors.map((t) => ({ name: t.name, shape: t.shape, data: t.data.slice() })), c.options as never);
  const failures: string[] = [];
  let maxAbs = 0;
  let maxRel = 0;
  for (let step = 1; step <= c.steps; step++) {
    const grads = c.tensors.map((t, i) => c.grad(step, i, t.data.length));
    params.writeGrads(grads);
    gpu.step();
    ref.step(grads);
    if (c.checkAt.includes(step)) {
      const r = await compareWithReference(gpu, params, ref, c.tolerance, `${c.name} ${JSON.stringify(c.options)} step ${step}`);
      failures.push(...r.failures);
      maxAbs = Math.max(maxAbs, r.maxAbs);
      maxRel = Math.max(maxRel, r.maxRel);
    }
  }
  return { maxAbs, maxRel, failures, gpu, params, ref };
}

/**
 * Gradients of several steps staged on the GPU, so that steps recorded into one command encoder
 * each see their own gradients: `record(encoder, s)` copies step s's gradients into the set's
 * gradient buffer inside the encoder.
 */
export function stageGradients(device: GPUDevice, params: ParameterSet, perStep: readonly (readonly Float32Array[])[]) {
  const bytes = params.layout.paddedLength * 4;
  const staging = device.createBuffer({ label: 'test:staged-grads', size: bytes * perStep.length, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  perStep.forEach((grads, s) => {
    const packed = new Float32Array(params.layout.paddedLength);
    params.tensors.forEach((t, i) => packed.set(grads[i]!, t.offset));
    device.queue.writeBuffer(staging, s * bytes, packed);
  });
  return {
    record: (encoder: GPUCommandEncoder, step: number) => encoder.copyBufferToBuffer(staging, step * bytes, params.gradBuffer, 0, bytes),
    destroy: () => staging.destroy(),
  };
}

/**
 * Restores `sd` (through JSON) into a fresh optimizer of the same options over a copy of `params`:
 * the state must read back the same, and one more step on both must give the same bits. Returns
 * the fresh optimizer and its set.
 */
export async function expectRestoredTwin(device: GPUDevice, name: string, options: Record<string, unknown>, params: ParameterSet, opt: Optimizer<any>, grads: readonly Float32Array[]) {
  const sd = await opt.stateDict();
  const copy = createParameterSet(device, params.tensors.map((t, i) => ({ name: t.name, shape: t.shape, data: new Float32Array(t.length) })));
  copy.write(await params.read());
  const restored = createOptimizer(name as 'adam', copy, options as never);
  restored.loadStateDict(stateDictFromJSON(stateDictToJSON(sd)));
  expect((await restored.stateDict()).state).toEqual(sd.state);
  for (const [p, o] of [[params, opt], [copy, restored]] as const) {
    p.writeGrads(grads);
    o.step();
  }
  expect(await copy.read()).toEqual(await params.read());
  expect((await restored.stateDict()).state).toEqual((await opt.stateDict()).state);
  return { restored, copy };
}

/**
 * The same run split into small segments (16 KiB bindings, 8 workgroups per dimension, 3 vectors
 * per invocation) and unsplit: both equal the reference, and each other bit for bit.
 */
export async function expectSplitEqualsWhole(device: GPUDevice, c: Omit<ParityCase, 'setOptions'>) {
  const split = await runParity(device, { ...c, setOptions: { vectorsPerInvocation: 3, workgroupSize: 32, limits: { maxStorageBufferBindingSize: 16 * 1024, maxComputeWorkgroupsPerDimension: 8 } } });
  const whole = await runParity(device, c);
  expect(split.params.layout.segments.length).toBeGreaterThan(3);
  expect(split.failures).toEqual([]);
  expect(whole.failures).toEqual([]);
  expect((await split.gpu.stateDict()).state).toEqual((await whole.gpu.stateDict()).state);
  for (const r of [split, whole]) {
    r.gpu.destroy();
    r.params.destroy();
  }
}

/**
 * Records one step per gradient list into a single command encoder (gradients staged on the GPU,
 * stepsInFlight 2 so the scalar ring grows) and takes the same steps on the reference: returns the
 * comparison's failures, with the optimizer and its set for further checks (the caller destroys them).
 */
export async function oneEncoderParity(device: GPUDevice, name: string, options: Record<string, unknown>, given: ParityCase['tensors'], grads: readonly (readonly Float32Array[])[]) {
  const tensors = recordShaped(name, given);
  const params = createParameterSet(device, tensors);
  const gpu = createOptimizer(name as 'adam', params, { ...options, stepsInFlight: 2 } as never);
  const staged = stageGradients(device, params, grads);
  const encoder = device.createCommandEncoder({ label: 'test:one-encoder' });
  grads.forEach((_, s) => {
    staged.record(encoder, s);
    gpu.step(encoder);
  });
  device.queue.submit([encoder.finish()]);
  const ref = createReferenceOptimizer(name as 'adam', tensors.map((t) => ({ name: t.name, shape: t.shape, data: t.data.slice() })), options as never);
  for (const g of grads) ref.step(g);
  const { failures } = await compareWithReference(gpu, params, ref, PARITY_TOLERANCE, `${name} one encoder`);
  staged.destroy();
  return { failures, gpu, params, ref };
}
