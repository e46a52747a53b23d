/**
 * A kernel's bindings as one list: its WGSL declarations (`@group(0) @binding(k) …;`), its bind
 * group layout entries and its bind group entries are all made from the same entries, so a
 * binding number, a buffer type or a name cannot drift apart between the shader and the host.
 * The .wgsl files that use a list declare none of its bindings themselves.
 */

/** One buffer binding of group 0. */
export interface BindingEntry<Name extends string = string> {
  /** The host's name of the resource (the WGSL variable's, where they agree). */
  readonly name: Name;
  /** The WGSL declaration that follows `@group(0) @binding(k)`, without the `;`. */
  readonly declaration: string;
  readonly type: GPUBufferBindingType;
  /** Bound with a dynamic offset (one of setBindGroup's offsets). */
  readonly dynamic?: boolean;
}

/** An entry with its binding number. */
export interface NumberedBinding<Name extends string = string> extends BindingEntry<Name> {
  readonly binding: number;
}

/** The buffer bound to each name: a map, or a function of the name. */
export type BindingResources<Name extends string> = Readonly<Partial<Record<Name, GPUBufferBinding>>> | ((name: Name) => GPUBufferBinding);

/** Numbers a list by position: entry k is `@binding(k)`. */
export function numberBindings<Name extends string>(entries: readonly BindingEntry<Name>[]): NumberedBinding<Name>[] {
  return entries.map((entry, binding) => ({ ...entry, binding }));
}

/**
 * The bindings of `list` named in `names`, in the list's order, keeping their numbers (a module
 * whose entry points each use part of its bindings: one list, one layout per entry point).
 */
export function pickBindings<Name extends string>(list: readonly NumberedBinding<Name>[], names: readonly Name[]): NumberedBinding<Name>[] {
  for (const name of names) {
    if (!list.some((b) => b.name === name)) throw new Error(`webgpu-optim: no binding named "${name}" in ${list.map((b) => b.name).join(', ')}`);
  }
  return list.filter((b) => names.includes(b.name));
}

/** The WGSL declarations, one line per binding. */
export function bindingDeclarations(bindings: readonly NumberedBinding[]): string {
  return bindings.map((b) => `@group(0) @binding(${b.binding}) ${b.declaration};`).join('\n');
}

/** The bind group layout's entries (compute stage). */
export function bindGroupLayoutEntries(bindings: readonly NumberedBinding[]): GPUBindGroupLayoutEntry[] {
  return bindings.map((b) => ({
    binding: b.binding,
    visibility: GPUShaderStage.COMPUTE,
    buffer: { type: b.type, hasDynamicOffset: b.dynamic === true },
  }));
}

/** A labelled bind group layout of `bindings`. */
export function createBindingLayout(device: GPUDevice, label: string, bindings: readonly NumberedBinding[]): GPUBindGroupLayout {
  return device.createBindGroupLayout({ label, entries: bindGroupLayoutEntries(bindings) });
}

/** The bind group's entries: each binding's buffer, by name. A name without one throws, naming it. */
export function bindGroupEntries<Name extends string>(bindings: readonly NumberedBinding<Name>[], resources: BindingResources<Name>): GPUBindGroupEntry[] {
  return bindings.map((b) => {
    const resource = typeof resources === 'function' ? resources(b.name) : resources[b.name];
    if (resource === undefined) throw new Error(`webgpu-optim: no buffer given for binding "${b.name}" (@binding(${b.binding}))`);
    return { binding: b.binding, resource };
  });
}

/** A compute pipeline with an explicit layout of `bindings` (group 0), and that layout. */
export interface ListedPipeline {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroupLayout: GPUBindGroupLayout;
}

/** A compute pipeline whose one bind group layout is made from `bindings`; every object labelled `label:…`. */
export function createListedPipeline(
  device: GPUDevice,
  label: string,
  bindings: readonly NumberedBinding[],
  compute: GPUProgrammableStage,
  bindGroupLayout: GPUBindGroupLayout = createBindingLayout(device, `${label}:bgl`, bindings),
): ListedPipeline {
  const layout = device.createPipelineLayout({ label: `${label}:layout`, bindGroupLayouts: [bindGroupLayout] });
  return { pipeline: device.createComputePipeline({ label: `${label}:pipeline`, layout, compute }), bindGroupLayout };
}
