/** The CPU twin's parameters: Float32Arrays or named tensors, checked as the GPU's parameter set checks them. */
import { checkTensorSpecs, shapeOf } from '../core/tensors.js';
import type { TensorInfo } from '../state/state-dict-types.js';

/** A named tensor; `shape` (product = data.length) is kept for state dicts and checkpoints. */
export type NamedTensor = { name: string; data: Float32Array; shape?: readonly number[] };

/** Each tensor's name, length and shape (a bare Float32Array is named by its index), and its data. */
export function namedParams(params: unknown): { tensors: TensorInfo[]; data: Float32Array[] } {
  if (!Array.isArray(params)) throw new TypeError('webgpu-optim: params must be an array of Float32Array or { name, data }');
  const tensors: TensorInfo[] = [];
  const data = params.map((entry, i) => {
    const named = entry instanceof Float32Array ? { name: String(i), data: entry } : entry;
    if (!(named?.data instanceof Float32Array)) {
      throw new TypeError(`webgpu-optim: params[${i}] must be a Float32Array or { name, data: Float32Array }`);
    }
    tensors.push({ name: named.name, length: named.data.length, shape: named.shape });
    return named.data as Float32Array;
  });
  checkTensorSpecs(tensors);
  return { tensors: tensors.map((t) => ({ ...t, shape: shapeOf(t) })), data };
}
