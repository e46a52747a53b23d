/**
 * The bindings a state format gives the update kernel: one per state slot (in the slot's stored
 * element type), and the format's own (the segment uniform of stochastic rounding; 8-bit state's
 * chunk table and maps).
 */
import type { SlotSpec } from '../core/definition.js';
import type { BindingSpec } from '../core/passes.js';
import { isBlockwise, slotFormat, type StateFormat } from './state-format.js';
import { bufferSlots } from './shared-slots.js';

/** The WGSL element type of a slot's array, by its stored format. */
const SLOT_ELEMENT: Record<StateFormat, string> = { f32: 'vec4<f32>', bf16: 'vec2<u32>', f16: 'vec2<u32>', q8: 'u32', q4: 'u32' };

/** The binding name of state slot `slot` (its PyTorch name). */
export const slotBinding = (slot: string): string => `slot:${slot}`;

// Stochastic rounding of 16-bit state: the segment's first element and the seed (a uniform
// buffer: not one of the storage buffers a stage may bind).
const SEGMENT: BindingSpec = { name: 'segment', declaration: 'var<uniform> segment: vec4<u32>', type: 'uniform' };

// 8-bit state (src/state/q8.ts): the segment's table of pieces (src/state/q8-regions.ts,
// segmentTable), and the two dynamic maps.
const Q8_BINDINGS: readonly BindingSpec[] = [
  { name: 'q8Chunks', declaration: 'var<storage, read> q8Chunks: array<u32>', type: 'read-only-storage' },
  { name: 'q8Maps', declaration: 'var<uniform> q8Maps: array<vec4<f32>, 128>', type: 'uniform' },
];

/** The state's bindings for these slots in `format` (one per buffer: slots stored in another share its binding). */
export function stateBindings(slots: readonly SlotSpec[], format: StateFormat, stochastic: boolean): BindingSpec[] {
  return [
    ...(stochastic ? [SEGMENT] : []),
    ...(isBlockwise(format) ? Q8_BINDINGS : []),
    ...bufferSlots(slots).map((slot) => ({
      name: slotBinding(slot.name),
      // 16-bit state: four halves per vec4 in two u32 (shaders/state-format.wgsl); 8-bit: codes,
      // absmax and side values as u32 (shaders/q8.wgsl).
      declaration: `var<storage, read_write> ${slot.wgsl}: array<${SLOT_ELEMENT[slotFormat(slot, format)]}>`,
      type: 'storage' as const,
    })),
  ];
}
