/**
 * Per-tensor sums inside the packed buffers (the layer-wise optimizers' norms), as pure data and
 * arithmetic: the tables the GPU passes read, and the one summation order both the GPU and the
 * CPU twins follow. No float atomics anywhere, so the order is fixed and the twin reproduces the
 * GPU's sums bit for bit:
 *
 * 1. per 64-element chunk (shaders/layerwise.wgsl): each of 16 lanes sums its vec4 as
 *    ((x + y) + z) + w, then the lanes add in a tree (stride 8, 4, 2, 1): 16 invocations and a
 *    workgroup tree (`tensorPartials`), or one invocation and the same tree in registers
 *    (`tensorPartialsInRegisters`), the same bits;
 * 2. per span of up to 4096 chunks of a tensor (shaders/tensor-sums.wgsl): lane l of 64 adds
 *    the span's chunks l, l + 64, … in order, then the lanes add in a tree (stride 32 … 1);
 * 3. per tensor of more than one span (more than 262 144 elements): the same over its span sums.
 *    A tensor of one span takes that span's sum, so step 3 changes nothing below 262 144 elements;
 *    above, it spreads a large tensor over many workgroups instead of one.
 *
 * Tensors start on 64-element boundaries, so every chunk holds one tensor (or padding only).
 */
import { CHUNK_ELEMENTS, type PackedLayout } from '../core/layout.js';
import { fr } from '../core/twin-math.js';

/**
 * The two shapes of the reductions, the same additions in the same order: 16 invocations per chunk
 * and 64 per tensor with workgroup trees (GPUs), or one invocation per chunk and per tensor with
 * the trees in registers (CPU adapters, where barriers are slow). Entry points and the work one
 * 64-invocation workgroup covers.
 */
export const CHUNK_REDUCTIONS = {
  workgroup: { entryPoint: 'tensorPartials', elementsPerWorkgroup: 64 * 4, sumsEntryPoint: 'tensorSums', rowsPerWorkgroup: 1 },
  invocation: { entryPoint: 'tensorPartialsInRegisters', elementsPerWorkgroup: 64 * 64, sumsEntryPoint: 'tensorSumsInRegisters', rowsPerWorkgroup: 64 },
} as const;

export type ChunkReduction = keyof typeof CHUNK_REDUCTIONS;

/** 'invocation' on a fallback (CPU) adapter such as SwiftShader, else 'workgroup'. */
export function defaultChunkReduction(device: GPUDevice): ChunkReduction {
  // device.adapterInfo is recent (older browsers lack it: they get the GPU's choice).
  const info = (device as { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).adapterInfo;
  const cpu = info?.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe/i.test(`${info?.vendor} ${info?.architecture} ${info?.description}`);
  return cpu ? 'invocation' : 'workgroup';
}

/** Lanes (vec4s) per 64-element chunk. */
export const CHUNK_LANES = CHUNK_ELEMENTS / 4;
/** Lanes of the per-tensor pass (its workgroup size). */
export const TENSOR_SUM_LANES = 64;

/** Chunks one workgroup of the per-tensor pass sums: 64 per lane. */
export const SPAN_CHUNKS = TENSOR_SUM_LANES * 64;

const chunksOf = (length: number) => Math.ceil(length / CHUNK_ELEMENTS);
const spansOf = (chunks: number) => Math.max(1, Math.ceil(chunks / SPAN_CHUNKS));

/** The span sums of the tensors of more than one span, each tensor's from its first entry. */
function spanEntries(layout: PackedLayout): { first: number[]; total: number } {
  const base = layout.tensors.length + layout.paddedLength / CHUNK_ELEMENTS;
  let next = base;
  const first = layout.tensors.map((t) => {
    const spans = spansOf(chunksOf(t.length));
    const at = next;
    if (spans > 1) next += spans;
    return at;
  });
  return { first, total: next - base };
}

/**
 * The scratch buffer: `[0, T)` the per-tensor sums (one vec4<f32> each), `[T, T + chunks)` the chunk
 * partials, then the span sums of tensors of more than one span. At least one entry, so that a set
 * without elements still binds a buffer.
 */
export function scratchEntries(layout: PackedLayout): number {
  return Math.max(1, layout.tensors.length + layout.paddedLength / CHUNK_ELEMENTS + spanEntries(layout).total);
}

/**
 * One vec4<u32> per chunk: (tensor, scratch entry of the chunk's partial, elements of the tensor
 * in the chunk, group). A padding-only chunk names tensor 0 with no elements.
 */
export function chunkTensorTable(layout: PackedLayout, tensorGroup: readonly number[]): Uint32Array<ArrayBuffer> {
  const T = layout.tensors.length;
  const chunks = layout.paddedLength / CHUNK_ELEMENTS;
  const table = new Uint32Array(chunks * 4);
  for (let c = 0; c < chunks; c++) table[c * 4 + 1] = T + c;
  layout.tensors.forEach((t, i) => {
    const first = t.offset / CHUNK_ELEMENTS;
    for (let c = 0; c * CHUNK_ELEMENTS < t.length; c++) {
      table.set([i, T + first + c, Math.min(CHUNK_ELEMENTS, t.length - c * CHUNK_ELEMENTS), tensorGroup[i] ?? 0], (first + c) * 4);
    }
  });
  return table;
}

/**
 * The rows of the two per-tensor passes, one vec4<u32> each: (first input entry, inputs, output
 * entry, 0); a workgroup (or invocation) per row adds the inputs in the documented order.
 * `spans`: one row per span of every tensor, from its chunk partials to the tensor's sum (one span)
 * or to its span sum. `tensors`: one row per tensor of several spans, from its span sums to its sum
 * (none when every tensor has one span; the second pass is then not recorded).
 */
export function tensorSumRows(layout: PackedLayout): { spans: Uint32Array<ArrayBuffer>; tensors: Uint32Array<ArrayBuffer> } {
  const T = layout.tensors.length;
  const { first } = spanEntries(layout);
  const spans: number[] = [];
  const tensors: number[] = [];
  layout.tensors.forEach((t, i) => {
    const chunks = chunksOf(t.length);
    const firstPartial = T + t.offset / CHUNK_ELEMENTS;
    const count = spansOf(chunks);
    for (let j = 0; j < count; j++) {
      spans.push(firstPartial + j * SPAN_CHUNKS, Math.min(SPAN_CHUNKS, chunks - j * SPAN_CHUNKS), count === 1 ? i : first[i]! + j, 0);
    }
    if (count > 1) tensors.push(first[i]!, count, i, 0);
  });
  const table = (rows: number[]) => Uint32Array.from(rows.length ? rows : [0, 0, 0, 0]);
  return { spans: table(spans), tensors: tensors.length ? Uint32Array.from(tensors) : new Uint32Array(0) };
}

/** Adds `lanes[l + stride]` into `lanes[l]` for stride = n/2 … 1, in f32 (the GPU's tree). */
function treeSum(lanes: Float64Array, n: number): number {
  for (let stride = n / 2; stride >= 1; stride /= 2) {
    for (let l = 0; l < stride; l++) lanes[l] = fr(lanes[l]! + lanes[l + stride]!);
  }
  return lanes[0]!;
}

/**
 * The CPU twin of the GPU's per-tensor sum of `term(e)` over elements e of a tensor of `length`
 * (each term already an f32), in exactly the GPU's order.
 */
export function tensorSum(length: number, term: (e: number) => number): number {
  const chunks = Math.ceil(length / CHUNK_ELEMENTS);
  const partials = new Float64Array(chunks);
  const chunkLanes = new Float64Array(CHUNK_LANES);
  for (let c = 0; c < chunks; c++) {
    for (let l = 0; l < CHUNK_LANES; l++) {
      const e = c * CHUNK_ELEMENTS + l * 4;
      const t = (k: number) => (e + k < length ? term(e + k) : 0);
      chunkLanes[l] = fr(fr(fr(t(0) + t(1)) + t(2)) + t(3));
    }
    partials[c] = treeSum(chunkLanes, CHUNK_LANES);
  }
  const spans = Array.from({ length: spansOf(chunks) }, (_, j) => laneSum(partials.subarray(j * SPAN_CHUNKS, Math.min(chunks, (j + 1) * SPAN_CHUNKS))));
  return spans.length === 1 ? spans[0]! : laneSum(Float64Array.from(spans));
}

/** The per-tensor pass over `inputs`: lane l of 64 adds inputs l, l + 64, … in order, then the tree. */
function laneSum(inputs: Float64Array): number {
  const lanes = new Float64Array(TENSOR_SUM_LANES);
  for (let l = 0; l < TENSOR_SUM_LANES; l++) {
    let s = 0;
    for (let c = l; c < inputs.length; c += TENSOR_SUM_LANES) s = fr(s + inputs[c]!);
    lanes[l] = s;
  }
  return treeSum(lanes, TENSOR_SUM_LANES);
}

/** Σ x[e]² in the GPU's order (each square rounded to f32). */
export function tensorSumOfSquares(x: ArrayLike<number>): number {
  return tensorSum(x.length, (e) => fr(x[e]! * x[e]!));
}

/**
 * The trust ratio of LARS and LAMB (optax's `scale_by_trust_ratio`) from ‖p‖² and ‖u‖²:
 * `coefficient·‖p‖ / (‖u‖ + eps)`, and 1 when either norm is 0 (a tensor at zero, or a zero
 * update, is left to the plain step). The kernels' `trustRatio` (layerwise.wgsl) is its twin.
 */
export function trustRatio(paramSquares: number, updateSquares: number, coefficient: number, eps: number): number {
  const pn = fr(Math.sqrt(paramSquares));
  const un = fr(Math.sqrt(updateSquares));
  if (pn === 0 || un === 0) return 1;
  return fr(fr(coefficient * pn) / fr(un + eps));
}
