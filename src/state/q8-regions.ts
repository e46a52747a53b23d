/**
 * Where 8-bit state lives in a slot's GPU buffer (stateFormat 'q8'): per segment, a region holding
 * the codes (one u32 per vec4 of the chunks with a run), one absmax per run and the side (f32)
 * values of the tensors under minQuantizedElements; the chunk table that tells the kernel where
 * each chunk's data is; and the conversion between a slot's stored form and the buffer's words.
 */
import { alignUp, CHUNK_ELEMENTS, type PackedLayout, type Segment } from '../core/layout.js';
import type { CodeBits, Q8Chunks, Q8Packed } from './q8.js';

/** Words of u32 between region starts (256 bytes, the largest storage offset alignment). */
const REGION_ALIGN_WORDS = 64;
/** A chunk's 64 codes: four per u32 (8-bit), or eight (4-bit). */
const codeWordsPerChunk = (codeBits: CodeBits): number => (CHUNK_ELEMENTS * codeBits) / 32;

/** Each chunk with a run in order, per segment: its index among them (its codes' place). */
function forEachCodeChunk(segment: Segment, chunks: Q8Chunks, visit: (chunk: number, index: number) => void): void {
  const first = segment.firstElement / CHUNK_ELEMENTS;
  let index = 0;
  for (let c = first; c < first + segment.elementCount / CHUNK_ELEMENTS; c++) if (chunks.run[c]! >= 0) visit(c, index++);
}

export interface Region {
  readonly firstWord: number;
  readonly words: number;
  /** Words of codes: 16 per chunk with a run (padding and side chunks have none). */
  readonly codeWords: number;
  /** Side chunks and runs before this segment's. */
  readonly firstSide: number;
  readonly sideChunks: number;
  readonly firstRun: number;
  readonly runs: number;
}

/** Each segment's region of a slot buffer: codes of the chunks with a run, one absmax per run, side values. */
function regions(layout: PackedLayout, chunks: Q8Chunks, codeBits: CodeBits): Region[] {
  let firstWord = 0;
  let firstSide = 0;
  let firstRun = 0;
  return layout.segments.map((segment) => {
    const first = segment.firstElement / CHUNK_ELEMENTS;
    let sideChunks = 0;
    let runs = 0;
    let codeChunks = 0;
    for (let c = first; c < first + segment.elementCount / CHUNK_ELEMENTS; c++) {
      if (chunks.kind[c]! < 0) sideChunks++;
      if (chunks.run[c]! >= 0) {
        runs = chunks.run[c]! - firstRun + 1;
        codeChunks++;
      }
    }
    // The table holds a chunk's index among them in 24 bits: 2^30 elements, more than a binding holds.
    if (codeChunks > 1 << 24) throw new RangeError(`webgpu-optim: q8 state: a segment of ${segment.elementCount} elements is over the 2^30 the chunk table can index`);
    const codeWords = codeChunks * codeWordsPerChunk(codeBits);
    const words = codeWords + runs + sideChunks * CHUNK_ELEMENTS;
    const region = { firstWord, words, codeWords, firstSide, sideChunks, firstRun, runs };
    firstWord += alignUp(words, REGION_ALIGN_WORDS);
    firstSide += sideChunks;
    firstRun += runs;
    return region;
  });
}

/** Words of a segment table's header: the word of the first absmax, chunks per block, the first piece's word, the pieces. */
export const Q8_TABLE_HEADER_WORDS = 4;
/** Chunks per granule: each granule of a segment names the piece that holds its first chunk. */
export const Q8_GRANULE_CHUNKS = 16;
/** Words of one piece: first chunk, group, end, base, first run (and padding to 8). */
export const Q8_PIECE_WORDS = 8;

/**
 * Each segment's table, what the kernel binds as `q8Chunks` (shaders/q8.wgsl reads it): where a
 * chunk's codes, side values, run and group are. A table per chunk took 16 bytes per 64 elements
 * (0.25 byte per parameter, an eighth of q8 Adam's state); this one describes *pieces*, the
 * maximal spans of chunks of one tensor (or of padding) in the segment, and a chunk finds its piece
 * from its granule's entry (16 chunks) and a short scan: about 4 bytes per 1024 elements.
 *
 * Words, segment-relative: header (Q8_TABLE_HEADER_WORDS), then one word per granule (the index of
 * the piece holding its first chunk), then per piece (Q8_PIECE_WORDS): its first chunk; its group;
 * the end of its tensor's elements in the segment (its first element for padding); its base,
 * 0x80000000 | the index of its first chunk among the segment's chunks with codes when quantized,
 * else the word of its first side value in the segment's region; its first run in the segment, or
 * 0xffffffff when it has none (side values, padding).
 */
export function segmentTable(segment: Segment, chunks: Q8Chunks, chunkTensor: Int32Array, tensorGroup: readonly number[], region: Region, blockSize: number): Uint32Array<ArrayBuffer> {
  const first = segment.firstElement / CHUNK_ELEMENTS;
  const count = segment.elementCount / CHUNK_ELEMENTS;
  const granules = Math.ceil(count / Q8_GRANULE_CHUNKS);
  const pieceStarts: number[] = [];
  for (let c = 0; c < count; c++) if (c === 0 || chunkTensor[first + c] !== chunkTensor[first + c - 1]) pieceStarts.push(c);
  const pieceAt = Q8_TABLE_HEADER_WORDS + granules;
  const table = new Uint32Array(pieceAt + pieceStarts.length * Q8_PIECE_WORDS);
  table.set([region.codeWords, blockSize / CHUNK_ELEMENTS, pieceAt, pieceStarts.length]);
  let piece = 0;
  for (let g = 0; g < granules; g++) {
    while (piece + 1 < pieceStarts.length && pieceStarts[piece + 1]! <= g * Q8_GRANULE_CHUNKS) piece++;
    table[Q8_TABLE_HEADER_WORDS + g] = piece;
  }
  // Chunks with a run have codes, in order (forEachCodeChunk); padding-only chunks have none.
  let codeChunk = 0;
  const sideAt = region.codeWords + region.runs;
  pieceStarts.forEach((start, p) => {
    const end = p + 1 < pieceStarts.length ? pieceStarts[p + 1]! : count;
    const c = first + start;
    const tensor = chunkTensor[c]!;
    const kind = chunks.kind[c]!;
    const run = chunks.run[c]!;
    const elements = kind < 0 ? (end - start) * CHUNK_ELEMENTS : chunkElements(chunks, c, first + end);
    const base = kind < 0 ? sideAt + (-1 - kind - region.firstSide) * CHUNK_ELEMENTS : (0x80000000 | codeChunk) >>> 0;
    table.set([start, tensor < 0 ? 0 : (tensorGroup[tensor] ?? 0), start * CHUNK_ELEMENTS + elements, base, run < 0 ? 0xffffffff : run - region.firstRun], pieceAt + p * Q8_PIECE_WORDS);
    for (let k = start; k < end; k++) if (chunks.run[first + k]! >= 0) codeChunk++;
  });
  return table;
}

/** Elements of the chunks [c, end) of one quantized piece (its last chunk may be partly padding). */
function chunkElements(chunks: Q8Chunks, c: number, end: number): number {
  let n = 0;
  for (let k = c; k < end; k++) n += chunks.kind[k]!;
  return n;
}

/** Per chunk of the packed layout: its tensor, or −1 for padding. */
export function chunkTensors(layout: PackedLayout): Int32Array {
  const owner = new Int32Array(layout.paddedLength / CHUNK_ELEMENTS).fill(-1);
  layout.tensors.forEach((t, i) => owner.fill(i, t.offset / CHUNK_ELEMENTS, (t.offset + t.length + CHUNK_ELEMENTS - 1) / CHUNK_ELEMENTS));
  return owner;
}

/** Every segment's table in one buffer's words, each starting at a storage offset alignment, and their binding ranges. */
export function chunkTable(layout: PackedLayout, chunks: Q8Chunks, tensorGroup: readonly number[], segmentRegions: readonly Region[], blockSize: number): { words: Uint32Array<ArrayBuffer>; ranges: { offset: number; size: number }[] } {
  const owner = chunkTensors(layout);
  const tables = layout.segments.map((segment, s) => segmentTable(segment, chunks, owner, tensorGroup, segmentRegions[s]!, blockSize));
  const ranges: { offset: number; size: number }[] = [];
  let at = 0;
  for (const table of tables) {
    ranges.push({ offset: at * 4, size: table.byteLength });
    at += alignUp(table.length, REGION_ALIGN_WORDS);
  }
  const words = new Uint32Array(Math.max(at, 4));
  tables.forEach((table, s) => words.set(table, ranges[s]!.offset / 4));
  return { words, ranges };
}

/** A slot buffer's regions, its size, and its words to and from the stored form. */
export interface Q8BufferLayout {
  readonly regions: readonly Region[];
  /** Words of one slot buffer: every segment's region, each aligned to REGION_ALIGN_WORDS. */
  readonly totalWords: number;
  /** The stored form of one slot as the buffer's words, segment by segment. */
  toWords(stored: Q8Packed): Uint32Array<ArrayBuffer>;
  /** The stored form of one slot read from the buffer's words. */
  fromWords(words: Uint32Array): Q8Packed;
  /** The binding range of segment s's region. */
  range(s: number): { offset: number; size: number };
}

export function q8BufferLayout(layout: PackedLayout, chunks: Q8Chunks, codeBits: CodeBits = 8): Q8BufferLayout {
  const segmentRegions = regions(layout, chunks, codeBits);
  const chunkWords = codeWordsPerChunk(codeBits);
  // A segment's region is never larger than its parameters' binding (tested): codes take ¼ word
  // per quantized element and absmax at most 1/64, side values 1 word per element.
  const totalWords = segmentRegions.reduce((n, r) => Math.max(n, r.firstWord + alignUp(r.words, REGION_ALIGN_WORDS)), REGION_ALIGN_WORDS);
  return {
    regions: segmentRegions,
    totalWords,
    toWords(stored) {
      const words = new Uint32Array(totalWords);
      const bytes = new Uint8Array(words.buffer);
      const floats = new Float32Array(words.buffer);
      layout.segments.forEach((segment, s) => {
        const region = segmentRegions[s]!;
        forEachCodeChunk(segment, chunks, (c, index) => {
          const codes = stored.codes.subarray(c * CHUNK_ELEMENTS, (c + 1) * CHUNK_ELEMENTS);
          const at = region.firstWord + index * chunkWords;
          if (codeBits === 4) words.set(chunkWords4(codes), at);
          else bytes.set(codes, at * 4);
        });
        const absmaxAt = region.firstWord + region.codeWords;
        floats.set(stored.absmax.subarray(region.firstRun, region.firstRun + region.runs), absmaxAt);
        const sideAt = absmaxAt + region.runs;
        floats.set(stored.side.subarray(region.firstSide * CHUNK_ELEMENTS, (region.firstSide + region.sideChunks) * CHUNK_ELEMENTS), sideAt);
      });
      return words;
    },
    fromWords(words) {
      const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
      const floats = new Float32Array(words.buffer, words.byteOffset, words.length);
      const codes = new Uint8Array(layout.paddedLength);
      const absmax = new Float32Array(chunks.runs);
      const side = new Float32Array(chunks.sideChunks * CHUNK_ELEMENTS);
      layout.segments.forEach((segment, s) => {
        const region = segmentRegions[s]!;
        forEachCodeChunk(segment, chunks, (c, index) => {
          const at = region.firstWord + index * chunkWords;
          if (codeBits === 4) codes.set(chunkCodes4(words.subarray(at, at + chunkWords)), c * CHUNK_ELEMENTS);
          else codes.set(bytes.subarray(at * 4, at * 4 + CHUNK_ELEMENTS), c * CHUNK_ELEMENTS);
        });
        const absmaxAt = region.firstWord + region.codeWords;
        absmax.set(floats.subarray(absmaxAt, absmaxAt + region.runs), region.firstRun);
        const sideAt = absmaxAt + region.runs;
        side.set(floats.subarray(sideAt, sideAt + region.sideChunks * CHUNK_ELEMENTS), region.firstSide * CHUNK_ELEMENTS);
      });
      return { codes, absmax, side };
    },
    range(s) {
      const region = segmentRegions[s]!;
      return { offset: region.firstWord * 4, size: alignUp(region.words, 4) * 4 };
    },
  };
}

/**
 * A chunk's 64 4-bit codes as its 8 words (shaders/q4.wgsl): vec4 j of the chunk (elements 4j …
 * 4j + 3) takes the 16 bits from 16·(j ÷ 8) of word j mod 8, element 4j + e the nibble at 4e in
 * them. A lane of a two-vec4 tile holds vec4s j and j + 8, so each word has one writer.
 */
export function chunkWords4(codes: Uint8Array): Uint32Array {
  const out = new Uint32Array(8);
  for (let e = 0; e < CHUNK_ELEMENTS; e++) {
    const j = e >> 2;
    out[j % 8] = (out[j % 8]! | ((codes[e]! & 15) << (16 * (j >> 3) + 4 * (e & 3)))) >>> 0;
  }
  return out;
}

/** A chunk's 64 codes from its 8 words (the inverse of chunkWords4). */
export function chunkCodes4(words: Uint32Array): Uint8Array {
  return Uint8Array.from({ length: CHUNK_ELEMENTS }, (_, e) => (words[(e >> 2) % 8]! >>> (16 * (e >> 5) + 4 * (e & 3))) & 15);
}
