/**
 * ParameterSet: many tensors packed into one parameter buffer and one gradient buffer (and, in the
 * optimizer, one buffer per state slot) so that one dispatch updates them all.
 */
import { checkOptionsObject } from '../core/config.js';
import { checkEncoder } from '../core/encoder.js';
import { deviceLoss } from '../core/device-loss.js';
import { createLifecycle, type Lifecycle } from '../core/lifecycle.js';
import { computeLayout, type LayoutLimits, type PackedLayout, type TensorSlot } from '../core/layout.js';
import { readBuffers } from '../core/readback.js';
import { checkGradients } from '../core/tensors.js';
import { CHUNK_REDUCTIONS, defaultChunkReduction, type ChunkReduction } from '../passes/tensor-reduction.js';
import { describeValue } from '../core/describe-value.js';

const PARAMETER_SET_OPTIONS = ['label', 'workgroupSize', 'vectorsPerInvocation', 'chunkReduction', 'limits'];

export interface ParameterSetOptions {
  /** Prefix of every GPU object's label. Default "webgpu-optim". */
  label?: string;
  /** Invocations per workgroup of the optimizer kernels (each updates 4 elements). Default 256. */
  workgroupSize?: number;
  /**
   * vec4s each invocation of the update kernel handles, `workgroupSize` vectors apart (1 to 16).
   * Default 1. The result is the same bit for bit; only the speed changes (see bench/RESULTS.md
   * for the measured effect per adapter).
   */
  vectorsPerInvocation?: number;
  /**
   * How the layer-wise optimizers (LAMB, LARS, Adafactor) sum each 64-element chunk for their
   * per-tensor norms: `'workgroup'` (16 invocations per chunk and a workgroup tree: coalesced,
   * for GPUs) or `'invocation'` (one invocation per chunk, the same tree in registers, no
   * barriers: for CPU adapters such as SwiftShader, which emulate every barrier invocation by
   * invocation, about 4× faster there). The same result bit for bit. Default: `'invocation'` on a
   * fallback (CPU) adapter (`device.adapterInfo.isFallbackAdapter`, or SwiftShader), else `'workgroup'`.
   */
  chunkReduction?: ChunkReduction;
  /**
   * Lower the device limits the packer plans for (never above the device's own), e.g. to force
   * the split into several bindings and dispatches in tests.
   */
  limits?: Partial<LayoutLimits>;
}

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
  /** Uploads one gradient array per tensor (tensor order) with one `writeBuffer`. */
  writeGrads(grads: readonly Float32Array[]): void;
  /** Zeroes the gradient buffer, recorded into `encoder` when given. */
  zeroGrads(encoder?: GPUCommandEncoder): void;
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

/** Device limits the packer plans for: the device's, lowered by `overrides`. */
export function effectiveLimits(device: GPUDevice, overrides: Partial<LayoutLimits> = {}): LayoutLimits {
  const limits: LayoutLimits = {
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    maxBufferSize: device.limits.maxBufferSize,
  };
  for (const [key, value] of Object.entries(overrides) as [keyof LayoutLimits, number | undefined][]) {
    if (value === undefined) continue;
    if (!(key in limits)) throw new Error(`webgpu-optim: unknown limit "${key}"`);
    if (!Number.isSafeInteger(value) || value <= 0 || value > limits[key]) {
      throw new RangeError(`webgpu-optim: limits.${key} must be a positive integer ≤ the device's ${limits[key]}, got ${describeValue(value)}`);
    }
    limits[key] = value;
  }
  return limits;
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
export function createParameterSet(
  device: GPUDevice,
  tensors: readonly { name: string; data: Float32Array; shape?: readonly number[] }[],
  options: ParameterSetOptions = {},
): ParameterSet {
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
  checkOptionsObject(options, 'createParameterSet options');
  for (const key of Object.keys(options)) {
    if (!PARAMETER_SET_OPTIONS.includes(key)) {
      throw new Error(`webgpu-optim: unknown createParameterSet option "${key}"; known: ${PARAMETER_SET_OPTIONS.join(', ')}`);
    }
  }
  const label = options.label ?? 'webgpu-optim';
  if (typeof label !== 'string') throw new TypeError(`webgpu-optim: createParameterSet label must be a string, got ${describeValue(label)}`);
  const workgroupSize = options.workgroupSize ?? 256;
  if (
    !Number.isSafeInteger(workgroupSize) ||
    workgroupSize < 1 ||
    workgroupSize > device.limits.maxComputeInvocationsPerWorkgroup ||
    workgroupSize > device.limits.maxComputeWorkgroupSizeX
  ) {
    throw new RangeError(
      `webgpu-optim: workgroupSize ${workgroupSize} must be a positive integer within the device's ` +
        `maxComputeInvocationsPerWorkgroup (${device.limits.maxComputeInvocationsPerWorkgroup})`,
    );
  }
  const vectorsPerInvocation = options.vectorsPerInvocation ?? 1;
  if (!Number.isSafeInteger(vectorsPerInvocation) || vectorsPerInvocation < 1 || vectorsPerInvocation > 16) {
    throw new RangeError(`webgpu-optim: vectorsPerInvocation ${String(vectorsPerInvocation)} must be an integer from 1 to 16`);
  }
  const chunkReduction = options.chunkReduction ?? defaultChunkReduction(device);
  if (!Object.hasOwn(CHUNK_REDUCTIONS, chunkReduction)) {
    throw new RangeError(`webgpu-optim: chunkReduction must be one of ${Object.keys(CHUNK_REDUCTIONS).map((k) => `'${k}'`).join(', ')}, got ${describeValue(chunkReduction)}`);
  }
  const limits = effectiveLimits(device, options.limits);
  checkDimensions(tensors, limits);
  const layout = computeLayout(
    tensors.map((t) => ({ name: t.name, length: t.data.length, shape: t.shape })),
    limits,
    workgroupSize,
  );
  const byteSize = layout.paddedLength * 4;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const paramBuffer = device.createBuffer({ label: `${label}:params`, size: byteSize, usage });
  const gradBuffer = device.createBuffer({ label: `${label}:grads`, size: byteSize, usage });

  const pack = (arrays: readonly Float32Array[], what: string): Float32Array<ArrayBuffer> => {
    checkGradients(arrays, layout.tensors, what);
    const packed = new Float32Array(layout.paddedLength);
    layout.tensors.forEach((t, i) => packed.set(arrays[i]!, t.offset));
    return packed;
  };
  const unpack = (packed: Float32Array): Float32Array[] =>
    layout.tensors.map((t) => packed.slice(t.offset, t.offset + t.length));

  device.queue.writeBuffer(paramBuffer, 0, pack(tensors.map((t) => t.data), 'params'));
  const lifecycle = createLifecycle(`parameter set "${label}"`, device);

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
    writeGrads(grads) {
      lifecycle.check();
      device.queue.writeBuffer(gradBuffer, 0, pack(grads, 'gradients'));
    },
    zeroGrads(encoder) {
      lifecycle.check();
      checkEncoder(encoder, 'zeroGrads');
      if (encoder) {
        encoder.clearBuffer(gradBuffer);
      } else {
        const own = device.createCommandEncoder({ label: `${label}:zeroGrads` });
        own.clearBuffer(gradBuffer);
        device.queue.submit([own.finish()]);
      }
    },
    write(params) {
      lifecycle.check();
      device.queue.writeBuffer(paramBuffer, 0, pack(params, 'params'));
    },
    async read() {
      lifecycle.check();
      const [packed] = await readBuffers(device, [{ buffer: paramBuffer, byteLength: byteSize }], `${label}:params`);
      return unpack(packed!);
    },
    async readGrads() {
      lifecycle.check();
      const [packed] = await readBuffers(device, [{ buffer: gradBuffer, byteLength: byteSize }], `${label}:grads`);
      return unpack(packed!);
    },
    destroy() {
      if (!lifecycle.destroy()) return;
      paramBuffer.destroy();
      gradBuffer.destroy();
    },
  };
  lifecycles.set(set, lifecycle);
  return set;
}
