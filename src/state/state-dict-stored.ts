/**
 * A state dict's slots, checked and decoded: each of the type and length its stateFormat stores
 * (f32, the bits of a 16-bit format, or an 8-bit slot's codes and absmax), read back as f32.
 */
import type { ResolvedConfig } from '../core/config.js';
import type { OptimizerDefinition } from '../core/definition.js';
import { elementCount } from '../core/tensors.js';
import { tensorOffsets } from '../core/layout.js';
import { rethrownAs, type Fail } from '../core/refusal.js';
import { blockwiseCodeBits, checkStateFormat, decodeState, slotCodec, type SlotCodec, type StateFormat } from './state-format.js';
import { codeBitsOf, codeBytes, decodeQ8Slot, isQuantizedSlot, isQuantizedTensor, mapOf, mapsOf, resolveQuantization, tensorRuns, type Q8Slot, type Quantization } from './q8.js';
import { checkFloatArray } from './state-dict-checks.js';
import { scalarState, tensorSlots } from './state-dict-slots.js';
import type { OptimizerStateDict, TensorInfo } from './state-dict-types.js';

/** The codec of each per-element slot of this kernel variant in `format` (undefined: stored in f32, as are shaped slots). */
function slotCodecs(definition: OptimizerDefinition<any, any>, config: ResolvedConfig<any>, format: StateFormat): (slot: string) => SlotCodec | undefined {
  const codecs = new Map(definition.slots(config.defines).map((slot) => [slot.name, slotCodec(slot, format)]));
  return (slot) => codecs.get(slot);
}

/** The dict's stateFormat and quantization, checked. */
function storedFormat(sd: OptimizerStateDict<any>, fail: Fail): { format: StateFormat; quantization?: Quantization } {
  const format = sd.stateFormat === undefined ? 'f32' : rethrownAs(() => checkStateFormat(sd.stateFormat, 'the dict'), fail);
  const codeBits = blockwiseCodeBits(format);
  if (codeBits === undefined) {
    if (sd.quantization !== undefined) fail(`it has a quantization but stateFormat ${JSON.stringify(sd.stateFormat ?? 'f32')}`);
    return { format };
  }
  if (sd.quantization === undefined) fail(`stateFormat '${format}' needs its quantization (blockSize, minQuantizedElements)`);
  return { format, quantization: rethrownAs(() => resolveQuantization(sd.quantization, codeBits, 'the dict')!, fail) };
}

/** What a dict's checked slots hold: each slot in f32 (16- and 8-bit ones decoded). */
export interface StoredState {
  quantization?: Quantization;
  slotValues(tensorIndex: number, slot: string): Float32Array | undefined;
}

/**
 * The dict's state under `config`: one entry per tensor with exactly its slots, each of the type
 * and length its format stores (Float32Array, the Uint16Array of 16-bit bits, or an 8-bit slot's
 * codes and absmax), and the scalar state that follows from its step.
 */
export function checkStoredState<H extends object>(
  definition: OptimizerDefinition<H, any>,
  tensors: readonly TensorInfo[],
  config: ResolvedConfig<H>,
  sd: OptimizerStateDict<H>,
  tensorSteps: readonly number[] | undefined,
  fail: Fail,
): StoredState {
  if (!Array.isArray(sd.state) || sd.state.length !== tensors.length) fail('state must have one entry per tensor');
  const { format, quantization } = storedFormat(sd, fail);
  const codecOf = slotCodecs(definition, config, format);
  const specs = new Map(definition.slots(config.defines).map((slot) => [slot.name, slot]));
  const offsets = tensorOffsets(tensors.map((t) => t.length));
  /** An 8-bit slot of tensor i in this dict (its tensor is large enough and the slot is quantized). */
  const isQ8 = (i: number, slot: string) => quantization !== undefined && specs.has(slot) && isQuantizedSlot(specs.get(slot)!) && isQuantizedTensor(tensors[i]!.length, quantization);
  const checkQ8 = (value: unknown, i: number, slot: string) => {
    const length = tensors[i]!.length;
    const runs = tensorRuns({ offset: offsets[i]!, length }, quantization!.blockSize);
    const q = value as Q8Slot | undefined;
    const bytes = codeBytes(length, codeBitsOf(quantization!));
    if (q === null || typeof q !== 'object' || !(q.codes instanceof Uint8Array) || q.codes.length !== bytes || !(q.absmax instanceof Float32Array) || q.absmax.length !== runs) {
      const codes = bytes === length ? '' : `, two codes per byte`;
      fail(`state[${i}].${slot} must be { codes: Uint8Array of length ${bytes}${codes}, absmax: Float32Array of length ${runs} } (stateFormat '${format}', blocks of ${quantization!.blockSize})`);
    }
  };
  const checkSlot = (value: unknown, i: number, name: string, shape: readonly number[]) => {
    if (isQ8(i, name)) checkQ8(value, i, name);
    else if (!codecOf(name)) checkFloatArray(value, elementCount(shape), `state[${i}].${name}`, fail);
    else if (!(value instanceof Uint16Array) || value.length !== elementCount(shape)) {
      fail(`state[${i}].${name} must be a Uint16Array of length ${elementCount(shape)} (the ${format} bits of stateFormat ${JSON.stringify(format)})`);
    }
  };
  sd.state.forEach((slots, i) => {
    const step = tensorSteps?.[i] ?? sd.step;
    const scalars = scalarState(config, i, step);
    const own = tensorSlots(config, tensors[i]!, i);
    const expected = [...own.map((s) => s.name), ...Object.keys(scalars)].sort();
    // A per-tensor `step` (checked by checkTensorSteps) is not a slot.
    const got = Object.keys(slots ?? {}).filter((name) => name !== 'step').sort();
    if (JSON.stringify(expected) !== JSON.stringify(got)) {
      fail(`tensor "${tensors[i]!.name}" has slots [${got}], expected [${expected}]`);
    }
    for (const { name, shape } of own) checkSlot(slots[name], i, name, shape);
    for (const [name, value] of Object.entries(scalars)) {
      if (slots[name] !== value) {
        fail(`state[${i}].${name} is ${String(slots[name])}; at step ${step} with these options it is ${value} (it follows from the steps taken)`);
      }
    }
  });
  return {
    quantization,
    slotValues(i, slot) {
      const value = sd.state[i]![slot];
      if (isQ8(i, slot)) return decodeQ8Slot(value as Q8Slot, mapsOf(quantization!)[mapOf(specs.get(slot)!)], offsets[i]!, quantization!.blockSize, tensors[i]!.length);
      return value instanceof Uint16Array ? decodeState(codecOf(slot)!, value) : (value as Float32Array | undefined);
    },
  };
}
