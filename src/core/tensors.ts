/** Input checks on tensor lists shared by the GPU and CPU paths. */
import { describeValue } from './describe-value.js';

export interface TensorShape {
  readonly name: string;
  readonly length: number;
  /** Dimensions, e.g. [rows, cols]; their product is `length`. Absent: [length]. */
  readonly shape?: readonly number[];
}

/** The largest dimension a shape may have: the tables built from shapes hold them as u32. */
export const MAX_DIMENSION = 2 ** 32 - 1;

/** The number of elements of a tensor (or state slot) of this shape: the product of its dimensions. */
export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The tensor's dimensions: `shape` checked against `length`, or `[length]` when absent. */
export function shapeOf(spec: TensorShape): number[] {
  if (spec.shape === undefined) return [spec.length];
  const shape = spec.shape as unknown;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`webgpu-optim: tensor "${spec.name}" has shape ${JSON.stringify(shape)}; a shape is an array of integers >= 0`);
  }
  (shape as number[]).forEach((d, i) => {
    if (d > MAX_DIMENSION) {
      throw new RangeError(`webgpu-optim: tensor "${spec.name}" has shape ${JSON.stringify(shape)}; dimension ${i} (${d}) is over ${MAX_DIMENSION}, the most the per-row and per-column tables index (32-bit)`);
    }
  });
  const product = elementCount(shape as number[]);
  if (product !== spec.length) {
    throw new RangeError(`webgpu-optim: tensor "${spec.name}" has shape [${shape.join(', ')}] (${product} elements) but ${spec.length} values`);
  }
  return [...shape];
}

/** Throws unless `arrays` holds one Float32Array of the right length per tensor, in order. */
export function checkGradients(arrays: readonly Float32Array[], tensors: readonly TensorShape[], what = 'gradients'): void {
  if (!Array.isArray(arrays) || arrays.length !== tensors.length) {
    throw new RangeError(
      `webgpu-optim: expected ${tensors.length} ${what} (one per tensor, in order), got ${Array.isArray(arrays) ? arrays.length : describeValue(arrays)}`,
    );
  }
  arrays.forEach((array, i) => {
    const tensor = tensors[i]!;
    if (!(array instanceof Float32Array)) {
      throw new TypeError(`webgpu-optim: ${what}[${i}] ("${tensor.name}") must be a Float32Array`);
    }
    if (array.length !== tensor.length) {
      throw new RangeError(
        `webgpu-optim: ${what}[${i}] ("${tensor.name}") has ${array.length} elements, the tensor has ${tensor.length}`,
      );
    }
  });
}

/** Throws unless every tensor has a non-empty name used once and a valid length. */
export function checkTensorSpecs(specs: readonly TensorShape[]): void {
  const names = new Set<string>();
  specs.forEach((spec, index) => {
    if (typeof spec.name !== 'string' || spec.name.length === 0) {
      throw new TypeError(`webgpu-optim: tensor ${index} needs a non-empty string name`);
    }
    if (names.has(spec.name)) {
      throw new Error(`webgpu-optim: tensor name "${spec.name}" is used twice; names must be unique`);
    }
    if (!Number.isSafeInteger(spec.length) || spec.length < 0) {
      throw new RangeError(`webgpu-optim: tensor "${spec.name}" has an invalid length ${spec.length}`);
    }
    shapeOf(spec);
    names.add(spec.name);
  });
}
