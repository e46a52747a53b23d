/**
 * The Newton–Schulz pass's plan, from the shapes and the device's limits alone (no GPU object):
 * the GEMM tile size, the batches of matrices, the scratch layout and the table the WGSL reads
 * (shaders/newton-schulz.wgsl documents the table). `check` and `create` share it.
 *
 * Memory: the scratch holds one output region O (X's layout, every matrix of the set: the
 * gathered U, then the orthogonalized O the update reads) and one batch region: X twice, A = XXᵀ
 * and B' of every matrix of the batch being orthogonalized, and the chunks' partial sums of X·Xᵀ
 * of its long, thin matrices (split-K: newton-schulz-table.ts). The batch region is at most
 * NS_SCRATCH_BUDGET_BYTES (and what the storage binding leaves); a set over it is orthogonalized
 * batch after batch in the same step (each batch a norm dispatch and 4 per Newton–Schulz step).
 * A batch also holds no more tiles or matrices than one dispatch grid can cover.
 */
import type { CompactLayout } from '../core/compact-layout.js';
import type { PackedLayout } from '../core/layout.js';
import { f32Bits } from '../core/float-bits.js';
import { NS_SPLIT_K, nsMatrixShape, nsSplitChunks, type NsMatrixShape } from './newton-schulz-table.js';

/**
 * Bytes of the batch region of the scratch (X twice, A and B' per matrix, 8·m·(m + n) bytes for an
 * m × n X) unless the pass is made with another budget: 256 MiB, which holds a 4096 × 4096 matrix
 * in one batch where the device binds that much, and the whole GPT-2-small matrix set.
 */
export const NS_SCRATCH_BUDGET_BYTES = 256 * 2 ** 20;

/** Floats before the output region: [0] the Newton–Schulz steps taken this update over all batches. */
export const NS_HEADER_FLOATS = 4;

const NONE = 0xffffffff;
/** Table entries per batch: (first matrix, matrices, first split tile entry, split tiles), then one per tile class. */
const BATCH_ENTRIES = 4;
/** Tile rows and columns are packed in 16 bits each. */
const MAX_TILES_PER_SIDE = 0x10000;

/** A GEMM tile: `size` × `size` outputs per workgroup of `threads` × `threads` invocations, 4 × 4 outputs each. */
export interface NsTiling {
  readonly size: 64 | 32 | 16;
  readonly threads: 16 | 8 | 4;
}

/** The tile classes, smallest first (a matrix takes the smallest that covers its m; class c = index). */
export const NS_TILINGS: readonly NsTiling[] = [
  { size: 16, threads: 4 },
  { size: 32, threads: 8 },
  { size: 64, threads: 16 },
];

/** Tiles of k-depth 16 in workgroup memory: two `size` × 16 f32 arrays. */
const workgroupBytes = (t: NsTiling) => 2 * t.size * 16 * 4 + 64;

/**
 * The tile classes the device allows: 64 × 64 (256 invocations, 8 KiB of workgroup memory) where
 * its limits allow them (every WebGPU device's default limits do), 32 × 32 (64 invocations, 4 KiB)
 * and 16 × 16 (16 invocations, 2 KiB) everywhere. A matrix of m ≤ 16 or ≤ 32 takes the small ones:
 * a 64 × 64 tile would leave most of its invocations idle.
 */
export function nsTilingsFor(limits: GPUSupportedLimits): NsTiling[] {
  const fits = (t: NsTiling) =>
    limits.maxComputeInvocationsPerWorkgroup >= t.threads * t.threads &&
    limits.maxComputeWorkgroupSizeX >= t.threads &&
    limits.maxComputeWorkgroupSizeY >= t.threads &&
    limits.maxComputeWorkgroupStorageSize >= workgroupBytes(t);
  return NS_TILINGS.filter((t, c) => c < 2 || fits(t));
}

/** The class (index in NS_TILINGS) of a matrix of X rows m among the allowed tilings. */
export function nsTileClass(m: number, tilings: readonly NsTiling[]): number {
  const c = tilings.findIndex((t) => t.size >= m);
  return c < 0 ? tilings.length - 1 : c;
}

export interface NsBatch {
  readonly firstMatrix: number;
  readonly matrices: number;
  /** Per tile class: upper-triangle tiles of the m × m products (A and B' are symmetric: the others are mirrored). */
  readonly squareTiles: number[];
  /** Per tile class: tiles of the m × n product. */
  readonly wideTiles: number[];
  /** Tiles of the split Gram product (per chunk of k and upper 16² tile of its long, thin matrices). */
  readonly splitTiles: number;
  readonly floats: number;
}

export interface NsPlan {
  /** The tile classes the device allows (NS_TILINGS' first ones). */
  readonly tilings: readonly NsTiling[];
  readonly matrices: readonly NsMatrixShape[];
  readonly batches: readonly NsBatch[];
  /** f32 values of the scratch: header, output region, the largest batch region. */
  readonly scratchFloats: number;
  readonly table: Uint32Array<ArrayBuffer>;
}

/** What a plan may not exceed (from the device's limits). */
export interface NsPlanLimits {
  readonly tilings: readonly NsTiling[];
  readonly budgetBytes: number;
  readonly bindingBytes: number;
  readonly maxDim: number;
}

/** n rounded up to a multiple of 4 (a vec4 of the scratch). */
const align4 = (n: number) => Math.ceil(n / 4) * 4;

/** The split Gram product's tiles are the 16² class's (every device has it): t16 per side. */
const SPLIT_TILE = 16;

const tilesOf = (s: NsMatrixShape, tilings: readonly NsTiling[]) => {
  const c = nsTileClass(s.m, tilings);
  const size = tilings[c]!.size;
  const tm = Math.ceil(s.m / size), tn = Math.ceil(s.n / size);
  // A split matrix (long, thin): its Gram product per chunk of k and upper 16² tile, its chunks' partial sums (m² each) after B'.
  const chunks = nsSplitChunks(s.m, s.n);
  const t16 = Math.ceil(s.m / SPLIT_TILE);
  const split = chunks > 1 ? (chunks * t16 * (t16 + 1)) / 2 : 0;
  const partials = chunks > 1 ? chunks * s.m * s.m : 0;
  // X₀, X₁, A and B' each from a multiple of 4 floats (the GEMMs' vec4 loads), then the partials.
  const floats = align4(2 * align4(s.m * s.n) + 2 * align4(s.m * s.m) + partials);
  return { c, size, tm, tn, square: (tm * (tm + 1)) / 2, wide: tm * tn, chunks, t16, split, floats };
};

/**
 * Groups the matrices, in order, into batches within the budget and the grid; throws (through
 * `fail`) where one matrix alone cannot be held.
 */
function batchesOf(matrices: readonly NsMatrixShape[], names: readonly string[], oFloats: number, limits: NsPlanLimits, fail: (detail: string) => never): NsBatch[] {
  const room = Math.floor((limits.bindingBytes - 4 * align4(NS_HEADER_FLOATS + oFloats)) / 4);
  const budget = Math.min(Math.floor(limits.budgetBytes / 4), room);
  const grid = limits.maxDim * limits.maxDim;
  const batches: NsBatch[] = [];
  const empty = () => limits.tilings.map(() => 0);
  let open = { firstMatrix: 0, matrices: 0, squareTiles: empty(), wideTiles: empty(), splitTiles: 0, floats: 0 };
  matrices.forEach((s, t) => {
    const need = tilesOf(s, limits.tilings);
    if (Math.max(need.tm, need.tn) > MAX_TILES_PER_SIDE) fail(`cannot tile tensor "${names[t]}" (${s.n} > ${MAX_TILES_PER_SIDE * need.size} rows or columns)`);
    if (need.floats > room) fail(`needs a ${4 * (align4(NS_HEADER_FLOATS + oFloats) + need.floats)}-byte scratch for tensor "${names[t]}" (its X twice, XXᵀ and the polynomial, and the output of the set), over the device's storage binding limit (${limits.bindingBytes})`);
    if (need.square > grid || need.wide > grid || need.split > grid) fail(`needs ${need.wide} tiles for tensor "${names[t]}", over ${limits.maxDim}² workgroups (maxComputeWorkgroupsPerDimension²)`);
    const fits = open.floats + need.floats <= budget && open.squareTiles[need.c]! + need.square <= grid && open.wideTiles[need.c]! + need.wide <= grid && open.splitTiles + need.split <= grid && open.matrices < grid;
    if (open.matrices > 0 && !fits) {
      batches.push(open);
      open = { firstMatrix: t, matrices: 0, squareTiles: empty(), wideTiles: empty(), splitTiles: 0, floats: 0 };
    }
    open.matrices++;
    open.splitTiles += need.split;
    open.squareTiles[need.c]! += need.square;
    open.wideTiles[need.c]! += need.wide;
    open.floats += need.floats;
  });
  if (open.matrices > 0) batches.push(open);
  return batches;
}

/** A tensor the pass leaves alone (Muon's AdamW tensors, groups of role 'adamw'): no X, no tiles. */
const NOT_A_MATRIX: NsMatrixShape = { rows: 0, cols: 0, m: 0, n: 0, transposed: false, scaleOriginal: 0, scaleMatch: 0 };

/**
 * Sizes, offsets, batches and the table. `isMatrix(i)` false: tensor i is no matrix of the pass
 * (an empty one), but the chunk map still names it, so the kernel finds its group (nsGroupAt).
 */
export function planOf(layout: PackedLayout, tensorGroup: readonly number[], limits: NsPlanLimits, fail: (detail: string) => never, isMatrix: (i: number) => boolean = () => true, compact?: CompactLayout): NsPlan {
  const matrices = layout.tensors.map((t, i) => (isMatrix(i) ? nsMatrixShape(t.shape) : NOT_A_MATRIX));
  let oFloats = 0;
  const oOffsets = matrices.map((s) => ((oFloats += s.m * s.n), NS_HEADER_FLOATS + oFloats - s.m * s.n));
  const batches = batchesOf(matrices, layout.tensors.map((t) => t.name), oFloats, limits, fail);
  const batchStart = align4(NS_HEADER_FLOATS + oFloats);
  const scratch: number[][] = [];
  const square: number[] = [];
  const wide: number[] = [];
  const split: number[] = [];
  for (const batch of batches) {
    let cursor = batchStart;
    for (let t = batch.firstMatrix; t < batch.firstMatrix + batch.matrices; t++) {
      const s = matrices[t]!;
      const need = tilesOf(s, limits.tilings);
      const x = align4(s.m * s.n), a = align4(s.m * s.m);
      scratch[t] = [cursor, cursor + x, cursor + 2 * x, cursor + 2 * x + a];
      cursor += need.floats;
      for (let k = 0; k < need.chunks && need.chunks > 1; k++) for (let r = 0; r < need.t16; r++) for (let q = r; q < need.t16; q++) split.push(t, (r << 16) | q, k, Math.min(NS_SPLIT_K, s.n - k * NS_SPLIT_K));
    }
    // Tiles grouped by class within the batch (one dispatch per class and product).
    limits.tilings.forEach((_, cls) => {
      for (let t = batch.firstMatrix; t < batch.firstMatrix + batch.matrices; t++) {
        const s = matrices[t]!;
        const { c, tm, tn } = tilesOf(s, limits.tilings);
        if (c !== cls) continue;
        for (let r = 0; r < tm; r++) for (let q = r; q < tm; q++) square.push(t, (r << 16) | q, s.n, s.m);
        for (let r = 0; r < tm; r++) for (let q = 0; q < tn; q++) wide.push(t, (r << 16) | q, s.n, s.m);
      }
    });
  }
  const chunks = Math.ceil(layout.paddedLength / 64);
  const batchBase = 2 + 3 * matrices.length;
  const squareBase = batchBase + BATCH_ENTRIES * batches.length;
  const wideBase = squareBase + square.length / 4;
  const splitBase = wideBase + wide.length / 4;
  const chunkBase = splitBase + split.length / 4;
  const table = new Uint32Array((chunkBase + Math.ceil(chunks / 4)) * 4).fill(0);
  table.set([matrices.length, batches.length, chunkBase, batchBase, oFloats, 0, 0, 0]);
  matrices.forEach((s, t) => {
    // A compact slot's holders (SlotSpec.compact): the shift from the packed set to the slot's buffer
    // (mod 2³², a multiple of 64); NONE for a tensor that holds none.
    const base = compact?.base[t];
    const shift = base === undefined ? NONE : (base - layout.tensors[t]!.offset) >>> 0;
    table.set([layout.tensors[t]!.offset, s.rows, s.cols, oOffsets[t]!, ...scratch[t]!, tensorGroup[t] ?? 0, f32Bits(s.scaleOriginal), f32Bits(s.scaleMatch), shift], (2 + 3 * t) * 4);
  });
  let firstSquare = squareBase, firstWide = wideBase, firstSplit = splitBase;
  batches.forEach((b, k) => {
    table.set([b.firstMatrix, b.matrices, firstSplit, b.splitTiles], (batchBase + BATCH_ENTRIES * k) * 4);
    firstSplit += b.splitTiles;
    limits.tilings.forEach((_, c) => {
      table.set([firstSquare, b.squareTiles[c]!, firstWide, b.wideTiles[c]!], (batchBase + BATCH_ENTRIES * k + 1 + c) * 4);
      firstSquare += b.squareTiles[c]!;
      firstWide += b.wideTiles[c]!;
    });
  });
  table.set(square, squareBase * 4);
  table.set(wide, wideBase * 4);
  table.set(split, splitBase * 4);
  table.fill(NONE, chunkBase * 4, chunkBase * 4 + chunks);
  layout.tensors.forEach((t, i) => table.fill(i, chunkBase * 4 + t.offset / 64, chunkBase * 4 + t.offset / 64 + Math.ceil(t.length / 64)));
  const largest = Math.max(0, ...batches.map((b) => b.floats));
  return { tilings: limits.tilings, matrices, batches, scratchFloats: batchStart + largest, table };
}
