/**
 * The Newton–Schulz pass (Muon): every matrix of the set orthogonalized together. Per update: the
 * optimizer's `muonGather` (momentum, U into the output region) per segment, then per batch of
 * matrices (one batch unless the set's scratch is over the budget: src/passes/newton-schulz-plan.ts)
 * `muonNorm` (one workgroup per matrix) and per Newton–Schulz step three tiled products over the
 * tiles of every matrix of the batch (`muonGram` A = XXᵀ and `muonPoly` B' = b·A + c·A² over the
 * upper-triangle tiles only, mirrored; `muonCombine` X' = a·X + B'·X: one dispatch each, whatever
 * the number and shapes of the matrices) and `muonAdvance` (the step count, which picks the batch,
 * the X region and the coefficients); a batch holding long, thin matrices (split-K) also runs
 * `muonGramSplit` and `muonGramReduce` before the products. Each matrix's GEMM tile (16², 32² or 64², 4 × 4 outputs per
 * invocation: the smallest that covers its m, 64² only where the device's limits allow it) is
 * chosen when the pipelines are made; each tile class present is one dispatch per product. Everything is made
 * at creation; a step records dispatches only. The WGSL and the table: shaders/newton-schulz.wgsl.
 *
 * The update module must define `muonGather` and read the scalars `eps`, `nsBf16`, `ns{k}{a,b,c}`
 * (k < MAX_NS_STEPS) and `nsSteps`, as src/optimizers/muon does.
 */
import { dispatchGrid, type PackedLayout } from '../core/layout.js';
import type { PassContext, PassDeclaration, StepPass } from '../core/passes.js';
import type { CompactLayout } from '../core/compact-layout.js';
import { MAX_NS_STEPS, NS_SPLIT_K, NS_SPLIT_MAX_M } from './newton-schulz-table.js';
import { gemmWgsl } from './newton-schulz-gemm.js';
import { NS_SCRATCH_BUDGET_BYTES, NS_TILINGS, nsTilingsFor, planOf, type NsPlan } from './newton-schulz-plan.js';
import source from '../../shaders/newton-schulz.wgsl?raw';

/** Bytes between the segments' entries of the segment uniform (a uniform offset alignment). */
const SEGMENT_STRIDE = 256;

export interface NewtonSchulzPassOptions {
  /** Bytes of the batch region of the scratch (default NS_SCRATCH_BUDGET_BYTES); over it, batches. */
  readonly scratchBudgetBytes?: number;
  /**
   * The GEMMs' subgroup variant where the device has the `subgroups` feature (default false: on
   * SwiftShader, the only adapter measured, it is slower on large tiles; docs/semantics.md).
   */
  readonly subgroups?: boolean;
}

/** Whether tensor i is orthogonalized: every tensor, but those of groups of role 'adamw' (Muon's AdamW tensors). */
type MatrixFilter = (tensorIndex: number) => boolean;

/** The filter of a set whose groups are known (a group's `role`). */
function matrixFilter(config: { readonly groups: readonly object[]; readonly tensorGroup: readonly number[] } | undefined): MatrixFilter {
  if (!config) return () => true;
  return (i) => (config.groups[config.tensorGroup[i] ?? 0] as { role?: unknown } | undefined)?.role !== 'adamw';
}

/** The plan of `layout` on a device of `limits`, or a RangeError naming what it cannot hold. */
function planFor(what: string, layout: PackedLayout, tensorGroup: readonly number[], limits: GPUSupportedLimits, budgetBytes: number, isMatrix: MatrixFilter, compact?: CompactLayout): NsPlan {
  const fail = (detail: string): never => {
    throw new RangeError(`webgpu-optim: ${what}: the Newton–Schulz pass over ${layout.tensors.length} matrices ${detail}; split the matrices into several parameter sets`);
  };
  const bindingBytes = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const plan = planOf(layout, tensorGroup, { tilings: nsTilingsFor(limits), budgetBytes, bindingBytes, maxDim: limits.maxComputeWorkgroupsPerDimension }, fail, isMatrix, compact);
  if (plan.scratchFloats * 4 > bindingBytes) fail(`needs a ${plan.scratchFloats * 4}-byte scratch (the output of every matrix, and X twice, XXᵀ and the polynomial of a batch), over the device's storage binding limit (${bindingBytes})`);
  if (plan.table.byteLength > bindingBytes) fail(`needs a ${plan.table.byteLength}-byte table, over the device's storage binding limit (${bindingBytes})`);
  return plan;
}

/**
 * Dispatches of one update: the gathers, then per batch the norm and per Newton–Schulz step three
 * per tile class present (one class in most sets: 3) and the advance.
 */
function recordPlan(pass: GPUComputePassEncoder, bindGroup: (s: number) => [GPUBindGroup, number[]], pipelines: Record<string, GPUComputePipeline>, grids: ReturnType<typeof gridsOf>, steps: number): void {
  pass.setPipeline(pipelines.muonGather!);
  grids.gather.forEach(([x, y], s) => {
    pass.setBindGroup(0, ...bindGroup(s));
    pass.dispatchWorkgroups(x, y);
  });
  pass.setBindGroup(0, ...bindGroup(0));
  for (const batch of grids.batches) {
    pass.setPipeline(pipelines.muonNorm!);
    pass.dispatchWorkgroups(...batch.norm);
    for (let k = 0; k < steps; k++) {
      if (batch.split) {
        // Long, thin matrices: X·Xᵀ per chunk of k, then the chunks added (before muonPoly reads A).
        pass.setPipeline(pipelines.muonGramSplit!);
        pass.dispatchWorkgroups(...batch.split);
        pass.setPipeline(pipelines.muonGramReduce!);
        pass.dispatchWorkgroups(...batch.norm);
      }
      for (const { size, square, wide } of batch.classes) {
        pass.setPipeline(pipelines[`muonGram${size}`]!);
        pass.dispatchWorkgroups(...square);
        pass.setPipeline(pipelines[`muonPoly${size}`]!);
        pass.dispatchWorkgroups(...square);
        pass.setPipeline(pipelines[`muonCombine${size}`]!);
        pass.dispatchWorkgroups(...wide);
      }
      pass.setPipeline(pipelines.muonAdvance!);
      pass.dispatchWorkgroups(1);
    }
  }
}

function gridsOf(context: PassContext, plan: NsPlan) {
  const maxDim = context.device.limits.maxComputeWorkgroupsPerDimension;
  return {
    gather: context.layout.segments.map((segment) => dispatchGrid(Math.ceil(segment.elementCount / 4 / context.workgroupSize), maxDim, 'a segment of muonGather')),
    batches: plan.batches.map((b) => ({
      norm: dispatchGrid(b.matrices, maxDim, 'muonNorm'),
      split: b.splitTiles > 0 ? dispatchGrid(b.splitTiles, maxDim, 'the split m × m products') : undefined,
      classes: plan.tilings
        .map((t, c) => ({ size: t.size, square: dispatchGrid(b.squareTiles[c]!, maxDim, 'the m × m products'), wide: dispatchGrid(b.wideTiles[c]!, maxDim, 'the m × n product'), used: b.wideTiles[c]! > 0 }))
        .filter((c) => c.used),
    })),
  };
}

/** The scratch and the segment uniform of the plain build (each matrix's regions, rewritten every update). */
function createScratchBuffers(context: PassContext, plan: NsPlan): { scratch: GPUBuffer; segmentInfo: GPUBuffer } {
  const { device, label, layout } = context;
  // Bound as vec4s: a whole number of them.
  const scratch = device.createBuffer({ label: `${label}:muonScratch`, size: Math.max(16, Math.ceil(plan.scratchFloats / 4) * 16), usage: GPUBufferUsage.STORAGE });
  const segments = new Uint32Array((layout.segments.length * SEGMENT_STRIDE) / 4);
  layout.segments.forEach((segment, s) => segments.set([segment.firstElement, context.compactSlots?.segments[s]!.first ?? 0], (s * SEGMENT_STRIDE) / 4));
  const segmentInfo = device.createBuffer({ label: `${label}:muonSegment`, size: segments.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(segmentInfo, 0, segments);
  return { scratch, segmentInfo };
}

/**
 * The per-tensor build (PyTorch's step rule, `context.plain`) plans with each tensor its own group,
 * so its table names each matrix's tensor where the plain one names the group (the same offsets,
 * batches and tiles: the group is no input of the plan's layout) and the same WGSL reads each
 * tensor's own row (`gradientAbsent`: muonGather keeps its momentum, the update passes it by). It
 * binds the plain build's scratch and segment uniform: nothing in them outlives an update.
 */
function createNewtonSchulzPass(context: PassContext, budgetBytes: number): StepPass {
  const { device, label, layout, plain } = context;
  const rows = plain ? layout.tensors.map((_, i) => i) : context.tensorGroup;
  const plan = planFor(label, layout, rows, device.limits, budgetBytes, matrixFilter(context), context.compactSlots);
  const table = device.createBuffer({ label: `${label}:muonTable`, size: plan.table.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(table, 0, plan.table);
  const own = plain ? undefined : createScratchBuffers(context, plan);
  const scratch = own?.scratch ?? plain!.resources.muonScratch!(0).buffer;
  const segmentInfo = own?.segmentInfo ?? plain!.resources.muonSegment!(0).buffer;
  const grids = gridsOf(context, plan);
  // The GEMM pipelines of the tile classes the set uses only.
  const sizes = new Set(grids.batches.flatMap((b) => b.classes.map((c) => c.size)));
  const split = grids.batches.some((b) => b.split) ? ['muonGramSplit', 'muonGramReduce'] : [];
  const entries = ['muonGather', 'muonNorm', 'muonAdvance', ...split, ...[...sizes].flatMap((t) => [`muonGram${t}`, `muonPoly${t}`, `muonCombine${t}`])];
  const pipelines: Record<string, GPUComputePipeline> = Object.fromEntries(entries.map((e) => [e, context.kernelPipeline(e)]));
  // nsSteps is structural: equal in every group (group 0's is the set's).
  const steps = context.groups[0]?.nsSteps as number;
  return {
    resources: {
      muonTable: () => ({ buffer: table }),
      muonScratch: () => ({ buffer: scratch }),
      muonSegment: (s) => ({ buffer: segmentInfo, offset: s * SEGMENT_STRIDE, size: 16 }),
    },
    record(pass, bindGroup) {
      if (plan.matrices.some((m) => m.m > 0)) recordPlan(pass, bindGroup, pipelines, grids, steps);
    },
    allocatedBytes: [table, ...(own ? [scratch, segmentInfo] : [])].reduce((n, b) => n + b.size, 0),
    destroy() {
      // The per-tensor build's scratch and segment uniform are the plain build's, which frees them.
      for (const buffer of [table, ...(own ? [scratch, segmentInfo] : [])]) buffer.destroy();
    },
  };
}

/**
 * `fn nsGroupAt(i)`: the group of vec4 i of the segment, from the table's chunk → tensor map (the
 * NS_GROUPS flag: common.wgsl's groupAt reads it, and the kernel binds no chunkGroup table: one
 * storage buffer fewer, which Muon with AdamW beside it needs to fit the default 8).
 */
const GROUP_AT_WGSL = `fn nsGroupAt(i: u32) -> u32 {
  let t = nsMatrixOfElement(muonSegment.x + 4u * i);
  if (t == NS_NONE) {
    return 0u;
  }
  return nsMatrix(t).group;
}
`;

/**
 * `fn compactSlotIndex(i)` (flag COMPACT_SLOT_INDEX): where vec4 i of the segment sits in a compact
 * slot's binding (SlotSpec.compact, e.g. AdamW's exp_avg_sq beside Muon), from its tensor's entry
 * (the shift, the third vec4's w: 0xffffffff for a tensor that holds none; a real shift is a multiple
 * of 64) and the segment's binding start (muonSegment.y);
 * 0xffffffff (the accessors' NO_COMPACT_SLOT) where the element has none.
 */
const COMPACT_SLOT_INDEX_WGSL = `fn compactSlotIndex(i: u32) -> u32 {
  let e = muonSegment.x + 4u * i;
  let t = nsMatrixOfElement(e);
  if (t == NS_NONE) {
    return 0xffffffffu;
  }
  let shift = muonTable[2u + 3u * t + 2u].w;
  if (shift == 0xffffffffu) {
    return 0xffffffffu;
  }
  return (e + shift - muonSegment.y) / 4u;
}
`;

/** The split-K rule's constants (src/passes/newton-schulz-table.ts: the twin reads the same). */
const SPLIT_CONSTANTS_WGSL = `const NS_SPLIT_K: u32 = ${NS_SPLIT_K}u;\nconst NS_SPLIT_MAX_M: u32 = ${NS_SPLIT_MAX_M}u;\n`;

/** The subgroup variant's lane and subgroup size, set by each GEMM entry point. */
const SUBGROUP_LANE_WGSL = `var<private> nsSgLane: u32;\nvar<private> nsSgSize: u32;\n`;

/** `fn nsCoefficients(h, k)`: step k's (a, b, c) from the scalars ns{k}{a,b,c}. */
function coefficientsWgsl(): string {
  const cases = Array.from({ length: MAX_NS_STEPS }, (_, k) => `    case ${k}u: { return vec3<f32>(h.ns${k}a, h.ns${k}b, h.ns${k}c); }`).join('\n');
  return `fn nsCoefficients(h: Hyper, k: u32) -> vec3<f32> {\n  switch k {\n${cases}\n    default: { return vec3<f32>(0.0); }\n  }\n}\n`;
}

/**
 * A Newton–Schulz pass whose scratch batch region holds at most `scratchBudgetBytes` (a set over
 * it is orthogonalized in batches, exactly as in one), with the GEMMs' subgroup variant where
 * `subgroups` and the device has the feature.
 */
export function newtonSchulzPassWith(options: NewtonSchulzPassOptions = {}): PassDeclaration {
  const budgetBytes = options.scratchBudgetBytes ?? NS_SCRATCH_BUDGET_BYTES;
  if (!(Number.isFinite(budgetBytes) && budgetBytes > 0)) throw new RangeError(`webgpu-optim: newtonSchulzPassWith: scratchBudgetBytes must be a positive number, got ${String(budgetBytes)}`);
  if (options.subgroups !== undefined && typeof options.subgroups !== 'boolean') throw new TypeError(`webgpu-optim: newtonSchulzPassWith: subgroups must be true or false, got ${String(options.subgroups)}`);
  return {
    name: 'newtonSchulz',
    flags: { NS_GROUPS: true, COMPACT_SLOT_INDEX: true },
    bindings: [
      { name: 'muonTable', declaration: 'var<storage, read> muonTable: array<vec4<u32>>', type: 'read-only-storage' },
      { name: 'muonScratch', declaration: 'var<storage, read_write> muonScratch: array<vec4<f32>>', type: 'storage' },
      { name: 'muonSegment', declaration: 'var<uniform> muonSegment: vec4<u32>', type: 'uniform' },
    ],
    // Asked for and where the device has subgroups, the GEMMs' subgroup variant (src/passes/newton-schulz-gemm.ts).
    subgroups: options.subgroups === true,
    wgsl: ({ subgroups }) => [SPLIT_CONSTANTS_WGSL, subgroups ? SUBGROUP_LANE_WGSL : '', source, coefficientsWgsl(), GROUP_AT_WGSL, COMPACT_SLOT_INDEX_WGSL, ...NS_TILINGS.map((t, c) => gemmWgsl(t, c, subgroups))].join('\n'),
    check: (what, layout, limits, config) => void planFor(what, layout, [], limits, budgetBytes, matrixFilter(config)),
    create: (context) => createNewtonSchulzPass(context, budgetBytes),
    // A matrix without gradient keeps its momentum and parameters (muon.wgsl under PER_TENSOR); the
    // pass itself writes only its scratch, whose regions are each matrix's own.
    perTensor: true,
  };
}

/** The Newton–Schulz pass of Muon, with the default scratch budget (NS_SCRATCH_BUDGET_BYTES). */
export const newtonSchulzPass: PassDeclaration = newtonSchulzPassWith();
