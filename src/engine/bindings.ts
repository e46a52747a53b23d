/**
 * The update kernel's bindings, defined once: the WGSL declarations, the bind group layout and the
 * bind group entries are all made from this list, so their numbers cannot drift apart.
 */
import type { KernelDefines, SlotSpec } from '../core/definition.js';
import * as bindingList from '../core/binding-list.js';
import { slotFormat, stateFormatOf, type StateFormat } from '../state/state-format.js';

interface SharedBinding {
  readonly name: 'hyper' | 'param' | 'grad' | 'chunkGroup' | 'control' | 'chunkTensor' | 'tensorScratch' | 'factors' | 'factorTable' | 'segment' | 'q8Chunks' | 'q8Maps';
  readonly declaration: string;
  readonly type: GPUBufferBindingType;
  /** The binding exists only when this kernel flag is on… */
  readonly flag?: string;
  /** …and these are off. */
  readonly unless?: readonly string[];
  readonly dynamic?: boolean;
}

const SHARED: readonly SharedBinding[] = [
  // Each recorded step reads its own slot of a ring through the dynamic offset.
  { name: 'hyper', declaration: 'var<storage, read> hyper: array<Hyper>', type: 'read-only-storage', dynamic: true },
  { name: 'param', declaration: 'var<storage, read_write> param: array<vec4<f32>>', type: 'storage' },
  { name: 'grad', declaration: 'var<storage, read> grad: array<vec4<f32>>', type: 'read-only-storage' },
  // Group index of every 64-element chunk (16 vec4) of the segment.
  // (A layer-wise kernel reads the group from chunkTensor instead.)
  // (A layer-wise or 8-bit kernel reads the group from its own chunk table instead.)
  { name: 'chunkGroup', declaration: 'var<storage, read> chunkGroup: array<u32>', type: 'read-only-storage', flag: 'MULTI_GROUP', unless: ['LAYERWISE', 'Q8'] },
  { name: 'control', declaration: 'var<storage, read> control: Control', type: 'read-only-storage', flag: 'GRAD_CONTROL' },
  // Layer-wise: per chunk of the segment (tensor, scratch entry, tensor elements, group), and the
  // scratch buffer of per-tensor sums and chunk partials (src/passes/tensor-reduction.ts).
  { name: 'chunkTensor', declaration: 'var<storage, read> chunkTensor: array<vec4<u32>>', type: 'read-only-storage', flag: 'LAYERWISE' },
  { name: 'tensorScratch', declaration: 'var<storage, read_write> tensorScratch: array<vec4<f32>>', type: 'storage', flag: 'LAYERWISE' },
  // Factored state (Adafactor): the state buffer in per-tensor regions and its table (src/passes/factored.ts).
  { name: 'factors', declaration: 'var<storage, read_write> factors: array<f32>', type: 'storage', flag: 'FACTORED' },
  { name: 'factorTable', declaration: 'var<storage, read> factorTable: array<vec4<u32>>', type: 'read-only-storage', flag: 'FACTORED' },
  // Stochastic rounding of 16-bit state: the segment's first element and the seed (a uniform
  // buffer: not one of the storage buffers a stage may bind).
  { name: 'segment', declaration: 'var<uniform> segment: vec4<u32>', type: 'uniform', flag: 'STOCHASTIC' },
  // 8-bit state (src/state/q8.ts): per chunk of the segment (group, quantized | its elements or its side
  // index, its run, 0), and the two dynamic maps.
  { name: 'q8Chunks', declaration: 'var<storage, read> q8Chunks: array<vec4<u32>>', type: 'read-only-storage', flag: 'Q8' },
  { name: 'q8Maps', declaration: 'var<uniform> q8Maps: array<vec4<f32>, 128>', type: 'uniform', flag: 'Q8' },
];

/** The WGSL element type of a slot's array, by its stored format. */
const SLOT_ELEMENT: Record<StateFormat, string> = { f32: 'vec4<f32>', bf16: 'vec2<u32>', f16: 'vec2<u32>', q8: 'u32' };

export type BindingName = SharedBinding['name'] | `slot:${string}`;

export interface KernelBinding {
  readonly binding: number;
  readonly name: BindingName;
  readonly declaration: string;
  readonly type: GPUBufferBindingType;
  readonly dynamic: boolean;
}

/** The bindings of one kernel variant: the shared ones its flags need, then one per state slot. */
export function kernelBindings(slots: readonly SlotSpec[], defines: KernelDefines): KernelBinding[] {
  const shared = SHARED.flatMap((b, binding) =>
    (b.flag && !defines[b.flag]) || b.unless?.some((flag) => defines[flag]) ? [] : [{ binding, name: b.name, declaration: b.declaration, type: b.type, dynamic: b.dynamic === true }],
  );
  const format = stateFormatOf(defines);
  const state = slots.map((slot, k) => ({
    binding: SHARED.length + k,
    name: `slot:${slot.name}` as const,
    // 16-bit state: four halves per vec4 in two u32 (shaders/state-format.wgsl); 8-bit: codes,
    // absmax and side values as u32 (shaders/q8.wgsl).
    declaration: `var<storage, read_write> ${slot.wgsl}: array<${SLOT_ELEMENT[slotFormat(slot, format)]}>`,
    type: 'storage' as const,
    dynamic: false,
  }));
  return [...shared, ...state];
}

/** The kernel's WGSL declarations (src/core/binding-list.ts). */
export function bindingDeclarations(bindings: readonly KernelBinding[]): string {
  return bindingList.bindingDeclarations(bindings);
}

export function bindGroupLayoutEntries(bindings: readonly KernelBinding[]): GPUBindGroupLayoutEntry[] {
  return bindingList.bindGroupLayoutEntries(bindings);
}

export function bindGroupEntries(bindings: readonly KernelBinding[], resource: (name: BindingName) => GPUBufferBinding): GPUBindGroupEntry[] {
  return bindingList.bindGroupEntries(bindings, resource);
}

/** Storage buffers one kernel variant binds (checked against maxStorageBuffersPerShaderStage). */
export function storageBufferCount(slots: readonly SlotSpec[], defines: KernelDefines): number {
  return kernelBindings(slots, defines).filter((b) => b.type !== 'uniform').length;
}
