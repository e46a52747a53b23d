/**
 * The 8-bit kernel's chunk table by pieces (src/state/q8-regions.ts, segmentTable): read chunk by
 * chunk as shaders/q8.wgsl reads it (q8PieceOf, q8ChunkEntry, in u32 arithmetic), every chunk of
 * every segment gives the entry a per-chunk table held (group; quantized | index among the chunks
 * with codes << 7 | elements, or its side word; run in the segment; the first absmax's word) and
 * whether a run starts there, derived here straight from q8Chunks. Layouts: side and quantized
 * tensors, tensors over granule, block and segment boundaries, empty tensors, several groups.
 */
import { describe, expect, test } from 'vitest';
import { CHUNK_ELEMENTS, computeLayout, type PackedLayout } from '../../src/core/layout.js';
import { q8Chunks, type Quantization } from '../../src/state/q8.js';
import { chunkTable, q8BufferLayout, Q8_GRANULE_CHUNKS, Q8_PIECE_WORDS, Q8_TABLE_HEADER_WORDS } from '../../src/state/q8-regions.js';

const u32 = (x: number) => x >>> 0;

/** shaders/q8.wgsl's q8PieceOf and q8ChunkEntry over one segment's words. */
function kernelEntry(t: Uint32Array, chunk: number): { entry: number[]; runStarts: boolean } {
  const firstPiece = t[2]!;
  const pieces = t[3]!;
  let p = t[Q8_TABLE_HEADER_WORDS + Math.floor(chunk / Q8_GRANULE_CHUNKS)]!;
  while (p + 1 < pieces && t[firstPiece + (p + 1) * Q8_PIECE_WORDS]! <= chunk) p++;
  const at = firstPiece + p * Q8_PIECE_WORDS;
  const [first, group, end, base, firstRun] = [t[at]!, t[at + 1]!, t[at + 2]!, t[at + 3]!, t[at + 4]!];
  const chunksPerBlock = t[1]!;
  const start = chunk * 64;
  const elements = end > start ? Math.min(64, end - start) : 0;
  const kind = (base & 0x80000000) !== 0 ? u32(0x80000000 | (((base & 0xffffff) + chunk - first) << 7) | elements) : u32(base + (chunk - first) * 64);
  const run = firstRun === 0xffffffff ? 0xffffffff : u32(firstRun + Math.floor(chunk / chunksPerBlock) - Math.floor(first / chunksPerBlock));
  return { entry: [group, kind, run, t[0]!], runStarts: chunk === first || chunk % chunksPerBlock === 0 };
}

/** What a per-chunk table held, from q8Chunks and the regions alone. */
function expectedEntries(layout: PackedLayout, quantization: Quantization, tensorGroup: number[]) {
  const chunks = q8Chunks(layout, quantization);
  const { regions } = q8BufferLayout(layout, chunks);
  const groupOf = new Int32Array(chunks.kind.length);
  layout.tensors.forEach((t, i) => groupOf.fill(tensorGroup[i]!, t.offset / CHUNK_ELEMENTS, Math.ceil((t.offset + t.length) / CHUNK_ELEMENTS)));
  return layout.segments.map((segment, s) => {
    const region = regions[s]!;
    const first = segment.firstElement / CHUNK_ELEMENTS;
    const out: { entry: number[]; runStarts: boolean }[] = [];
    let codeChunk = 0;
    for (let c = first; c < first + segment.elementCount / CHUNK_ELEMENTS; c++) {
      const kind = chunks.kind[c]!;
      const run = chunks.run[c]!;
      const codes = run < 0 ? 0 : codeChunk++;
      const word = kind < 0 ? region.codeWords + region.runs + (-1 - kind - region.firstSide) * CHUNK_ELEMENTS : u32(0x80000000 | (codes << 7) | kind);
      out.push({ entry: [groupOf[c]!, word, run < 0 ? 0xffffffff : run - region.firstRun, region.codeWords], runStarts: c === first || chunks.run[c - 1] !== run });
    }
    return out;
  });
}

/** Only quantized chunks with a run read their codes' place and run (others: side word, or nothing). */
const relevant = ({ entry, runStarts }: { entry: number[]; runStarts: boolean }) => {
  const quantized = (entry[1]! & 0x80000000) !== 0;
  const hasRun = entry[2] !== 0xffffffff;
  return { group: entry[0], kind: quantized && !hasRun ? 'padding' : entry[1], run: entry[2], absmaxBase: entry[3], runStarts: quantized && hasRun ? runStarts : undefined };
};

const CASES = [
  { what: 'one segment, side and quantized tensors, several groups', sizes: [5000, 100, 64, 1, 70000, 0, 4096, 3000, 129], bindingBytes: 128 << 20, blockSize: 256, min: 4096 },
  { what: 'split into segments of 12 288 elements, tensors across them, blocks of 2048', sizes: [30000, 100, 9000, 4096, 65, 20000], bindingBytes: 12288 * 4, blockSize: 2048, min: 1000 },
  { what: 'every tensor quantized, blocks of 64, segments of 4096', sizes: [1, 63, 64, 65, 127, 5000, 4099, 1000], bindingBytes: 4096 * 4, blockSize: 64, min: 0 },
  { what: 'a thousand small tensors (pieces many per granule), all kept f32', sizes: Array.from({ length: 1000 }, (_, i) => 1 + ((i * 37) % 200)), bindingBytes: 128 << 20, blockSize: 4096, min: 4096 },
  { what: 'only empty tensors', sizes: [0, 0], bindingBytes: 128 << 20, blockSize: 256, min: 0 },
];

describe('q8 chunk table by pieces', () => {
  test.each(CASES)('$what: every chunk reads the entry a per-chunk table held', ({ sizes, bindingBytes, blockSize, min }) => {
    const layout = computeLayout(sizes.map((length, i) => ({ name: `t${i}`, length })), { maxStorageBufferBindingSize: bindingBytes, maxComputeWorkgroupsPerDimension: 65535, maxBufferSize: 256 << 20 }, 256);
    const quantization = { blockSize, minQuantizedElements: min };
    const tensorGroup = sizes.map((_, i) => i % 3);
    const chunks = q8Chunks(layout, quantization);
    const words = q8BufferLayout(layout, chunks);
    const { words: table, ranges } = chunkTable(layout, chunks, tensorGroup, words.regions, blockSize);
    const expected = expectedEntries(layout, quantization, tensorGroup);
    let pieces = 0;
    layout.segments.forEach((segment, s) => {
      const { offset, size } = ranges[s]!;
      expect(offset % 256).toBe(0);
      const t = table.subarray(offset / 4, (offset + size) / 4);
      pieces += t[3]!;
      const got = Array.from({ length: segment.elementCount / CHUNK_ELEMENTS }, (_, c) => relevant(kernelEntry(t, c)));
      expect(got).toEqual(expected[s]!.map(relevant));
    });
    // About 4 bytes per 16 chunks (1024 elements) and 32 per piece, against 16 per chunk before.
    expect(table.byteLength).toBeLessThanOrEqual(layout.segments.length * 256 + (layout.paddedLength / 1024) * 4 + pieces * 32 + 256);
  });
});
