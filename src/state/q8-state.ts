/**
 * 8-bit block-wise state on the GPU (stateFormat 'q8'): one buffer per slot holding, per segment,
 * the codes (one u32 per vec4 of the chunks with a run), one absmax per run and the side (f32)
 * values of the tensors under minQuantizedElements; the chunk table and the maps uniform the kernel
 * binds. Pure layout and quantization are src/state/q8.ts.
 */
import type { ResolvedConfig } from '../core/config.js';
import { alignUp, CHUNK_ELEMENTS, type PackedLayout, type Segment } from '../core/layout.js';
import type { SlotSpec } from '../core/definition.js';
import { isQuantizedSlot, isQuantizedTensor, mapOf, mapsUniform, Q8_MAPS, q8Chunks, quantizePacked, readTensor, writeTensor, type Q8Chunks, type Q8Packed, type Q8Slot, type Quantization } from './q8.js';
import { readBuffers } from '../core/readback.js';
import type { StateBuffers, StoredValue } from './state-buffers.js';

/** Words of u32 between region starts (256 bytes, the largest storage offset alignment). */
const REGION_ALIGN_WORDS = 64;
/** A chunk's 64 codes, four per u32. */
const CODE_WORDS_PER_CHUNK = CHUNK_ELEMENTS / 4;

/** Each chunk with a run in order, per segment: its index among them (its codes' place). */
function forEachCodeChunk(segment: Segment, chunks: Q8Chunks, visit: (chunk: number, index: number) => void): void {
  const first = segment.firstElement / CHUNK_ELEMENTS;
  let index = 0;
  for (let c = first; c < first + segment.elementCount / CHUNK_ELEMENTS; c++) if (chunks.run[c]! >= 0) visit(c, index++);
}

interface Region {
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
function regions(layout: PackedLayout, chunks: Q8Chunks): Region[] {
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
    const codeWords = codeChunks * CODE_WORDS_PER_CHUNK;
    const words = codeWords + runs + sideChunks * CHUNK_ELEMENTS;
    const region = { firstWord, words, codeWords, firstSide, sideChunks, firstRun, runs };
    firstWord += alignUp(words, REGION_ALIGN_WORDS);
    firstSide += sideChunks;
    firstRun += runs;
    return region;
  });
}

/**
 * Per chunk (group; 0x80000000 | its index among the segment's chunks with codes << 7 | its
 * elements when quantized, else the word of its first side value in its segment's region; its run
 * in its segment or 0xffffffff; the word of the segment's first absmax, after its codes).
 */
function chunkTable(layout: PackedLayout, chunks: Q8Chunks, tensorGroup: readonly number[], segmentRegions: readonly Region[]): Uint32Array<ArrayBuffer> {
  const table = new Uint32Array(chunks.kind.length * 4);
  layout.tensors.forEach((t, i) => {
    for (let c = t.offset / CHUNK_ELEMENTS; c < (t.offset + t.length) / CHUNK_ELEMENTS; c++) table[c * 4] = tensorGroup[i] ?? 0;
  });
  layout.segments.forEach((segment, s) => {
    const region = segmentRegions[s]!;
    const sideAt = region.codeWords + region.runs;
    const first = segment.firstElement / CHUNK_ELEMENTS;
    let codeChunk = 0;
    for (let c = first; c < first + segment.elementCount / CHUNK_ELEMENTS; c++) {
      const kind = chunks.kind[c]!;
      const run = chunks.run[c]!;
      // Chunks with a run have codes, in order (forEachCodeChunk); padding-only chunks have none.
      const codes = run < 0 ? 0 : codeChunk++;
      table[c * 4 + 1] = kind < 0 ? sideAt + (-1 - kind - region.firstSide) * CHUNK_ELEMENTS : (0x80000000 | (codes << 7) | kind) >>> 0;
      table[c * 4 + 2] = run < 0 ? 0xffffffff : run - region.firstRun;
      table[c * 4 + 3] = region.codeWords;
    }
  });
  return table;
}

export interface Q8StateBuffers extends StateBuffers {
  /** The kernel's `q8Chunks` binding of segment s, and its `q8Maps`. */
  chunkRange(s: number): GPUBufferBinding;
  readonly maps: GPUBufferBinding;
  /** Writes the stored form itself (codes, absmax, side values): loads a q8 dict bit for bit. */
  writeStored(stored: (tensorIndex: number, slot: string) => Q8Slot | Float32Array | undefined): void;
}

export function createQ8StateBuffers(args: {
  device: GPUDevice;
  label: string;
  layout: PackedLayout;
  slots: readonly SlotSpec[];
  quantization: Quantization;
  tensorGroup: readonly number[];
}): Q8StateBuffers {
  const { device, label, layout, slots, quantization } = args;
  const { blockSize } = quantization;
  const chunks = q8Chunks(layout, quantization);
  const segmentRegions = regions(layout, chunks);
  // A segment's region is never larger than its parameters' binding (tested): codes take ¼ word
  // per quantized element and absmax at most 1/64, side values 1 word per element.
  const totalWords = segmentRegions.reduce((n, r) => Math.max(n, r.firstWord + alignUp(r.words, REGION_ALIGN_WORDS)), REGION_ALIGN_WORDS);
  const quantized = new Map(slots.map((slot) => [slot.name, isQuantizedSlot(slot)]));
  const buffers: Record<string, GPUBuffer> = {};
  for (const slot of slots) {
    buffers[slot.name] = device.createBuffer({
      label: `${label}:${slot.name}${quantized.get(slot.name) ? ':q8' : ''}`,
      size: quantized.get(slot.name) ? totalWords * 4 : layout.paddedLength * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }
  const upload = (name: string, data: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>, usage: number) => {
    const buffer = device.createBuffer({ label: `${label}:${name}`, size: data.byteLength, usage: usage | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };
  const table = upload('q8Chunks', chunkTable(layout, chunks, args.tensorGroup, segmentRegions), GPUBufferUsage.STORAGE);
  const maps = upload('q8Maps', mapsUniform(), GPUBufferUsage.UNIFORM);
  const mapOfSlot = new Map(slots.map((slot) => [slot.name, Q8_MAPS[mapOf(slot)]]));

  /** The stored form of one slot as the buffer's words, segment by segment. */
  const toWords = (stored: Q8Packed): Uint32Array<ArrayBuffer> => {
    const words = new Uint32Array(totalWords);
    const bytes = new Uint8Array(words.buffer);
    const floats = new Float32Array(words.buffer);
    layout.segments.forEach((segment, s) => {
      const region = segmentRegions[s]!;
      forEachCodeChunk(segment, chunks, (c, index) =>
        bytes.set(stored.codes.subarray(c * CHUNK_ELEMENTS, (c + 1) * CHUNK_ELEMENTS), (region.firstWord + index * CODE_WORDS_PER_CHUNK) * 4),
      );
      const absmaxAt = region.firstWord + region.codeWords;
      floats.set(stored.absmax.subarray(region.firstRun, region.firstRun + region.runs), absmaxAt);
      const sideAt = absmaxAt + region.runs;
      floats.set(stored.side.subarray(region.firstSide * CHUNK_ELEMENTS, (region.firstSide + region.sideChunks) * CHUNK_ELEMENTS), sideAt);
    });
    return words;
  };
  const fromWords = (words: Uint32Array): Q8Packed => {
    const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
    const floats = new Float32Array(words.buffer, words.byteOffset, words.length);
    const codes = new Uint8Array(layout.paddedLength);
    const absmax = new Float32Array(chunks.runs);
    const side = new Float32Array(chunks.sideChunks * CHUNK_ELEMENTS);
    layout.segments.forEach((segment, s) => {
      const region = segmentRegions[s]!;
      forEachCodeChunk(segment, chunks, (c, index) => {
        const at = (region.firstWord + index * CODE_WORDS_PER_CHUNK) * 4;
        codes.set(bytes.subarray(at, at + CHUNK_ELEMENTS), c * CHUNK_ELEMENTS);
      });
      const absmaxAt = region.firstWord + region.codeWords;
      absmax.set(floats.subarray(absmaxAt, absmaxAt + region.runs), region.firstRun);
      const sideAt = absmaxAt + region.runs;
      side.set(floats.subarray(sideAt, sideAt + region.sideChunks * CHUNK_ELEMENTS), region.firstSide * CHUNK_ELEMENTS);
    });
    return { codes, absmax, side };
  };

  /** Writes one slot from f32 values per tensor (quantized here when the slot is). */
  const writeSlot = (slot: string, values: (tensorIndex: number) => Float32Array | undefined) => {
    const packed = new Float32Array(layout.paddedLength);
    layout.tensors.forEach((t, i) => {
      const v = values(i);
      if (v) packed.set(v, t.offset);
    });
    if (!quantized.get(slot)) device.queue.writeBuffer(buffers[slot]!, 0, packed);
    else device.queue.writeBuffer(buffers[slot]!, 0, toWords(quantizePacked(packed, chunks, mapOfSlot.get(slot)!)));
  };
  const write: StateBuffers['write'] = (values) => {
    for (const slot of slots) writeSlot(slot.name, (i) => values(i, slot.name));
  };
  return {
    buffers: Object.freeze(buffers),
    byteLength: Object.values(buffers).reduce((n, b) => n + b.size, 0),
    writeInitial(config: ResolvedConfig<any>) {
      write((i, slot) => {
        const value = config.definition.initialValue(slot, config.groups[config.tensorGroup[i]!]);
        return value === 0 ? undefined : new Float32Array(layout.tensors[i]!.length).fill(value);
      });
    },
    write,
    writeStored(stored) {
      for (const slot of slots) {
        if (!quantized.get(slot.name)) {
          writeSlot(slot.name, (i) => stored(i, slot.name) as Float32Array | undefined);
          continue;
        }
        const packed = { codes: new Uint8Array(layout.paddedLength), absmax: new Float32Array(chunks.runs), side: new Float32Array(chunks.sideChunks * CHUNK_ELEMENTS) };
        layout.tensors.forEach((t, i) => writeTensor(packed, stored(i, slot.name), t, chunks, blockSize));
        device.queue.writeBuffer(buffers[slot.name]!, 0, toWords(packed));
      }
    },
    async read() {
      const raw = await readBuffers(device, slots.map((slot) => ({ buffer: buffers[slot.name]!, byteLength: buffers[slot.name]!.size })), `${label}:state`);
      const packed = new Map(slots.map((slot, k) => [slot.name, quantized.get(slot.name) ? fromWords(new Uint32Array(raw[k]!.buffer)) : raw[k]!]));
      return (i: number, slot: string): StoredValue => {
        const t = layout.tensors[i]!;
        const value = packed.get(slot)!;
        return value instanceof Float32Array ? value.slice(t.offset, t.offset + t.length) : readTensor(value, t, isQuantizedTensor(t.length, quantization), chunks, blockSize);
      };
    },
    range(slot: string, segment: Segment) {
      if (!quantized.get(slot)) return { buffer: buffers[slot]!, offset: segment.firstElement * 4, size: segment.elementCount * 4 };
      const region = segmentRegions[layout.segments.indexOf(segment)]!;
      return { buffer: buffers[slot]!, offset: region.firstWord * 4, size: alignUp(region.words, 4) * 4 };
    },
    chunkRange(s) {
      const segment = layout.segments[s]!;
      return { buffer: table, offset: (segment.firstElement / CHUNK_ELEMENTS) * 16, size: (segment.elementCount / CHUNK_ELEMENTS) * 16 };
    },
    maps: { buffer: maps },
    destroy() {
      for (const buffer of [...Object.values(buffers), table, maps]) buffer.destroy();
    },
  };
}
