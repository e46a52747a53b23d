/**
 * 8-bit block-wise optimizer state (`stateFormat: 'q8'`; Dettmers et al. 2022, "8-bit Optimizers
 * via Block-wise Quantization", https://arxiv.org/abs/2110.02861), as pure data and arithmetic: the
 * dynamic maps, the block quantizer the CPU twin and the host writes use, and where everything
 * lives in the packed buffers. shaders/q8.wgsl does the same operations on the GPU.
 *
 * Blocks are `blockSize`-aligned ranges of the packed buffers (so a block never straddles a
 * segment), cut at tensor boundaries: each part of a block that one tensor holds is a "run" with
 * its own f32 absmax, the NaN-propagating max |x| over the run, so tensors never share a scale (as
 * bitsandbytes quantizes each tensor on its own); a tensor's first and last runs may be shorter
 * than a block. Each element keeps one byte: the index of the map value nearest to x / absmax.
 * Tensors under `minQuantizedElements` keep f32 state ("side" values).
 */
import { CHUNK_ELEMENTS } from '../core/layout.js';
import { describeValue } from '../core/describe-value.js';

const fr = Math.fround;

/** `quantization` options of stateFormat 'q8' and 'q4'. */
export interface QuantizationOptions {
  /**
   * Elements per block (one f32 absmax per run of a tensor in it): a power of two in [64, 4096]
   * (bitsandbytes' range; a block lies within one workgroup's tile, Q8_TILE_ELEMENTS); default 256.
   * Under 'q4', in [64, 2048], default 128 (torchao's).
   */
  blockSize?: number;
  /** Tensors with fewer elements keep f32 state (bitsandbytes' min_8bit_size); default 4096. */
  minQuantizedElements?: number;
}

/** Bits per code: 8 (stateFormat 'q8') or 4 ('q4', two codes per byte). */
export type CodeBits = 8 | 4;

/** A tensor's 8-bit slot as a state dict holds it: one code per element and the absmax of every block the tensor touches. */
export interface Q8Slot {
  codes: Uint8Array;
  absmax: Float32Array;
}

export interface Quantization {
  readonly blockSize: number;
  readonly minQuantizedElements: number;
  /** 4 under stateFormat 'q4' (its maps, two codes per byte); absent under 'q8'. Not part of a dict's `quantization`. */
  readonly codeBits?: 4;
}

/** The bits per code of a quantization. */
export const codeBitsOf = (q: Quantization): CodeBits => q.codeBits ?? 8;

/**
 * Invocations of one 8-bit workgroup (TILE_LANES in shaders/q8.wgsl), each owning up to 16
 * elements of one chunk. The largest tile, Q8_TILE_ELEMENTS, bounds the block size (a tile holds
 * whole blocks, since segments start at multiples of it: SEGMENT_ALIGN_ELEMENTS).
 */
export const Q8_TILE_LANES = 256;
export const Q8_TILE_ELEMENTS = Q8_TILE_LANES * 16;

/** The update pass's tile for a block size: its lanes (TILE_LANES), vec4s per lane (LANE_VECTORS) and elements. */
export interface Q8TileShape {
  readonly lanes: number;
  readonly laneVectors: number;
  readonly elements: number;
}

/** The fewest lanes of an update tile (blocks up to 8 × this many elements share that tile). */
export const Q8_MIN_TILE_LANES = 128;

/**
 * The smallest tile that holds a block, with two vec4s per lane, and at least Q8_MIN_TILE_LANES
 * lanes; blocks of 4096 take 256 lanes of 4 vec4s. Small tiles wait less at their barrier and two
 * vec4s per lane hide more memory latency than four: on an H100, Adam's 16M-element step took
 * 0.752× the f32 step with 128 lanes of 2, 0.780× with 64 of 2, 0.796× with 256 of 2, 0.82×
 * with 256 of 4 (bench/RESULTS.notes.md; timed on zero gradients, so without the encoding).
 */
export function q8TileShape(blockSize: number): Q8TileShape {
  const laneVectors = blockSize > Q8_TILE_LANES * 8 ? 4 : 2;
  const lanes = Math.min(Q8_TILE_LANES, Math.max(Q8_MIN_TILE_LANES, blockSize / (4 * laneVectors)));
  return { lanes, laneVectors, elements: lanes * 4 * laneVectors };
}

export const DEFAULT_QUANTIZATION: Quantization = { blockSize: 256, minQuantizedElements: 4096 };

/**
 * stateFormat 'q4': blocks of 128 as torchao's 4-bit optimizers. Its lanes pack the codes of their
 * two vec4s into one u32 (shaders/q4.wgsl), so its blocks stop at 2048 (tiles of two vec4s per lane).
 */
export const DEFAULT_Q4_QUANTIZATION: Quantization = { blockSize: 128, minQuantizedElements: 4096, codeBits: 4 };
const Q4_MAX_BLOCK = Q8_TILE_ELEMENTS / 2;

/** The largest block of a format, and so its largest tile (where a pass quantizes whole tensors: LAMB's moments). */
export const maxBlockSize = (codeBits: CodeBits): number => (codeBits === 4 ? Q4_MAX_BLOCK : Q8_TILE_ELEMENTS);

/**
 * Checks `quantization` (naming it and the value); only stateFormat 'q8' and 'q4' take it.
 * `codeBits`: the format's (undefined: neither, and `value` must be absent).
 */
export function resolveQuantization(value: unknown, codeBits: CodeBits | undefined, what: string): Quantization | undefined {
  const defaults = codeBits === 4 ? DEFAULT_Q4_QUANTIZATION : DEFAULT_QUANTIZATION;
  if (value === undefined) return codeBits ? defaults : undefined;
  if (!codeBits) throw new Error(`webgpu-optim: ${what}: quantization applies to stateFormat 'q8' or 'q4' only`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`webgpu-optim: ${what}: quantization must be an object, got ${describeValue(value)}`);
  for (const key of Object.keys(value)) {
    if (key !== 'blockSize' && key !== 'minQuantizedElements') throw new Error(`webgpu-optim: ${what}: unknown quantization option "${key}"; known: blockSize, minQuantizedElements`);
  }
  const { blockSize = defaults.blockSize, minQuantizedElements = defaults.minQuantizedElements } = value as QuantizationOptions;
  const maxBlock = maxBlockSize(codeBits);
  if (!Number.isInteger(blockSize) || blockSize < CHUNK_ELEMENTS || blockSize > maxBlock || (blockSize & (blockSize - 1)) !== 0) {
    const format = codeBits === 4 ? "stateFormat 'q4': " : '';
    throw new RangeError(`webgpu-optim: ${what}: ${format}quantization.blockSize must be a power of two in [${CHUNK_ELEMENTS}, ${maxBlock}], got ${describeValue(blockSize)}`);
  }
  if (!Number.isSafeInteger(minQuantizedElements) || minQuantizedElements < 0) {
    throw new RangeError(`webgpu-optim: ${what}: quantization.minQuantizedElements must be an integer ≥ 0, got ${describeValue(minQuantizedElements)}`);
  }
  return codeBits === 4 ? { blockSize, minQuantizedElements, codeBits } : { blockSize, minQuantizedElements };
}

/** Whether two quantizations store the same form (a dict of one loads bit for bit into the other). */
export function sameQuantization(a: Quantization | undefined, b: Quantization | undefined): boolean {
  return a !== undefined && b !== undefined && a.blockSize === b.blockSize && a.minQuantizedElements === b.minQuantizedElements && codeBitsOf(a) === codeBitsOf(b);
}

/**
 * The dynamic map (bitsandbytes' `create_dynamic_map(signed, max_exponent_bits=7, total_bits=8)`):
 * for exponents 10⁻⁶ … 10⁰, the midpoints of a linear grid on [0.1, 1] with 2^i (signed, both
 * signs) or 2^(i+1) (unsigned) intervals, then 0 and 1; 256 values, sorted. Computed in float64
 * and rounded once to f32 (bitsandbytes builds them through f32 linspace: a last bit may differ).
 */
export function dynamicMap(signed: boolean): Float32Array {
  const values: number[] = [];
  for (let i = 0; i < 7; i++) {
    const intervals = signed ? 2 ** i : 2 ** (i + 1);
    for (let k = 0; k < intervals; k++) {
      const mid = 0.1 + (0.9 * (k + 0.5)) / intervals;
      values.push(10 ** (i - 6) * mid);
      if (signed) values.push(-(10 ** (i - 6)) * mid);
    }
  }
  values.push(0, 1);
  return Float32Array.from(values.sort((a, b) => a - b));
}

/** The signed map (moments of either sign) and the unsigned one (second moments and other non-negative state). */
export const Q8_MAPS = { signed: dynamicMap(true), unsigned: dynamicMap(false) } as const;

/**
 * torchao's 4-bit maps (torchao/optim/quant_utils.py and subclass_4bit.py, pytorch/ao @ 36027d82):
 * signed, `create_dynamic_map(signed=True, max_exponent_bits=3, total_bits=4)`: for exponents
 * 10⁻² … 10⁰ the midpoints of a linear grid on [0.1, 1] with 2^i intervals, both signs, then 0 and
 * 1 (±0.0055, ±0.0325, ±0.0775, ±0.2125 … ±0.8875, 0, 1); unsigned, `linspace(0, 1, 17)[1:]`, the
 * sixteenths 1/16 … 1, with no 0 (an element of 0 in a block of larger values stores 1/16 of the
 * absmax). torchao builds the signed map through f32 `torch.linspace` and means, which puts 4 of
 * its values one unit in the last place from the float64 midpoints rounded once: the values here
 * are torchao's f32 bits (tests/unit/q4.test.ts checks them against the map computed by torch).
 */
const TORCHAO_SIGNED_4BIT_MAP_BITS = [
  -1084017869, -1087792742, -1092616192, -1101424231, -1113671598, -1123737927, -1145816744, 0, 1001666904, 1023745721, 1033812050, 1046059417, 1054867456, 1059690906, 1063465779, 1065353216,
];

export function dynamicMap4(signed: boolean): Float32Array {
  if (!signed) return Float32Array.from({ length: 16 }, (_, k) => (k + 1) / 16);
  return new Float32Array(Int32Array.from(TORCHAO_SIGNED_4BIT_MAP_BITS).buffer);
}

/** The maps of stateFormat 'q4' (16 values each). */
export const Q4_MAPS = { signed: dynamicMap4(true), unsigned: dynamicMap4(false) } as const;

/** The maps of a quantization's format. */
export const mapsOf = (q: Quantization): typeof Q8_MAPS => (codeBitsOf(q) === 4 ? Q4_MAPS : Q8_MAPS);

/**
 * torchao's least scale (`amax.clip(1e-12)`), as f32: a run of 'q4' state stores at least this
 * absmax, so a run of zeros divides by it (NaN stays NaN).
 */
export const Q4_ABSMAX_FLOOR = fr(1e-12);

type SlotKind = { readonly alwaysF32?: boolean; readonly squared?: boolean; readonly nonNegative?: boolean };

/** Whether a slot is quantized under 'q8' (slots that are always f32 are not). */
export const isQuantizedSlot = (slot: SlotKind): boolean => slot.alwaysF32 !== true;

/** The map of a slot: unsigned for second moments and other non-negative state. */
export const mapOf = (slot: SlotKind): 'signed' | 'unsigned' => (slot.squared || slot.nonNegative ? 'unsigned' : 'signed');

/** Both maps as the kernel's uniform: 64 vec4 of the signed map, then 64 of the unsigned one (the q4 maps take 4 of each). */
export function mapsUniform(maps: typeof Q8_MAPS = Q8_MAPS): Float32Array<ArrayBuffer> {
  const out = new Float32Array(512);
  out.set(maps.signed, 0);
  out.set(maps.unsigned, 256);
  return out;
}

/** Index of the largest map value ≤ n (0 when n is below them all); the kernel walks to the same index from a guess. */
function floorCode(map: Float32Array, n: number): number {
  let lo = 0;
  let hi = 255;
  for (let step = 0; step < 8; step++) {
    if (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (map[mid]! <= n) lo = mid;
      else hi = mid - 1;
    }
  }
  return lo;
}

const zeroCodes = new WeakMap<Float32Array, number>();
/** The index of 0 in a map. */
export function zeroCode(map: Float32Array): number {
  let code = zeroCodes.get(map);
  if (code === undefined) zeroCodes.set(map, (code = map.indexOf(0)));
  return code;
}

/**
 * The code of x in a block of this absmax: the nearest map value to x / absmax (ties: the lower);
 * 0's code in a block of absmax 0 or NaN.
 */
export function encodeQ8(map: Float32Array, x: number, absmax: number): number {
  if (map.length === 16) return encodeQ4(map, x, absmax);
  if (!(absmax > 0)) return zeroCode(map);
  // ±Inf in a block of absmax Inf: the code of ±1 (the ends of the map).
  const n = Number.isFinite(x) ? fr(x / absmax) : Math.sign(x);
  const k = floorCode(map, n);
  if (k < 255 && fr(map[k + 1]! - n) < fr(n - map[k]!)) return k + 1;
  return k;
}

/**
 * The code of x under a 4-bit map, as torchao's `quantize_4bit_with_qmap` finds it: a branchless
 * binary search for the largest map value ≤ x / absmax (index 0 when below them all or NaN), then
 * up one when the rest is at least half the gap (ties: the upper). ±Inf take the ends of the map.
 */
export function encodeQ4(map: Float32Array, x: number, absmax: number): number {
  const n = Number.isFinite(x) || Number.isNaN(x) ? fr(x / absmax) : Math.sign(x);
  let k = n >= map[8]! ? 8 : 0;
  for (const step of [4, 2, 1]) if (n >= map[k + step]!) k += step;
  const up = Math.min(k + 1, 15);
  return fr(n - map[k]!) >= fr(fr(map[up]! - map[k]!) * 0.5) ? up : k;
}

/** The value a code stands for: NaN in a block of NaN absmax, 0 for the map's 0, else map·absmax. */
export function decodeQ8(map: Float32Array, code: number, absmax: number): number {
  if (Number.isNaN(absmax)) return NaN;
  const m = map[code]!;
  return m === 0 ? 0 : fr(m * absmax);
}

/** NaN-propagating max of |x| (the block reduction; its order cannot change the result). */
export function maxAbs(a: number, x: number): number {
  return Number.isNaN(a) || Number.isNaN(x) ? NaN : Math.max(a, Math.abs(x));
}

/**
 * Where the state of a packed layout lives: which chunks are quantized (their tensor has at least
 * `minQuantizedElements` elements; padding chunks count as quantized, with no elements) and, for
 * the others, their place among the side (f32) chunks.
 */
export interface Q8Chunks {
  /** Per chunk: elements of its tensor in it when quantized, or −1 − (index among side chunks). */
  readonly kind: Int32Array;
  /** Per chunk: its run (block ∩ tensor) when it is quantized and holds elements, else −1. */
  readonly run: Int32Array;
  readonly sideChunks: number;
  readonly runs: number;
}

/** Whether a tensor of this length keeps 8-bit state (else f32 side values). */
export const isQuantizedTensor = (length: number, quantization: Quantization): boolean => length >= quantization.minQuantizedElements;

/** Where tensors sit in the packed buffers (a PackedLayout, or the twin's own placement). */
export interface Placement {
  readonly tensors: readonly { readonly offset: number; readonly length: number }[];
  readonly paddedLength: number;
}

export function q8Chunks(layout: Placement, quantization: Quantization): Q8Chunks {
  const chunks = layout.paddedLength / CHUNK_ELEMENTS;
  const kind = new Int32Array(chunks); // padding: quantized, 0 elements
  const run = new Int32Array(chunks).fill(-1);
  const chunksPerBlock = quantization.blockSize / CHUNK_ELEMENTS;
  let side = 0;
  let runs = 0;
  for (const t of layout.tensors) {
    const first = t.offset / CHUNK_ELEMENTS;
    const count = Math.ceil(t.length / CHUNK_ELEMENTS);
    const quantized = isQuantizedTensor(t.length, quantization);
    for (let c = 0; c < count; c++) {
      kind[first + c] = quantized ? Math.min(CHUNK_ELEMENTS, t.length - c * CHUNK_ELEMENTS) : -1 - side++;
      // A new run at the tensor's first chunk and at every block boundary.
      if (quantized) run[first + c] = c === 0 || (first + c) % chunksPerBlock === 0 ? runs++ : runs - 1;
    }
  }
  return { kind, run, sideChunks: side, runs };
}

/** The stored form of one slot over the whole packed layout. */
export interface Q8Packed {
  /** One code per element (padding included). */
  readonly codes: Uint8Array;
  /** One absmax per run. */
  readonly absmax: Float32Array;
  /** f32 values of the side chunks, 64 per chunk in side order. */
  readonly side: Float32Array;
}

/** Quantizes packed f32 values (as the GPU stores them after a step). */
export function quantizePacked(values: Float32Array, chunks: Q8Chunks, map: Float32Array): Q8Packed {
  const packed = { codes: new Uint8Array(values.length), absmax: new Float32Array(chunks.runs), side: new Float32Array(chunks.sideChunks * CHUNK_ELEMENTS) };
  quantizeInto(packed, values, 0, chunks, map);
  return packed;
}

/**
 * Quantizes `values`, the packed elements from `offset` on (whole runs: all of the packed buffers,
 * or one tensor), into `into`: their runs' absmax, their codes or side values.
 */
export function quantizeInto(into: Q8Packed, values: Float32Array, offset: number, chunks: Q8Chunks, map: Float32Array): void {
  const { codes, absmax, side } = into as { codes: Uint8Array; absmax: Float32Array; side: Float32Array };
  const end = offset + values.length;
  const kindOf = (e: number) => chunks.kind[Math.floor(e / CHUNK_ELEMENTS)]!;
  const runOf = (e: number) => chunks.run[Math.floor(e / CHUNK_ELEMENTS)]!;
  for (let e = offset; e < end; e++) if (runOf(e) >= 0) absmax[runOf(e)] = 0;
  for (let e = offset; e < end; e++) {
    if (runOf(e) >= 0 && e % CHUNK_ELEMENTS < kindOf(e)) absmax[runOf(e)] = maxAbs(absmax[runOf(e)]!, values[e - offset]!);
  }
  // 'q4': torchao's least scale (an integer max on the bits in the kernel: NaN stays NaN).
  if (map.length === 16) for (let e = offset; e < end; e++) if (runOf(e) >= 0) absmax[runOf(e)] = maxAbs(absmax[runOf(e)]!, Q4_ABSMAX_FLOOR);
  for (let e = offset; e < end; e++) {
    const kind = kindOf(e);
    if (kind < 0) side[(-1 - kind) * CHUNK_ELEMENTS + (e % CHUNK_ELEMENTS)] = values[e - offset]!;
    else if (runOf(e) >= 0) codes[e] = encodeQ8(map, values[e - offset]!, absmax[runOf(e)]!);
  }
}

/** The f32 values a stored slot loads as (what the kernel's loads give; 0 in padding-only chunks). */
export function dequantizePacked(stored: Q8Packed, chunks: Q8Chunks, map: Float32Array): Float32Array {
  const out = new Float32Array(stored.codes.length);
  dequantizeInto(out, stored, 0, chunks, map);
  return out;
}

/** The values the packed elements from `offset` on load as, into `out` (the inverse of quantizeInto). */
export function dequantizeInto(out: Float32Array, stored: Q8Packed, offset: number, chunks: Q8Chunks, map: Float32Array): void {
  for (let e = offset; e < offset + out.length; e++) {
    const c = Math.floor(e / CHUNK_ELEMENTS);
    const kind = chunks.kind[c]!;
    if (kind < 0) out[e - offset] = stored.side[(-1 - kind) * CHUNK_ELEMENTS + (e % CHUNK_ELEMENTS)]!;
    else out[e - offset] = chunks.run[c]! >= 0 ? decodeQ8(map, stored.codes[e]!, stored.absmax[chunks.run[c]!]!) : 0;
  }
}

/** The runs of a tensor: one per block it touches (the absmax entries its state dict slot holds). */
export function tensorRuns(t: { offset: number; length: number }, blockSize: number): number {
  return t.length === 0 ? 0 : Math.floor((t.offset + t.length - 1) / blockSize) - Math.floor(t.offset / blockSize) + 1;
}

/** Element e of a tensor at packed `offset` is in its run `runOfElement(offset, e, blockSize)`. */
export const runOfElement = (offset: number, e: number, blockSize: number): number => Math.floor((offset + e) / blockSize) - Math.floor(offset / blockSize);

/** Tensor t's stored slot: its codes and the absmax of its runs, or its side values (f32). */
export function readTensor(stored: Q8Packed, t: { offset: number; length: number }, quantized: boolean, chunks: Q8Chunks, blockSize: number, codeBits: CodeBits = 8): Q8Slot | Float32Array {
  if (!quantized) {
    if (t.length === 0) return new Float32Array(0);
    const side = -1 - chunks.kind[t.offset / CHUNK_ELEMENTS]!;
    return stored.side.slice(side * CHUNK_ELEMENTS, side * CHUNK_ELEMENTS + t.length);
  }
  const firstRun = t.length === 0 ? 0 : chunks.run[t.offset / CHUNK_ELEMENTS]!;
  const codes = stored.codes.subarray(t.offset, t.offset + t.length);
  return { codes: codeBits === 4 ? packCodes4(codes) : codes.slice(), absmax: stored.absmax.slice(firstRun, firstRun + tensorRuns(t, blockSize)) };
}

/** Bytes of a tensor's codes in a dict: one per element (q8), or one per two (q4). */
export const codeBytes = (length: number, codeBits: CodeBits): number => (codeBits === 4 ? Math.ceil(length / 2) : length);

/** 4-bit codes two per byte as torchao packs them (`codes[::2] << 4 | codes[1::2]`; an odd last code in the high half). */
export function packCodes4(codes: Uint8Array): Uint8Array {
  const out = new Uint8Array(codeBytes(codes.length, 4));
  for (let e = 0; e < codes.length; e++) out[e >> 1]! |= (codes[e]! & 15) << (e & 1 ? 0 : 4);
  return out;
}

/** The codes of `length` elements from torchao's packing (the inverse of packCodes4). */
export function unpackCodes4(bytes: Uint8Array, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, e) => (bytes[e >> 1]! >> (e & 1 ? 0 : 4)) & 15);
}

/** Writes tensor t's stored slot into the packed stored form (the inverse of readTensor). */
export function writeTensor(packed: Q8Packed, value: Q8Slot | Float32Array | undefined, t: { offset: number; length: number }, chunks: Q8Chunks, codeBits: CodeBits = 8): void {
  if (!value || t.length === 0) return;
  if (value instanceof Float32Array) {
    const side = -1 - chunks.kind[t.offset / CHUNK_ELEMENTS]!;
    (packed.side as Float32Array).set(value, side * CHUNK_ELEMENTS);
    return;
  }
  (packed.codes as Uint8Array).set(codeBits === 4 ? unpackCodes4(value.codes, t.length) : value.codes, t.offset);
  (packed.absmax as Float32Array).set(value.absmax, chunks.run[t.offset / CHUNK_ELEMENTS]!);
}

/** A tensor's 8-bit (or, with a 16-value map, 4-bit) slot of `length` elements as f32 values (the tensor at packed `offset`: its runs follow the blocks). */
export function decodeQ8Slot(slot: Q8Slot, map: Float32Array, offset: number, blockSize: number, length = slot.codes.length): Float32Array {
  const codes = map.length === 16 ? unpackCodes4(slot.codes, length) : slot.codes;
  return Float32Array.from(codes, (code, e) => decodeQ8(map, code, slot.absmax[runOfElement(offset, e, blockSize)]!));
}
