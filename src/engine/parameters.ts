/**
 * ParameterSet: many tensors packed into one parameter buffer and one gradient buffer (and, in the
 * optimizer, one buffer per state slot) so that one dispatch updates them all.
 */
import { checkEncoder } from '../core/encoder.js';
import { deviceLoss } from '../core/device-loss.js';
import { createLifecycle, type Lifecycle } from '../core/lifecycle.js';
import { computeLayout, type LayoutLimits, type PackedLayout, type TensorSlot } from '../core/layout.js';
import { readBuffers } from '../core/readback.js';
import { checkGradients } from '../core/tensors.js';
import type { ChunkReduction } from '../passes/tensor-reduction.js';
import { describeValue } from '../core/describe-value.js';
import { resolveParameterSetOptions, type ParameterSetOptions } from './parameter-set-options.js';

export { effectiveLimits, type ParameterSetOptions } from './parameter-set-options.js';

/** A tensor handed to createParameterSet: its name, its initial values and (optionally) its shape. */
export type TensorInput = { name: string; data: Float32Array; shape?: readonly number[] };

export interface ParameterSet {
  readonly device: GPUDevice;
  readonly label: string;
  /** Each tensor's place in the packed buffers, in the order given. */
  readonly tensors: readonly TensorSlot[];
  readonly layout: PackedLayout;
  readonly workgroupSize: number;
  readonly vectorsPerInvocation: number;
  readonly chunkReduction: ChunkReduction;
  /** The packed parameters (f32). Read it in your forward pass at each tensor's `byteOffset`. */
  readonly paramBuffer: GPUBuffer;
  /** The packed gradients (f32). Your backward pass writes tensor t at `tensors[t].byteOffset`. */
  readonly gradBuffer: GPUBuffer;
  /**
   * Uploads one gradient array per tensor (tensor order) with one `writeBuffer`; every tensor then
   * has a gradient for the next step (see `zeroGrad`).
   */
  writeGrads(grads: readonly Float32Array[]): void;
  /** Zeroes the gradient buffer, recorded into `encoder` when given; every tensor then has a (zero) gradient. */
  zeroGrads(encoder?: GPUCommandEncoder): void;
  /**
   * PyTorch's `optimizer.zero_grad(set_to_none=…)`. With `setToNone: true` (the default, as in torch)
   * every tensor is marked as having no gradient, and nothing is written: a step then leaves a
   * tensor without gradient untouched (parameters and state; its own step count does not advance)
   * until `writeGrads` or `markGradients` gives it one. With `setToNone: false` the gradient buffer
   * is zeroed (recorded into `encoder` when given) and every tensor has a gradient of zeros.
   * A set on which this is never called behaves as before: every tensor has a gradient.
   * Under gradient accumulation the marks are per micro-batch (each `step()` call adds only the
   * tensors it finds marked): call this before each micro-batch, not once per update as in torch.
   * The first call with `setToNone: true` makes, for each optimizer over the set that can skip a
   * tensor (and for one created later, at its creation), the per-tensor kernel such steps run:
   * once, here, so that no `step()` creates anything; later calls make nothing.
   * Marks take effect for the next `step()` recorded; the buffer writes follow WebGPU's order: a
   * clear without `encoder` (and `writeGrads`, a `queue.writeBuffer`) runs when the queue next
   * executes, before any encoder submitted after it, so between two `step(encoder)` calls into one
   * encoder not yet submitted, give the clear that encoder (or write gradients in it yourself).
   *
   * @example
   * const params = createParameterSet(device, [
   *   { name: 'w', data: new Float32Array([1, 2, 3, 4]) },
   *   { name: 'frozen', data: new Float32Array([5, 6]) },
   * ]);
   * const adam = createOptimizer('adam', params, { lr: 0.1, weightDecay: 0.01 });
   * const wGrad = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
   * device.queue.writeBuffer(wGrad, 0, new Float32Array([0.1, -0.2, 0.3, -0.4]));
   * params.zeroGrad(); // as torch's zero_grad(): no tensor has a gradient
   * const encoder = device.createCommandEncoder();
   * // your backward pass writes w's gradient (here: a copy), and says so
   * encoder.copyBufferToBuffer(wGrad, 0, params.gradBuffer, params.tensors[0].byteOffset, 16);
   * params.markGradients(['w']);
   * adam.step(encoder); // w is updated; frozen, its state and its step count are not
   * device.queue.submit([encoder.finish()]);
   * (await params.read())[1]; // Float32Array [5, 6]
   */
  zeroGrad(options?: { setToNone?: boolean; encoder?: GPUCommandEncoder }): void;
  /**
   * Marks the tensors named (every tensor when `names` is omitted) as having a gradient for the next
   * step: what a backward pass of your own that writes `gradBuffer` calls after `zeroGrad()`. An
   * unknown name is refused, naming it, before any mark changes.
   */
  markGradients(names?: readonly string[]): void;
  /** Whether each tensor (tensor order) has a gradient for the next step: a copy. */
  readonly hasGradient: readonly boolean[];
  /** Uploads one parameter array per tensor (tensor order). */
  write(params: readonly Float32Array[]): void;
  /** Reads the parameters back, one array per tensor (tensor order). Not for the step path. */
  read(): Promise<Float32Array[]>;
  /** Reads the gradients back, one array per tensor. */
  readGrads(): Promise<Float32Array[]>;
  /** Frees both buffers. Every later use of the set (and of optimizers over it) throws. */
  destroy(): void;
}

const lifecycles = new WeakMap<ParameterSet, Lifecycle>();
const presences = new WeakMap<ParameterSet, boolean[]>();
/** Per set: whether a gradient was ever marked absent, and who waits for the first time. */
const absences = new WeakMap<ParameterSet, { seen: boolean; waiting: Set<() => void> }>();

/**
 * Calls `prepare` when a tensor of `params` can first lack its gradient (the set's first
 * `zeroGrad({ setToNone: true })`), or at once if that happened already: optimizers make their
 * per-tensor step there, never on the step path. Returns the call that stops waiting (destroy).
 */
export function whenGradientsMayBeAbsent(params: ParameterSet, prepare: () => void): () => void {
  const absence = absences.get(params)!;
  if (absence.seen) {
    prepare();
    return () => {};
  }
  absence.waiting.add(prepare);
  return () => absence.waiting.delete(prepare);
}

/** Which tensors have a gradient for the next step (the set's own array: read, never kept). */
export function gradientPresence(params: ParameterSet): readonly boolean[] {
  return presences.get(params)!;
}

/** Throws unless `params` is a live parameter set made by createParameterSet. */
export function checkParameterSet(params: unknown, what: string): asserts params is ParameterSet {
  const lifecycle = lifecycles.get(params as ParameterSet);
  if (!lifecycle) throw new TypeError(`webgpu-optim: ${what} needs a ParameterSet from createParameterSet, got ${describeValue(params)}`);
  lifecycle.check();
}

/** The parameter set's lifecycle, for optimizers built over it (internal). */
export function parameterSetLifecycle(params: ParameterSet): Lifecycle {
  return lifecycles.get(params)!;
}

/**
 * Each dimension of each shape within what one buffer of the device holds, before anything is
 * allocated: a 0-element tensor of shape [2^40, 0] still has 2^40 rows, and the per-row state and
 * tables built from it (Adafactor's) would not fit. Malformed shapes are left to computeLayout.
 */
function checkDimensions(tensors: readonly { name: string; shape?: readonly number[] }[], limits: LayoutLimits): void {
  const maxElements = Math.floor(limits.maxBufferSize / 4);
  for (const { name, shape } of tensors) {
    if (!Array.isArray(shape)) continue;
    const i = shape.findIndex((d) => typeof d === 'number' && d > maxElements);
    if (i < 0) continue;
    throw new RangeError(
      `webgpu-optim: createParameterSet: tensor "${name}" of shape [${shape.join(', ')}]: dimension ${i} (${shape[i]}) is over the ` +
        `${maxElements} elements one buffer of this device holds (maxBufferSize ${limits.maxBufferSize})`,
    );
  }
}

/**
 * Packs `tensors` into GPU buffers. Tensor offsets are multiples of 64 elements (256 bytes).
 *
 * @example
 * const params = createParameterSet(device, [
 *   { name: 'w', data: new Float32Array(784 * 128) },
 *   { name: 'b', data: new Float32Array(128) },
 * ]);
 * params.tensors[1]; // { name: 'b', shape: [128], offset: 100352, length: 128, byteOffset: 401408, byteLength: 512 }
 */
export function createParameterSet(device: GPUDevice, tensors: readonly TensorInput[], options: ParameterSetOptions = {}): ParameterSet {
  checkDeviceAndTensors(device, tensors);
  const { label, workgroupSize, vectorsPerInvocation, chunkReduction, limits } = resolveParameterSetOptions(device, options);
  checkDimensions(tensors, limits);
  const layout = computeLayout(
    tensors.map((t) => ({ name: t.name, length: t.data.length, shape: t.shape })),
    limits,
    workgroupSize,
  );
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const paramBuffer = device.createBuffer({ label: `${label}:params`, size: layout.paddedLength * 4, usage });
  const gradBuffer = device.createBuffer({ label: `${label}:grads`, size: layout.paddedLength * 4, usage });
  device.queue.writeBuffer(paramBuffer, 0, packTensors(layout, tensors.map((t) => t.data), 'params'));
  const lifecycle = createLifecycle(`parameter set "${label}"`, device);
  const present = layout.tensors.map(() => true);
  const absence = { seen: false, waiting: new Set<() => void>() };
  const set: ParameterSet = {
    device,
    label,
    tensors: layout.tensors,
    layout,
    workgroupSize,
    vectorsPerInvocation,
    chunkReduction,
    paramBuffer,
    gradBuffer,
    ...parameterSetMethods({ device, label, layout, paramBuffer, gradBuffer, lifecycle, present, absence }),
    get hasGradient() {
      return Object.freeze([...present]);
    },
  };
  lifecycles.set(set, lifecycle);
  presences.set(set, present);
  absences.set(set, absence);
  return set;
}

/** A GPUDevice that is not lost, and tensors that each hold a Float32Array. */
function checkDeviceAndTensors(device: GPUDevice, tensors: readonly TensorInput[]): void {
  if (!device || typeof device.createBuffer !== 'function') {
    throw new TypeError('webgpu-optim: createParameterSet needs a GPUDevice');
  }
  const lost = deviceLoss(device);
  if (lost !== undefined) throw new Error(`webgpu-optim: createParameterSet: the GPU device was lost (${lost}); request a new device`);
  if (!Array.isArray(tensors)) throw new TypeError('webgpu-optim: tensors must be an array of { name, data }');
  tensors.forEach((t, i) => {
    if (!(t?.data instanceof Float32Array)) {
      throw new TypeError(`webgpu-optim: tensors[${i}].data must be a Float32Array`);
    }
  });
}

/** One array per tensor (checked against the layout), packed at each tensor's offset. */
function packTensors(layout: PackedLayout, arrays: readonly Float32Array[], what: string): Float32Array<ArrayBuffer> {
  checkGradients(arrays, layout.tensors, what);
  const packed = new Float32Array(layout.paddedLength);
  layout.tensors.forEach((t, i) => packed.set(arrays[i]!, t.offset));
  return packed;
}

/** The packed buffer's contents, one array per tensor. */
function unpackTensors(layout: PackedLayout, packed: Float32Array): Float32Array[] {
  return layout.tensors.map((t) => packed.slice(t.offset, t.offset + t.length));
}

/** `zeroGrad`'s options, checked before anything changes: `{ setToNone?: boolean, encoder? }`. */
function checkZeroGradOptions(options: unknown): { setToNone: boolean; encoder: GPUCommandEncoder | undefined } {
  if (options === undefined) return { setToNone: true, encoder: undefined };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`webgpu-optim: zeroGrad options must be an object { setToNone?, encoder? }, got ${describeValue(options)}`);
  for (const key of Object.keys(options)) {
    if (key !== 'setToNone' && key !== 'encoder') throw new Error(`webgpu-optim: zeroGrad: unknown option "${key}"; known: setToNone, encoder`);
  }
  const { setToNone = true, encoder } = options as { setToNone?: unknown; encoder?: unknown };
  if (typeof setToNone !== 'boolean') throw new TypeError(`webgpu-optim: zeroGrad: setToNone must be a boolean, got ${describeValue(setToNone)}`);
  checkEncoder(encoder, 'zeroGrad');
  if (setToNone && encoder !== undefined) throw new Error('webgpu-optim: zeroGrad: setToNone true writes nothing, so it takes no encoder (setToNone: false zeroes the buffer in it)');
  return { setToNone, encoder: encoder as GPUCommandEncoder | undefined };
}

/** The indices of the tensors `names` names (every tensor when undefined); an unknown name is refused, naming it. */
function markedIndices(layout: PackedLayout, names: unknown): number[] {
  if (names === undefined) return layout.tensors.map((_, i) => i);
  if (!Array.isArray(names)) throw new TypeError(`webgpu-optim: markGradients needs an array of tensor names, got ${describeValue(names)}`);
  const index = new Map(layout.tensors.map((t, i) => [t.name, i]));
  return names.map((name) => {
    const i = typeof name === 'string' ? index.get(name) : undefined;
    if (i === undefined) throw new Error(`webgpu-optim: markGradients: no tensor named ${typeof name === 'string' ? JSON.stringify(name) : describeValue(name)} in this parameter set; its tensors: ${layout.tensors.map((t) => t.name).join(', ')}`);
    return i;
  });
}

/** The methods of a parameter set over its two packed buffers; each checks the set is live first. */
function parameterSetMethods({
  device,
  label,
  layout,
  paramBuffer,
  gradBuffer,
  lifecycle,
  present,
  absence,
}: {
  device: GPUDevice;
  label: string;
  layout: PackedLayout;
  paramBuffer: GPUBuffer;
  gradBuffer: GPUBuffer;
  lifecycle: Lifecycle;
  present: boolean[];
  absence: { seen: boolean; waiting: Set<() => void> };
}): Pick<ParameterSet, 'writeGrads' | 'zeroGrads' | 'zeroGrad' | 'markGradients' | 'write' | 'read' | 'readGrads' | 'destroy'> {
  const readPacked = async (buffer: GPUBuffer, what: string) => {
    lifecycle.check();
    const [packed] = await readBuffers(device, [{ buffer, byteLength: layout.paddedLength * 4 }], `${label}:${what}`);
    return unpackTensors(layout, packed!);
  };
  // Zeroes the gradients (in `encoder`, or submitted now): every tensor then has a gradient of zeros.
  const clear = (encoder: GPUCommandEncoder | undefined) => {
    present.fill(true);
    if (encoder) {
      encoder.clearBuffer(gradBuffer);
    } else {
      const own = device.createCommandEncoder({ label: `${label}:zeroGrads` });
      own.clearBuffer(gradBuffer);
      device.queue.submit([own.finish()]);
    }
  };
  return {
    writeGrads(grads) {
      lifecycle.check();
      device.queue.writeBuffer(gradBuffer, 0, packTensors(layout, grads, 'gradients'));
      present.fill(true);
    },
    zeroGrads(encoder) {
      lifecycle.check();
      checkEncoder(encoder, 'zeroGrads');
      clear(encoder);
    },
    zeroGrad(options) {
      lifecycle.check();
      const { setToNone, encoder } = checkZeroGradOptions(options);
      if (!setToNone) return clear(encoder);
      present.fill(false);
      if (absence.seen) return;
      absence.seen = true;
      for (const prepare of absence.waiting) prepare();
      absence.waiting.clear();
    },
    markGradients(names) {
      lifecycle.check();
      const indices = markedIndices(layout, names);
      for (const i of indices) present[i] = true;
    },
    write(params) {
      lifecycle.check();
      device.queue.writeBuffer(paramBuffer, 0, packTensors(layout, params, 'params'));
    },
    read: () => readPacked(paramBuffer, 'params'),
    readGrads: () => readPacked(gradBuffer, 'grads'),
    destroy() {
      if (!lifecycle.destroy()) return;
      paramBuffer.destroy();
      gradBuffer.destroy();
    },
  };
}
