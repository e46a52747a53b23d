/**
 * The CPU twin of the GPU's stores: each per-element slot rounded to its state format, to nearest
 * or stochastically (hashing each element's place in the packed buffers, as the GPU does).
 */
import type { SlotSpec } from '../core/definition.js';
import { encodeState, roundingNoise, roundToFormat, slotCodec, type StateFormat } from '../state/state-format.js';

export interface TwinRounding {
  /**
   * The value element e of tensor i's slot keeps when x is stored: stochastically rounded at update
   * `step` when that is on (a kernel's store), else to nearest (initial values and loads); x itself
   * for a slot stored in f32.
   */
  stored(slot: string, x: number, tensorIndex: number, e: number, step?: number): number;
  /** Rounds tensor i's slots in place to what the GPU stores (at update `step`; without it, to nearest). */
  roundSlots(slotsOfTensor: Record<string, Float32Array>, tensorIndex: number, step?: number): void;
  /** A slot's values in their stored form: a 16-bit format's bits, or an f32 copy. */
  encoded(slot: string, values: Float32Array): Float32Array | Uint16Array;
}

export function createTwinRounding(args: {
  slots: readonly SlotSpec[];
  /** Each tensor's first element in the packed buffers (what stochastic rounding hashes). */
  offsets: readonly number[];
  stateFormat: StateFormat;
  /** The stochastic-rounding seed (undefined: round to nearest). */
  roundingSeed: number | undefined;
}): TwinRounding {
  const { slots, offsets, roundingSeed } = args;
  /** Each per-element slot's codec (none: f32); rounding through it is the twin of a GPU store. */
  const codecs = new Map(slots.map((s) => [s.name, slotCodec(s, args.stateFormat)]));
  const slotIndex = new Map(slots.map((slot, k) => [slot.name, k]));
  const stored: TwinRounding['stored'] = (slot, x, i, e, step) => {
    const codec = codecs.get(slot);
    if (!codec) return x;
    return codec.decode(roundingSeed === undefined || step === undefined ? codec.encode(x) : codec.encodeStochastic(x, roundingNoise(roundingSeed, step, slotIndex.get(slot)!, offsets[i]! + e)));
  };
  return {
    stored,
    roundSlots(slotsOfTensor, i, step) {
      for (const { name } of slots) {
        const codec = codecs.get(name);
        const values = slotsOfTensor[name]!;
        if (!codec) continue;
        if (roundingSeed === undefined || step === undefined) roundToFormat(codec, values);
        else for (let e = 0; e < values.length; e++) values[e] = stored(name, values[e]!, i, e, step);
      }
    },
    encoded(slot, values) {
      const codec = codecs.get(slot);
      return codec ? encodeState(codec, values) : values.slice();
    },
  };
}
