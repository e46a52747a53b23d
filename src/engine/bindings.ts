/**
 * The update kernel's bindings, made from one list per variant: the engine's own (the scalar ring,
 * the parameters, the gradients, the chunk → group table), then gradient control's, each pass's in
 * declaration order, and the state format's. The WGSL declarations, the bind group layout and the
 * bind group entries are all made from this list, so their numbers cannot drift apart; each module
 * hands the resources of its own bindings (SegmentResources), merged by name.
 */
import type { BindingSpec, SegmentResources } from '../core/passes.js';
import { declaredPasses } from '../core/definition.js';
import * as bindingList from '../core/binding-list.js';
import { CONTROL_BINDING } from '../control/control-block.js';
import { stateBindings } from '../state/state-bindings.js';
import type { KernelVariant } from './kernel-variant.js';

const ENGINE_BINDINGS: readonly BindingSpec[] = [
  // Each recorded step reads its own slot of a ring through the dynamic offset.
  { name: 'hyper', declaration: 'var<storage, read> hyper: array<Hyper>', type: 'read-only-storage', dynamic: true },
  { name: 'param', declaration: 'var<storage, read_write> param: array<vec4<f32>>', type: 'storage' },
  { name: 'grad', declaration: 'var<storage, read> grad: array<vec4<f32>>', type: 'read-only-storage' },
];

// Group index of every 64-element chunk (16 vec4) of the segment, when there are several groups and
// no other table gives it (the per-tensor sums', 8-bit state's and Muon's chunk tables carry the group).
const CHUNK_GROUP: BindingSpec = { name: 'chunkGroup', declaration: 'var<storage, read> chunkGroup: array<u32>', type: 'read-only-storage' };

// The per-tensor path's row of every 64-element chunk: its tensor's index (shaders/per-tensor.wgsl).
const CHUNK_ROW: BindingSpec = { name: 'chunkRow', declaration: 'var<storage, read> chunkRow: array<u32>', type: 'read-only-storage' };

export interface KernelBinding extends BindingSpec {
  readonly binding: number;
  readonly dynamic: boolean;
}

/**
 * Whether the update kernel binds the chunk → group table: with several groups, unless its groups
 * come from a table of its own (layer-wise kernels' chunkTensor, 8-bit kernels' q8Chunks, Muon's Newton–Schulz table).
 */
export const bindsGroupTable = (flags: KernelVariant['flags']): boolean => flags.MULTI_GROUP === true && !flags.LAYERWISE && !flags.Q8 && !flags.NS_GROUPS;

/** The bindings of one kernel variant, numbered in order. */
export function kernelBindings(variant: KernelVariant): KernelBinding[] {
  const { definition, flags } = variant;
  const specs = [
    ...ENGINE_BINDINGS,
    ...(bindsGroupTable(flags) ? [CHUNK_GROUP] : []),
    // The per-tensor step's chunk → row table, unless the chunk table in the scratch (or the per-tensor
    // Newton–Schulz table) names the tensor.
    ...(flags.PER_TENSOR && !flags.CHUNKS_IN_SCRATCH && !flags.NS_GROUPS ? [CHUNK_ROW] : []),
    ...(flags.GRAD_CONTROL ? [CONTROL_BINDING] : []),
    ...declaredPasses(definition, flags).flatMap((pass) => pass.bindings),
    ...stateBindings(definition.slots(flags), variant.stateFormat, flags.STOCHASTIC === true),
  ];
  return specs.map((spec, binding) => ({ ...spec, binding, dynamic: spec.dynamic === true }));
}

/** The kernel's WGSL declarations (src/core/binding-list.ts). */
export function bindingDeclarations(bindings: readonly KernelBinding[]): string {
  return bindingList.bindingDeclarations(bindings);
}

export function bindGroupLayoutEntries(bindings: readonly KernelBinding[]): GPUBindGroupLayoutEntry[] {
  return bindingList.bindGroupLayoutEntries(bindings);
}

/** The entries of segment `s`'s bind group, each resource from the module that declared the binding. */
export function bindGroupEntries(bindings: readonly KernelBinding[], resources: SegmentResources, segment: number): GPUBindGroupEntry[] {
  // A binding no module gives a resource for is refused, naming it.
  return bindingList.bindGroupEntries(bindings, (name) => resources[name]?.(segment) as GPUBufferBinding);
}

/** Storage buffers one kernel variant binds (checked against maxStorageBuffersPerShaderStage). */
export function storageBufferCount(variant: KernelVariant): number {
  return kernelBindings(variant).filter((b) => b.type !== 'uniform').length;
}
