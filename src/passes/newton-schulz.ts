/**
 * The Newton–Schulz pass (Muon): every matrix of the set orthogonalized together. Per update: the
 * optimizer's `muonGather` (momentum, U into X) per segment, `muonNorm` (one workgroup per
 * matrix), then per Newton–Schulz step three tiled products over the tiles of every matrix
 * (`muonGram` A = XXᵀ, `muonPoly` B' = b·A + c·A², `muonCombine` X' = a·X + B'·X: one dispatch
 * each, whatever the number and shapes of the matrices) and `muonAdvance` (the step count, which
 * picks the X region and the coefficients). Everything is made at creation; a step records
 * dispatches only. The WGSL and the table layout: shaders/newton-schulz.wgsl.
 *
 * The update module must define `muonGather` and read the scalars `eps` and `ns{k}{a,b,c}` (k <
 * MAX_NS_STEPS) and `nsSteps`, as src/optimizers/muon does.
 */
import { dispatchGrid, type PackedLayout } from '../core/layout.js';
import type { PassContext, PassDeclaration, StepPass } from '../core/passes.js';
import type { CompactLayout } from '../core/compact-layout.js';
import { MAX_NS_STEPS, nsMatrixShape, type NsMatrixShape } from './newton-schulz-table.js';
import source from '../../shaders/newton-schulz.wgsl?raw';

const TILE = 16;
const NONE = 0xffffffff;
/** Bytes between the segments' entries of the segment uniform (a uniform offset alignment). */
const SEGMENT_STRIDE = 256;
/** Tile rows and columns are packed in 16 bits each. */
const MAX_TILES_PER_SIDE = 0x10000;

interface NsPlan {
  readonly matrices: readonly NsMatrixShape[];
  /** f32 values of the scratch: the step count, two X regions, then A and B' of every matrix. */
  readonly scratchFloats: number;
  readonly squareTiles: number;
  readonly wideTiles: number;
  readonly table: Uint32Array<ArrayBuffer>;
}

/** A tensor the pass leaves alone (Muon's AdamW tensors, groups of role 'adamw'): no X, no tiles, no chunks. */
const NOT_A_MATRIX: NsMatrixShape = { rows: 0, cols: 0, m: 0, n: 0, transposed: false, scaleOriginal: 0, scaleMatch: 0 };

/** Whether tensor i is orthogonalized: every tensor, but those of groups of role 'adamw'. */
type MatrixFilter = (tensorIndex: number) => boolean;

/** The filter of a set whose groups are known (a group's `role`). */
function matrixFilter(config: { readonly groups: readonly object[]; readonly tensorGroup: readonly number[] } | undefined): MatrixFilter {
  if (!config) return () => true;
  return (i) => (config.groups[config.tensorGroup[i] ?? 0] as { role?: unknown } | undefined)?.role !== 'adamw';
}

/** Sizes, offsets and tables from the shapes alone (no GPU object): `check` and `create` share it. */
function planOf(layout: PackedLayout, tensorGroup: readonly number[], isMatrix: MatrixFilter = () => true, compact?: CompactLayout): NsPlan {
  const matrices = layout.tensors.map((t, i) => (isMatrix(i) ? nsMatrixShape(t.shape) : NOT_A_MATRIX));
  let totalX = 0;
  const xOffsets = matrices.map((s) => ((totalX += s.m * s.n), totalX - s.m * s.n));
  let cursor = 1 + 2 * totalX;
  const gramOffsets = matrices.map((s) => [(cursor += s.m * s.m) - s.m * s.m, (cursor += s.m * s.m) - s.m * s.m] as const);
  const square: number[] = [];
  const wide: number[] = [];
  matrices.forEach((s, t) => {
    const tm = Math.ceil(s.m / TILE), tn = Math.ceil(s.n / TILE);
    for (let r = 0; r < tm; r++) for (let c = 0; c < tm; c++) square.push(t, (r << 16) | c, s.n, s.m);
    for (let r = 0; r < tm; r++) for (let c = 0; c < tn; c++) wide.push(t, (r << 16) | c, s.n, s.m);
  });
  const chunks = Math.ceil(layout.paddedLength / 64);
  const squareBase = 2 + 3 * matrices.length;
  const wideBase = squareBase + square.length / 4;
  const chunkBase = wideBase + wide.length / 4;
  const table = new Uint32Array((chunkBase + Math.ceil(chunks / 4)) * 4).fill(0);
  const f32Bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0]!;
  table.set([matrices.length, square.length / 4, wide.length / 4, chunkBase, squareBase, wideBase, totalX, 0]);
  matrices.forEach((s, t) => {
    const [a, b] = gramOffsets[t]!;
    // A compact slot's holders: the shift from the packed set to the slot's buffer (mod 2³²), and 1.
    const base = compact?.base[t];
    const shift = base === undefined ? 0 : (base - layout.tensors[t]!.offset) >>> 0;
    table.set([layout.tensors[t]!.offset, s.rows, s.cols, xOffsets[t]!, a, b, tensorGroup[t] ?? 0, shift, f32Bits(s.scaleOriginal), f32Bits(s.scaleMatch), base === undefined ? 0 : 1, 0], (2 + 3 * t) * 4);
  });
  table.set(square, squareBase * 4);
  table.set(wide, wideBase * 4);
  table.fill(NONE, chunkBase * 4, chunkBase * 4 + chunks);
  // Every tensor's chunks, AdamW's too (their empty matrix gives their group: nsGroupAt).
  layout.tensors.forEach((t, i) => table.fill(i, chunkBase * 4 + t.offset / 64, chunkBase * 4 + t.offset / 64 + Math.ceil(t.length / 64)));
  return { matrices, scratchFloats: cursor, squareTiles: square.length / 4, wideTiles: wide.length / 4, table };
}

/** Refuses a set whose scratch, tables or tile grids the device cannot hold, naming the limit. */
function checkPlan(what: string, layout: PackedLayout, limits: GPUSupportedLimits, config?: { readonly groups: readonly object[]; readonly tensorGroup: readonly number[] }): void {
  const isMatrix = matrixFilter(config);
  const fail = (detail: string) => {
    throw new RangeError(`webgpu-optim: ${what}: the Newton–Schulz pass over ${layout.tensors.length} matrices ${detail}; split the matrices into several parameter sets`);
  };
  for (const [i, t] of layout.tensors.entries()) {
    if (!isMatrix(i)) continue;
    const s = nsMatrixShape(t.shape);
    if (Math.ceil(s.n / TILE) > MAX_TILES_PER_SIDE) fail(`cannot tile tensor "${t.name}" of shape [${t.shape.join(', ')}] (${s.n} > ${MAX_TILES_PER_SIDE * TILE} rows or columns)`);
  }
  const plan = planOf(layout, [], isMatrix);
  const scratchBytes = plan.scratchFloats * 4;
  const binding = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (scratchBytes > binding) fail(`needs a ${scratchBytes}-byte scratch (X twice, XXᵀ and the polynomial of every matrix), over the device's storage binding limit (${binding})`);
  if (plan.table.byteLength > binding) fail(`needs a ${plan.table.byteLength}-byte table, over the device's storage binding limit (${binding})`);
  const maxDim = limits.maxComputeWorkgroupsPerDimension;
  for (const [count, name] of [[plan.squareTiles, 'm × m tiles'], [plan.wideTiles, 'm × n tiles'], [plan.matrices.length, 'matrices']] as const) {
    if (count > maxDim * maxDim) fail(`has ${count} ${name}, over ${maxDim}² workgroups (maxComputeWorkgroupsPerDimension²)`);
  }
}

function createNewtonSchulzPass(context: PassContext): StepPass {
  const { device, label, layout } = context;
  const plan = planOf(layout, context.tensorGroup, matrixFilter(context), context.compactSlots);
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const table = device.createBuffer({ label: `${label}:muonTable`, size: plan.table.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(table, 0, plan.table);
  const scratch = device.createBuffer({ label: `${label}:muonScratch`, size: Math.max(16, plan.scratchFloats * 4), usage: GPUBufferUsage.STORAGE });
  const segments = new Uint32Array((layout.segments.length * SEGMENT_STRIDE) / 4);
  layout.segments.forEach((segment, s) => segments.set([segment.firstElement, context.compactSlots?.segments[s]!.first ?? 0], (s * SEGMENT_STRIDE) / 4));
  const segmentInfo = device.createBuffer({ label: `${label}:muonSegment`, size: segments.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(segmentInfo, 0, segments);
  const pipelines = Object.fromEntries(['muonGather', 'muonNorm', 'muonGram', 'muonPoly', 'muonCombine', 'muonAdvance'].map((e) => [e, context.kernelPipeline(e)]));
  const gatherGrids = layout.segments.map((segment) => dispatchGrid(Math.ceil(segment.elementCount / 4 / context.workgroupSize), maxDim, 'a segment of muonGather'));
  const normGrid = dispatchGrid(plan.matrices.length, maxDim, 'muonNorm');
  const squareGrid = dispatchGrid(plan.squareTiles, maxDim, 'the m × m products');
  const wideGrid = dispatchGrid(plan.wideTiles, maxDim, 'the m × n product');
  // nsSteps is structural: equal in every group (group 0's is the set's).
  const steps = context.groups[0]?.nsSteps as number;
  return {
    resources: {
      muonTable: () => ({ buffer: table }),
      muonScratch: () => ({ buffer: scratch }),
      muonSegment: (s) => ({ buffer: segmentInfo, offset: s * SEGMENT_STRIDE, size: 16 }),
    },
    record(pass, bindGroup) {
      if (!plan.matrices.some((s) => s.m > 0)) return;
      pass.setPipeline(pipelines.muonGather!);
      gatherGrids.forEach(([x, y], s) => {
        pass.setBindGroup(0, ...bindGroup(s));
        pass.dispatchWorkgroups(x, y);
      });
      pass.setBindGroup(0, ...bindGroup(0));
      pass.setPipeline(pipelines.muonNorm!);
      pass.dispatchWorkgroups(...normGrid);
      for (let k = 0; k < steps; k++) {
        pass.setPipeline(pipelines.muonGram!);
        pass.dispatchWorkgroups(...squareGrid);
        pass.setPipeline(pipelines.muonPoly!);
        pass.dispatchWorkgroups(...squareGrid);
        pass.setPipeline(pipelines.muonCombine!);
        pass.dispatchWorkgroups(...wideGrid);
        pass.setPipeline(pipelines.muonAdvance!);
        pass.dispatchWorkgroups(1);
      }
    },
    allocatedBytes: [table, scratch, segmentInfo].reduce((n, b) => n + b.size, 0),
    destroy() {
      for (const buffer of [table, scratch, segmentInfo]) buffer.destroy();
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
 * (shift, holder: the second and third vec4s' w and z) and the segment's binding start (muonSegment.y);
 * 0xffffffff (the accessors' NO_COMPACT_SLOT) where the element has none.
 */
const COMPACT_SLOT_INDEX_WGSL = `fn compactSlotIndex(i: u32) -> u32 {
  let e = muonSegment.x + 4u * i;
  let t = nsMatrixOfElement(e);
  if (t == NS_NONE || muonTable[2u + 3u * t + 2u].z == 0u) {
    return 0xffffffffu;
  }
  return (e + muonTable[2u + 3u * t + 1u].w - muonSegment.y) / 4u;
}
`;

/** `fn nsCoefficients(h, k)`: step k's (a, b, c) from the scalars ns{k}{a,b,c}. */
function coefficientsWgsl(): string {
  const cases = Array.from({ length: MAX_NS_STEPS }, (_, k) => `    case ${k}u: { return vec3<f32>(h.ns${k}a, h.ns${k}b, h.ns${k}c); }`).join('\n');
  return `fn nsCoefficients(h: Hyper, k: u32) -> vec3<f32> {\n  switch k {\n${cases}\n    default: { return vec3<f32>(0.0); }\n  }\n}\n`;
}

/** The Newton–Schulz pass of Muon (a module of its own: src/passes/, shaders/newton-schulz.wgsl). */
export const newtonSchulzPass: PassDeclaration = {
  name: 'newtonSchulz',
  flags: { NS_GROUPS: true, COMPACT_SLOT_INDEX: true },
  bindings: [
    { name: 'muonTable', declaration: 'var<storage, read> muonTable: array<vec4<u32>>', type: 'read-only-storage' },
    { name: 'muonScratch', declaration: 'var<storage, read_write> muonScratch: array<f32>', type: 'storage' },
    { name: 'muonSegment', declaration: 'var<uniform> muonSegment: vec4<u32>', type: 'uniform' },
  ],
  wgsl: () => `${source}\n${coefficientsWgsl()}\n${GROUP_AT_WGSL}\n${COMPACT_SLOT_INDEX_WGSL}`,
  check: checkPlan,
  create: createNewtonSchulzPass,
};
