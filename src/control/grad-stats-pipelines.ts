/** The gradient-statistics pipelines (shaders/grad-stats.wgsl), one per pass, group count and size. */
import { cached } from '../core/pipeline-cache.js';
import { preprocess } from '../core/wgsl-preprocess.js';
import {
  bindGroupEntries,
  bindingDeclarations,
  createBindingLayout,
  createListedPipeline,
  numberBindings,
  pickBindings,
  type BindingResources,
  type ListedPipeline,
  type NumberedBinding,
} from '../core/binding-list.js';
import { controlWgsl } from './control-block.js';
import controlSource from '../../shaders/control.wgsl?raw';
import gradStatsWgsl from '../../shaders/grad-stats.wgsl?raw';

/** Every binding of the statistics module; each pass binds the part it uses (STATS_PASS_BINDINGS). */
const GRAD_STATS_BINDINGS = numberBindings([
  { name: 'control', declaration: 'var<storage, read_write> control: Control', type: 'storage' },
  // chunkStats: one segment of the gradients (smallStats: the whole set).
  { name: 'grad', declaration: 'var<storage, read> grad: array<vec4<f32>>', type: 'read-only-storage' },
  // chunkStats: (Σg², max|g|, non-finite flag, unused) per chunk of the segment.
  { name: 'chunkPartials', declaration: 'var<storage, read_write> chunkPartials: array<vec4<f32>>', type: 'storage' },
  // groupStats: the same partials, every chunk of the set.
  { name: 'allChunkPartials', declaration: 'var<storage, read> allChunkPartials: array<vec4<f32>>', type: 'read-only-storage' },
  // The group of every chunk (MULTI_GROUP only).
  { name: 'allChunkGroups', declaration: 'var<storage, read> allChunkGroups: array<u32>', type: 'read-only-storage' },
  // Per workgroup of groupStats and group: its (Σ, max, non-finite flag, 0); finalize reads them.
  { name: 'groupPartials', declaration: 'var<storage, read_write> groupPartials: array<vec4<f32>>', type: 'storage' },
  // The step table (src/control/step-table.ts), read by the pass that finishes the control block.
  { name: 'stepTable', declaration: 'var<storage, read> stepTable: array<vec4<u32>>', type: 'read-only-storage' },
] as const);

export type StatsBindingName = (typeof GRAD_STATS_BINDINGS)[number]['name'];

/** The gradient-statistics passes (shaders/grad-stats.wgsl) and the override that sizes each. */
const STATS_SIZE_OVERRIDE = {
  chunkStats: 'CHUNK_WORKGROUP',
  groupStats: 'GROUP_WORKGROUP',
  finalize: 'FINAL_WORKGROUP',
  smallStats: 'SMALL_WORKGROUP',
} as const;

export type StatsPass = keyof typeof STATS_SIZE_OVERRIDE;

/** The bindings each pass uses (allChunkGroups only with several groups). */
const STATS_PASS_BINDINGS: Record<StatsPass, readonly StatsBindingName[]> = {
  chunkStats: ['control', 'grad', 'chunkPartials'],
  groupStats: ['allChunkPartials', 'allChunkGroups', 'groupPartials'],
  finalize: ['control', 'groupPartials', 'stepTable'],
  smallStats: ['control', 'grad', 'allChunkGroups', 'stepTable'],
};

/** The module's bindings for one group count: allChunkGroups exists with several groups only. */
function moduleBindings(multiGroup: boolean): NumberedBinding<StatsBindingName>[] {
  return GRAD_STATS_BINDINGS.filter((b) => multiGroup || b.name !== 'allChunkGroups');
}

/** The gradient statistics passes with their generated bindings and the control block's structs. */
export function gradStatsSource(multiGroup: boolean): string {
  const bindings = `// Bindings, generated from their list in src/control/grad-stats-pipelines.ts:\n${bindingDeclarations(moduleBindings(multiGroup))}`;
  return preprocess(`${controlWgsl()}\n${controlSource}\n${bindings}\n${gradStatsWgsl}`, { MULTI_GROUP: multiGroup });
}

/** One pass's pipeline and the bind group entries of its bindings, by name. */
export interface StatsPipeline extends ListedPipeline {
  entries(resources: BindingResources<StatsBindingName>): GPUBindGroupEntry[];
}

/** One gradient-statistics pass for `groups` parameter groups, `workgroupSize` invocations wide. */
export function getGradStatsPipeline(device: GPUDevice, groups: number, pass: StatsPass, workgroupSize: number): StatsPipeline {
  const multiGroup = groups > 1;
  const moduleLabel = `webgpu-optim:gradStats${multiGroup ? ':groups' : ''}`;
  const bindings = pickBindings(moduleBindings(multiGroup), STATS_PASS_BINDINGS[pass].filter((name) => multiGroup || name !== 'allChunkGroups'));
  const module = cached(device, `gradStats:${multiGroup}`, () => device.createShaderModule({ label: `${moduleLabel}:module`, code: gradStatsSource(multiGroup) }));
  const bindGroupLayout = cached(device, `gradStats:${multiGroup}:${pass}:bgl`, () => createBindingLayout(device, `${moduleLabel}:${pass}:bgl`, bindings));
  return cached(device, `gradStats:${groups}:${pass}@${workgroupSize}`, () => {
    const label = `webgpu-optim:gradStats×${groups}:${pass}@${workgroupSize}`;
    const constants = { GROUPS: groups, [STATS_SIZE_OVERRIDE[pass]]: workgroupSize };
    const listed = createListedPipeline(device, label, bindings, { module, entryPoint: pass, constants }, bindGroupLayout);
    return { ...listed, entries: (resources: BindingResources<StatsBindingName>) => bindGroupEntries(bindings, resources) };
  });
}
