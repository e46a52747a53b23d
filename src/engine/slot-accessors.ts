/**
 * The load and store functions of a kernel's state slots. An optimizer's .wgsl never indexes a
 * slot: it reads slot `s` as `sLoad(i)` and writes it as `sStore(i, x)` (vec4<f32> either way, i
 * the vec4's index in the segment), and these functions are made here for the slot's stored
 * format: f32 (a plain read and write), 16-bit (packed, shaders/state-format.wgsl) or 8-bit
 * (shaders/q8-slot.wgsl, one copy per slot).
 */
import type { SlotSpec } from '../core/definition.js';
import { instantiateTemplate } from '../core/wgsl-template.js';
import { isBlockwise, slotCodec, type StateFormat } from '../state/state-format.js';
import { isQuantizedSlot, mapOf, Q4_MAPS, Q8_MAPS, zeroCode } from '../state/q8.js';
import { bufferSlotOf } from '../state/shared-slots.js';
import q8SlotTemplate from '../../shaders/q8-slot.wgsl?raw';

/** The most vec4s a lane of an 8-bit tile holds (q8TileShape in src/state/q8.ts). */
export const Q8_MAX_LANE_VECTORS = 4;

/**
 * The accessors of every slot of a kernel variant, and the flags they need. `laneVectors`: with
 * 8-bit state, the vec4s per lane of the tile pipeline the source is for (1, 2 or 4).
 */
export function slotAccessors(slots: readonly SlotSpec[], format: StateFormat, stochastic: boolean, laneVectors: number): { wgsl: string; flags: Record<string, boolean> } {
  if (isBlockwise(format)) {
    const shared = slots.find((slot) => slot.storedIn !== undefined || slot.compact);
    if (shared) throw new Error(`webgpu-optim: slot "${shared.name}" shares a buffer (storedIn) or is compact, which ${format === 'q4' ? '4' : '8'}-bit state does not support`);
    const quantized = slots.filter(isQuantizedSlot);
    const plain = slots.filter((slot) => !isQuantizedSlot(slot)).map((slot) => f32Accessors(slot));
    const wgsl = [...plain, ...quantized.map((slot, index) => q8SlotFunctions(slot, index, format === 'q4' ? Q4_MAPS : Q8_MAPS)), q8AllSlots(quantized, laneVectors)].join('\n');
    if (format === 'q4' && laneVectors !== 2) throw new Error(`webgpu-optim: 4-bit tiles hold 2 vec4s per lane (one u32 of codes), got ${laneVectors}`);
    return { wgsl, flags: laneVectorFlags(laneVectors) };
  }
  // A slot stored in another's buffer reads and writes that array; its stochastic rounding stays keyed by its own index.
  const accessors = slots.map((slot, index) => {
    const array = bufferSlotOf(slots, slot).wgsl;
    const codec = slotCodec(slot, format);
    const plain = !codec ? f32Accessors(slot, array) : packedAccessors(slot, codec.root, stochastic ? index : undefined, array);
    return slot.compact ? compactAccessors(slot, plain) : plain;
  });
  // Where a compact slot's element is absent (compactSlotIndex, from a pass: COMPACT_SLOT_INDEX).
  const compact = slots.some((slot) => slot.compact) ? ['const NO_COMPACT_SLOT: u32 = 0xffffffffu;'] : [];
  return { wgsl: [...compact, ...accessors].join('\n'), flags: {} };
}

/** A slot stored in f32: the accessors read and write the array (`array`: the buffer's, by default the slot's own). */
function f32Accessors(slot: SlotSpec, array = slot.wgsl): string {
  const name = slot.wgsl;
  return [`fn ${name}Load(i: u32) -> vec4<f32> { return ${array}[i]; }`, `fn ${name}Store(i: u32, x: vec4<f32>) { ${array}[i] = x; }`].join('\n');
}

/**
 * A compact slot (SlotSpec.compact): the array holds only the tensors that have the slot, so each
 * access goes through `compactSlotIndex(i)` (defined by a pass: COMPACT_SLOT_INDEX), which gives
 * NO_COMPACT_SLOT where the element has none (padding): a load reads 0 there, a store is dropped.
 * Stochastic rounding stays keyed by i, the element's place in the packed set.
 */
function compactAccessors(slot: SlotSpec, plain: string): string {
  const name = slot.wgsl;
  const at = plain.replaceAll(`${name}[i]`, `${name}[k]`);
  return [
    at.replace(`fn ${name}Load(i: u32) -> vec4<f32> { `, `fn ${name}Load(i: u32) -> vec4<f32> { let k = compactSlotIndex(i); if (k == NO_COMPACT_SLOT) { return vec4<f32>(0.0); } `)
      .replace(`fn ${name}Store(i: u32, x: vec4<f32>) { `, `fn ${name}Store(i: u32, x: vec4<f32>) { let k = compactSlotIndex(i); if (k == NO_COMPACT_SLOT) { return; } `),
  ].join('\n');
}

/**
 * A 16-bit slot (two u32 per vec4): the kernel keeps seeing vec4<f32>. A slot of squares stored as
 * its root (f16) is squared on load and rooted on store. With stochastic rounding, `noiseSlot`
 * (the slot's index) keys the store's noise.
 */
function packedAccessors(slot: SlotSpec, root: boolean, noiseSlot: number | undefined, array = slot.wgsl): string {
  const name = slot.wgsl;
  const stored = root ? 'sqrt(x)' : 'x';
  const load = root ? `let s = unpackState(${array}[i]); return s * s;` : `return unpackState(${array}[i]);`;
  const pack = noiseSlot === undefined ? `packState(${stored})` : `packStateStochastic(${stored}, roundingNoise(i, ${noiseSlot}u))`;
  return [`fn ${name}Load(i: u32) -> vec4<f32> { ${load} }`, `fn ${name}Store(i: u32, x: vec4<f32>) { ${array}[i] = ${pack}; }`].join('\n');
}

/** The functions of quantized slot `slot`, the `index`-th of the kernel's (shaders/q8-slot.wgsl). */
function q8SlotFunctions(slot: SlotSpec, index: number, maps: typeof Q8_MAPS): string {
  const map = mapOf(slot);
  return instantiateTemplate(q8SlotTemplate, {
    SLOT: slot.wgsl,
    INDEX: `${index}u`,
    MAP: map === 'signed' ? '0u' : '256u',
    ZERO: `${Math.max(0, zeroCode(maps[map]))}u`,
  });
}

/** What q8.wgsl calls over all quantized slots: the tile's two phases, slot after slot. */
function q8AllSlots(quantized: readonly SlotSpec[], laneVectors: number): string {
  const call = (fn: string, args: string) => quantized.map((slot) => `  ${slot.wgsl}${fn}(${args});`).join('\n');
  return [
    `const LANE_VECTORS = ${laneVectors}u;`,
    `const Q8_SLOTS = ${quantized.length}u;`,
    `fn q8RunMaxes() {\n${call('RunMax', '')}\n}`,
    `fn q8StoreCodes(first: u32, storesAbsmax: bool) {\n${call('StoreCodes', 'first, storesAbsmax')}\n}`,
  ].join('\n');
}

/** The flags that keep one private value per vec4 of a lane in q8-slot.wgsl, as many as it holds. */
function laneVectorFlags(laneVectors: number): Record<string, boolean> {
  if (![1, 2, 4].includes(laneVectors)) throw new Error(`webgpu-optim: 8-bit tiles hold 1, 2 or 4 vec4s per lane, got ${laneVectors}`);
  return { LANE_VECTORS_AT_LEAST_2: laneVectors >= 2, LANE_VECTORS_4: laneVectors === 4 };
}
