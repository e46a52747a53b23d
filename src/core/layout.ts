/**
 * Pure packing arithmetic for a parameter set: where each tensor lives in the flat buffers and how
 * the flat range is cut into segments that respect the device limits. No GPU objects here, so the
 * rules can be unit-tested in Node.
 */
import { checkTensorSpecs, shapeOf } from './tensors.js';

/** Each tensor starts on a multiple of this many f32 elements (256 bytes). */
export const TENSOR_ALIGN_ELEMENTS = 64;
/** Elements covered by one entry of the chunk → group table (one table entry per 64 elements). */
export const CHUNK_ELEMENTS = 64;
/**
 * Segments start on multiples of this many elements so that every buffer range bound for a segment
 * (f32 data: 4 B/element; the u32 chunk table: 4 B per 64 elements) starts on a 256-byte boundary,
 * the largest `minStorageBufferOffsetAlignment` WebGPU allows.
 */
export const SEGMENT_ALIGN_ELEMENTS = 64 * CHUNK_ELEMENTS; // 4096 elements = 16 KiB of f32
/** Elements one invocation updates (one vec4<f32>). */
export const ELEMENTS_PER_INVOCATION = 4;

export interface TensorSpec {
  name: string;
  length: number;
  /** Dimensions (product = length); default [length]. */
  shape?: readonly number[];
}

export interface TensorSlot {
  /** The tensor's name, unique within the set. */
  readonly name: string;
  /** Its dimensions as given (`[length]` when none were): kept for state dicts and checkpoints. */
  readonly shape: readonly number[];
  /** First element of the tensor in every packed buffer (parameters, gradients, each state slot). */
  readonly offset: number;
  /** Number of f32 elements. */
  readonly length: number;
  /** `offset * 4`: where to write this tensor's gradient in `gradBuffer`. */
  readonly byteOffset: number;
  /** `length * 4`. */
  readonly byteLength: number;
}

export interface Segment {
  /** First element (multiple of {@link SEGMENT_ALIGN_ELEMENTS}). */
  readonly firstElement: number;
  /** Number of elements (multiple of {@link TENSOR_ALIGN_ELEMENTS}). */
  readonly elementCount: number;
  /** Workgroups of the one dispatch that covers the segment: `x * y >= elementCount / (4 * workgroupSize)`. */
  readonly workgroupsX: number;
  readonly workgroupsY: number;
}

export interface PackedLayout {
  readonly tensors: readonly TensorSlot[];
  /** Total elements in each packed buffer, padding included (a multiple of 64, at least 64). */
  readonly paddedLength: number;
  readonly segments: readonly Segment[];
}

export interface LayoutLimits {
  /** Largest byte size of one storage buffer binding. */
  maxStorageBufferBindingSize: number;
  /** Largest workgroup count in one dispatch dimension. */
  maxComputeWorkgroupsPerDimension: number;
  /** Largest size of one buffer in bytes. */
  maxBufferSize: number;
}

/**
 * The workgroups of the update kernel over one segment when each invocation updates
 * `vectorsPerInvocation` vec4s: the segment's own grid shrunk, never wider than it (so within
 * the device's per-dimension limit).
 */
export function kernelDispatch(segment: Segment, workgroupSize: number, vectorsPerInvocation: number): [number, number] {
  const workgroups = Math.ceil(segment.elementCount / (workgroupSize * ELEMENTS_PER_INVOCATION * vectorsPerInvocation));
  const x = Math.min(workgroups, segment.workgroupsX);
  return [x, Math.ceil(workgroups / x)];
}

/**
 * A 2-D grid of `workgroups` within the device's per-dimension limit (x as wide as allowed), or a
 * clear refusal naming `what` when even maxDim² is not enough.
 */
export function dispatchGrid(workgroups: number, maxDim: number, what: string): [number, number] {
  const x = Math.min(Math.max(1, workgroups), maxDim);
  const y = Math.ceil(workgroups / x);
  if (y > maxDim) throw new RangeError(`webgpu-optim: ${what} needs ${workgroups} workgroups, over ${maxDim}² (maxComputeWorkgroupsPerDimension²)`);
  return [x, y];
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/** Where each tensor starts in the packed buffers: back to back, each on a 64-element boundary. */
export function tensorOffsets(lengths: readonly number[]): number[] {
  let cursor = 0;
  return lengths.map((length) => {
    const offset = alignUp(cursor, TENSOR_ALIGN_ELEMENTS);
    cursor = offset + length;
    return offset;
  });
}

/**
 * Places tensors back to back on 64-element boundaries and splits the whole range into segments
 * of at most `maxStorageBufferBindingSize` bytes, each covered by dispatches of at most
 * `maxComputeWorkgroupsPerDimension` workgroups per dimension.
 */
export function computeLayout(
  specs: readonly TensorSpec[],
  limits: LayoutLimits,
  workgroupSize: number,
): PackedLayout {
  checkTensorSpecs(specs);
  const offsets = tensorOffsets(specs.map((s) => s.length));
  const tensors: TensorSlot[] = [];
  let cursor = 0;
  for (const [i, spec] of specs.entries()) {
    const offset = offsets[i]!;
    tensors.push({
      name: spec.name,
      shape: shapeOf(spec),
      offset,
      length: spec.length,
      byteOffset: offset * 4,
      byteLength: spec.length * 4,
    });
    cursor = offset + spec.length;
  }
  const paddedLength = Math.max(TENSOR_ALIGN_ELEMENTS, alignUp(cursor, TENSOR_ALIGN_ELEMENTS));
  const totalBytes = paddedLength * 4;
  if (totalBytes > limits.maxBufferSize) {
    throw new RangeError(
      `webgpu-optim: the packed parameters need ${totalBytes} bytes per buffer, over the device's ` +
        `maxBufferSize of ${limits.maxBufferSize}. Request a device with a larger maxBufferSize ` +
        `(adapter.limits.maxBufferSize) or split the model into several parameter sets.`,
    );
  }
  return { tensors, paddedLength, segments: computeSegments(paddedLength, limits, workgroupSize) };
}

function computeSegments(paddedLength: number, limits: LayoutLimits, workgroupSize: number): Segment[] {
  const maxDim = limits.maxComputeWorkgroupsPerDimension;
  if (!Number.isSafeInteger(maxDim) || maxDim < 1) {
    throw new RangeError(`webgpu-optim: invalid maxComputeWorkgroupsPerDimension ${maxDim}`);
  }
  const elementsPerWorkgroup = workgroupSize * ELEMENTS_PER_INVOCATION;
  // A segment is one binding range of every buffer and one 2-D dispatch, so it is bounded both by
  // the binding size and by maxDim × maxDim workgroups.
  const capacity = Math.min(
    Math.floor(limits.maxStorageBufferBindingSize / 4),
    maxDim * maxDim * elementsPerWorkgroup,
  );
  const segmentCapacity = Math.floor(capacity / SEGMENT_ALIGN_ELEMENTS) * SEGMENT_ALIGN_ELEMENTS;
  if (segmentCapacity < SEGMENT_ALIGN_ELEMENTS) {
    throw new RangeError(
      `webgpu-optim: the limits (maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, ` +
        `maxComputeWorkgroupsPerDimension ${maxDim}, workgroup size ${workgroupSize}) leave room for fewer ` +
        `than ${SEGMENT_ALIGN_ELEMENTS} elements per dispatch, the smallest segment the packer can bind`,
    );
  }
  const segments: Segment[] = [];
  for (let first = 0; first < paddedLength; first += segmentCapacity) {
    const elementCount = Math.min(segmentCapacity, paddedLength - first);
    const workgroups = Math.ceil(elementCount / elementsPerWorkgroup);
    const workgroupsX = Math.min(workgroups, maxDim);
    const workgroupsY = Math.ceil(workgroups / workgroupsX);
    segments.push({ firstElement: first, elementCount, workgroupsX, workgroupsY });
  }
  return segments;
}
