/**
 * The update kernel's bindings, made from one list per variant: the engine's own (the scalar ring,
 * the parameters, the gradients, the chunk → group table), then gradient control's, each pass's in
 * declaration order, and the state format's. The WGSL declarations, the bind group layout and the
 * bind group entries are all made from this list, so their numbers cannot drift apart; each module
 * hands the resources of its own bindings (BindingResources), merged by name.
 */
import type { BindingResources, BindingSpec } from '../core/passes.js';
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
// no other table gives it (the per-tensor sums' and 8-bit state's chunk tables carry the group).
const CHUNK_GROUP: BindingSpec = { name: 'chunkGroup', declaration: 'var<storage, read> chunkGroup: array<u32>', type: 'read-only-storage' };

export interface KernelBinding extends BindingSpec {
  readonly binding: number;
  readonly dynamic: boolean;
}

/** The bindings of one kernel variant, numbered in order. */
export function kernelBindings(variant: KernelVariant): KernelBinding[] {
  const { definition, flags } = variant;
  const specs = [
    ...ENGINE_BINDINGS,
    ...(flags.MULTI_GROUP && !flags.LAYERWISE && !flags.Q8 ? [CHUNK_GROUP] : []),
    ...(flags.GRAD_CONTROL ? [CONTROL_BINDING] : []),
    ...(definition.passes ?? []).flatMap((pass) => pass.bindings),
    ...stateBindings(definition.slots(flags), variant.stateFormat, flags.STOCHASTIC === true),
  ];
  return specs.map((spec, binding) => ({ ...spec, binding, dynamic: spec.dynamic === true }));
}

export function bindingDeclarations(bindings: readonly KernelBinding[]): string {
  return bindings.map((b) => `@group(0) @binding(${b.binding}) ${b.declaration};`).join('\n');
}

export function bindGroupLayoutEntries(bindings: readonly KernelBinding[]): GPUBindGroupLayoutEntry[] {
  return bindings.map((b) => ({
    binding: b.binding,
    visibility: GPUShaderStage.COMPUTE,
    buffer: { type: b.type, hasDynamicOffset: b.dynamic },
  }));
}

/** The entries of segment `s`'s bind group, each resource from the module that declared the binding. */
export function bindGroupEntries(bindings: readonly KernelBinding[], resources: BindingResources, segment: number): GPUBindGroupEntry[] {
  return bindings.map((b) => {
    const resource = resources[b.name];
    if (!resource) throw new Error(`webgpu-optim: internal: no module gives the kernel's binding "${b.name}"`);
    return { binding: b.binding, resource: resource(segment) };
  });
}

/** Storage buffers one kernel variant binds (checked against maxStorageBuffersPerShaderStage). */
export function storageBufferCount(variant: KernelVariant): number {
  return kernelBindings(variant).filter((b) => b.type !== 'uniform').length;
}
