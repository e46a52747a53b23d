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
  // The per-tensor step's (PER_TENSOR only): each 64-element chunk's tensor (chunkStats: the segment's).
  { name: 'chunkRow', declaration: 'var<storage, read> chunkRow: array<u32>', type: 'read-only-storage' },
  // The per-tensor step's: the step's ring slot of `struct Hyper` rows (gradientAbsent), as f32 words.
  { name: 'presence', declaration: 'var<storage, read> presence: array<f32>', type: 'read-only-storage', dynamic: true },
  // The per-tensor step's, with non-finite skipping: each tensor's steps taken by the device without it.
  { name: 'tensorMissed', declaration: 'var<storage, read_write> tensorMissed: array<u32>', type: 'storage' },
] as const);

export type StatsBindingName = (typeof GRAD_STATS_BINDINGS)[number]['name'];

/** The gradient-statistics passes (shaders/grad-stats.wgsl) and the override that sizes each. */
const STATS_SIZE_OVERRIDE = {
  chunkStats: 'CHUNK_WORKGROUP',
  groupStats: 'GROUP_WORKGROUP',
  finalize: 'FINAL_WORKGROUP',
  smallStats: 'SMALL_WORKGROUP',
  tensorMisses: 'MISSES_WORKGROUP',
} as const;

export type StatsPass = keyof typeof STATS_SIZE_OVERRIDE;

/** The bindings each pass uses (allChunkGroups only with several groups). */
const STATS_PASS_BINDINGS: Record<StatsPass, readonly StatsBindingName[]> = {
  chunkStats: ['control', 'grad', 'chunkPartials'],
  groupStats: ['allChunkPartials', 'allChunkGroups', 'groupPartials'],
  finalize: ['control', 'groupPartials', 'stepTable'],
  smallStats: ['control', 'grad', 'allChunkGroups', 'stepTable'],
  // The per-tensor module's only (PER_TENSOR).
  tensorMisses: ['control', 'presence', 'tensorMissed'],
};

/** The per-tensor step's bindings: only its variant (PER_TENSOR) has them. */
const PER_TENSOR_BINDINGS: readonly StatsBindingName[] = ['chunkRow', 'presence', 'tensorMissed'];
/** What the per-tensor variants of chunkStats and smallStats bind beyond the plain ones. */
const PRESENCE_BINDINGS: readonly StatsBindingName[] = ['chunkRow', 'presence'];

/** The module's bindings for one group count: allChunkGroups exists with several groups only. */
function moduleBindings(multiGroup: boolean, perTensor = false): NumberedBinding<StatsBindingName>[] {
  return GRAD_STATS_BINDINGS.filter((b) => (multiGroup || b.name !== 'allChunkGroups') && (perTensor || !PER_TENSOR_BINDINGS.includes(b.name)));
}

/** The gradient statistics passes with their generated bindings and the control block's structs. */
export function gradStatsSource(multiGroup: boolean, perTensor = false): string {
  const bindings = `// Bindings, generated from their list in src/control/grad-stats-pipelines.ts:\n${bindingDeclarations(moduleBindings(multiGroup, perTensor))}`;
  return preprocess(`${controlWgsl()}\n${controlSource}\n${bindings}\n${gradStatsWgsl}`, { MULTI_GROUP: multiGroup, PER_TENSOR: perTensor });
}

/**
 * The per-tensor step's rows as the statistics read them: `rowWords` f32 per tensor's `Hyper` row,
 * its gradientAbsent flag at `absentWord`.
 */
export interface PresenceRows {
  readonly rowWords: number;
  readonly absentWord: number;
}

/** One pass's pipeline and the bind group entries of its bindings, by name. */
export interface StatsPipeline extends ListedPipeline {
  entries(resources: BindingResources<StatsBindingName>): GPUBindGroupEntry[];
}

/**
 * One gradient-statistics pass for `groups` parameter groups, `workgroupSize` invocations wide;
 * with `presence` (chunkStats, smallStats, tensorMisses), the per-tensor step's variant, which leaves
 * out the tensors without gradient (tensorMisses: counts the steps they missed).
 */
export function getGradStatsPipeline(device: GPUDevice, groups: number, pass: StatsPass, workgroupSize: number, presence?: PresenceRows): StatsPipeline {
  const multiGroup = groups > 1;
  const perTensor = presence !== undefined;
  const variant = `${multiGroup}${perTensor ? ':perTensor' : ''}`;
  const moduleLabel = `webgpu-optim:gradStats${multiGroup ? ':groups' : ''}${perTensor ? ':perTensor' : ''}`;
  const extra = perTensor && pass !== 'tensorMisses' ? PRESENCE_BINDINGS : [];
  const names = [...STATS_PASS_BINDINGS[pass].filter((name) => multiGroup || name !== 'allChunkGroups'), ...extra];
  const bindings = pickBindings(moduleBindings(multiGroup, perTensor), names);
  const module = cached(device, `gradStats:${variant}`, () => device.createShaderModule({ label: `${moduleLabel}:module`, code: gradStatsSource(multiGroup, perTensor) }));
  const bindGroupLayout = cached(device, `gradStats:${variant}:${pass}:bgl`, () => createBindingLayout(device, `${moduleLabel}:${pass}:bgl`, bindings));
  const rows = presence ? `:rows${presence.rowWords}.${presence.absentWord}` : '';
  return cached(device, `gradStats:${groups}:${pass}${rows}@${workgroupSize}`, () => {
    const label = `webgpu-optim:gradStats×${groups}:${pass}${rows}@${workgroupSize}`;
    const rowConstants: Record<string, number> = presence ? { ROW_WORDS: presence.rowWords, ABSENT_WORD: presence.absentWord } : {};
    const constants = { GROUPS: groups, [STATS_SIZE_OVERRIDE[pass]]: workgroupSize, ...rowConstants };
    const listed = createListedPipeline(device, label, bindings, { module, entryPoint: pass, constants }, bindGroupLayout);
    return { ...listed, entries: (resources: BindingResources<StatsBindingName>) => bindGroupEntries(bindings, resources) };
  });
}
