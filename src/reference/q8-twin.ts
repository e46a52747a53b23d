/**
 * The CPU twin of 8-bit state (stateFormat 'q8'): the stored form of every quantized slot over the
 * packed placement the GPU uses (blocks are ranges of the packed buffers, so they are taken across
 * tensors), and the per-tensor f32 values the reference update works on, decoded from it.
 */
import type { SlotSpec } from '../core/definition.js';
import { alignUp, CHUNK_ELEMENTS, TENSOR_ALIGN_ELEMENTS } from '../core/layout.js';
import { codeBitsOf, dequantizeInto, isQuantizedSlot, isQuantizedTensor, mapOf, mapsOf, q8Chunks, quantizeInto, readTensor, writeTensor, type Placement, type Q8Packed, type Q8Slot, type Quantization } from '../state/q8.js';

export interface Q8Twin {
  /**
   * Quantizes the current values of every quantized slot (the GPU's stores of a step) and loads
   * them back; slots of tensors stored whole during the step (storeTensor) are kept as stored, and
   * so is every slot of a tensor `present` marks absent (PyTorch's step rule: its tiles store nothing).
   */
  store(present?: readonly boolean[]): void;
  /** Stores tensor i's slot now (LAMB's moments, before its sums) and sets `values` to what the GPU loads back. */
  storeTensor(tensorIndex: number, slot: string, values: Float32Array): void;
  /** Tensor i's slot in its stored form (undefined: a slot stored in f32). */
  stored(tensorIndex: number, slot: string): Q8Slot | Float32Array | undefined;
  /** Sets the stored form from a dict of the same quantization, then the values from it. */
  load(value: (tensorIndex: number, slot: string) => Q8Slot | Float32Array | undefined): void;
}

export function createQ8Twin(
  slots: readonly SlotSpec[],
  tensors: readonly { length: number }[],
  offsets: readonly number[],
  quantization: Quantization,
  state: Record<string, Float32Array>[],
): Q8Twin {
  const end = tensors.reduce((n, t, i) => Math.max(n, offsets[i]! + t.length), 0);
  const placement: Placement = {
    tensors: tensors.map((t, i) => ({ offset: offsets[i]!, length: t.length })),
    paddedLength: Math.max(TENSOR_ALIGN_ELEMENTS, alignUp(end, TENSOR_ALIGN_ELEMENTS)),
  };
  const chunks = q8Chunks(placement, quantization);
  const { blockSize } = quantization;
  const codeBits = codeBitsOf(quantization);
  const maps = mapsOf(quantization);
  const quantized = slots.filter(isQuantizedSlot);
  const emptyPacked = (): Q8Packed => ({ codes: new Uint8Array(placement.paddedLength), absmax: new Float32Array(chunks.runs), side: new Float32Array(chunks.sideChunks * CHUNK_ELEMENTS) });
  const stores = new Map<string, Q8Packed>(quantized.map((slot) => [slot.name, emptyPacked()]));
  /** Sets tensor i's values of a slot to what its stored form loads as (the kernel's loads). */
  const decodeTensor = (i: number, slot: SlotSpec, values: Float32Array) =>
    dequantizeInto(values, stores.get(slot.name)!, placement.tensors[i]!.offset, chunks, maps[mapOf(slot)]);
  const storedNow = new Set<string>();
  const storeTensor = (i: number, slot: SlotSpec, values: Float32Array) => {
    quantizeInto(stores.get(slot.name)!, values, placement.tensors[i]!.offset, chunks, maps[mapOf(slot)]);
    decodeTensor(i, slot, values);
    storedNow.add(`${i}:${slot.name}`);
  };
  const store = (present?: readonly boolean[]) => {
    for (const slot of quantized) {
      placement.tensors.forEach((_, i) => storedNow.has(`${i}:${slot.name}`) || present?.[i] === false || storeTensor(i, slot, state[i]![slot.name]!));
    }
    storedNow.clear();
  };
  // 'q4' state that starts at 0 starts as torchao's does (and as the GPU's zeroed buffers): codes
  // and scales 0, which load as ±0 until stored (with a scale, the unsigned map has no 0).
  if (codeBits === 8 || quantized.some((slot) => state.some((s) => s[slot.name]!.some((x) => x !== 0)))) store();
  else for (const slot of quantized) placement.tensors.forEach((_, i) => decodeTensor(i, slot, state[i]![slot.name]!));
  const specs = new Map(quantized.map((slot) => [slot.name, slot]));
  return {
    store,
    storeTensor(i, slot, values) {
      const spec = specs.get(slot);
      if (spec) storeTensor(i, spec, values);
    },
    stored(i, slot) {
      const packed = stores.get(slot);
      return packed && readTensor(packed, placement.tensors[i]!, isQuantizedTensor(tensors[i]!.length, quantization), chunks, blockSize, codeBits);
    },
    load(value) {
      for (const slot of quantized) {
        const packed = emptyPacked();
        placement.tensors.forEach((t, i) => writeTensor(packed, value(i, slot.name), t, chunks, codeBits));
        stores.set(slot.name, packed);
        placement.tensors.forEach((_, i) => decodeTensor(i, slot, state[i]![slot.name]!));
      }
    },
  };
}
