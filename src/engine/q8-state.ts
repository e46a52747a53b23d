/**
 * 8-bit block-wise state on the GPU (stateFormat 'q8'): one buffer per slot holding, per segment,
 * the codes (one u32 per vec4), one absmax per block and the side (f32) values of the tensors
 * under minQuantizedElements; the chunk table and the maps uniform the kernel binds. Pure layout
 * and quantization are src/q8.ts.
 */
import type { ResolvedConfig } from '../config.js';
import { alignUp, CHUNK_ELEMENTS, type PackedLayout, type Segment } from '../layout.js';
import type { SlotSpec } from '../optimizers/definition.js';
import { isQuantizedSlot, isQuantizedTensor, mapOf, mapsUniform, Q8_MAPS, q8Chunks, quantizePacked, readTensor, writeTensor, type Q8Chunks, type Q8Packed, type Quantization } from '../q8.js';
import { readBuffers } from '../readback.js';
import type { Q8Slot } from '../state-dict.js';
import type { StateBuffers, StoredValue } from './state-buffers.js';

/** Words of u32 between region starts (256 bytes, the largest storage offset alignment). */
const REGION_ALIGN_WORDS = 64;

interface Region {
  readonly firstWord: number;
  readonly words: number;
  /** Side chunks and runs before this segment's. */
  readonly firstSide: number;
  readonly sideChunks: number;
  readonly firstRun: number;
  readonly runs: number;
}

/** Each segment's region of a slot buffer: codes, one absmax per run, side values. */
function regions(layout: PackedLayout, chunks: Q8Chunks): Region[] {
  let firstWord = 0;
  let firstSide = 0;
  let firstRun = 0;
  return layout.segments.map((segment) => {
    const first = segment.firstElement / CHUNK_ELEMENTS;
    let sideChunks = 0;
    let runs = 0;
    for (let c = first; c < first + segment.elementCount / CHUNK_ELEMENTS; c++) {
      if (chunks.kind[c]! < 0) sideChunks++;
      if (chunks.run[c]! >= 0) runs = chunks.run[c]! - firstRun + 1;
    }
    const words = segment.elementCount / 4 + runs + sideChunks * CHUNK_ELEMENTS;
    const region = { firstWord, words, firstSide, sideChunks, firstRun, runs };
    firstWord += alignUp(words, REGION_ALIGN_WORDS);
    firstSide += sideChunks;
    firstRun += runs;
    return region;
  });
}

/**
 * Per chunk (group, 0x80000000 | its elements when quantized, else its side vec4 index in its
 * segment, its run in its segment or 0xffffffff, the segment's number of runs).
 */
function chunkTable(layout: PackedLayout, chunks: Q8Chunks, tensorGroup: readonly number[], segmentRegions: readonly Region[]): Uint32Array<ArrayBuffer> {
  const table = new Uint32Array(chunks.kind.length * 4);
  layout.tensors.forEach((t, i) => {
    for (let c = t.offset / CHUNK_ELEMENTS; c < (t.offset + t.length) / CHUNK_ELEMENTS; c++) table[c * 4] = tensorGroup[i] ?? 0;
  });
  layout.segments.forEach((segment, s) => {
    const region = segmentRegions[s]!;
    const first = segment.firstElement / CHUNK_ELEMENTS;
    for (let c = first; c < first + segment.elementCount / CHUNK_ELEMENTS; c++) {
      const kind = chunks.kind[c]!;
      table[c * 4 + 1] = kind < 0 ? (-1 - kind - region.firstSide) * (CHUNK_ELEMENTS / 4) : 0x80000000 | kind;
      table[c * 4 + 2] = chunks.run[c]! < 0 ? 0xffffffff : chunks.run[c]! - region.firstRun;
      table[c * 4 + 3] = region.runs;
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
  // Side values take 4 bytes where the parameters' codes take 1: a segment of small tensors can
  // need more than the parameters' binding. Refused here, before any buffer exists.
  const largest = Math.max(...segmentRegions.map((r) => alignUp(r.words, 4) * 4));
  if (largest > device.limits.maxStorageBufferBindingSize) {
    throw new RangeError(
      `webgpu-optim: q8 state needs a ${largest}-byte binding for one segment (codes, absmax and the f32 state of tensors under ` +
        `minQuantizedElements), over the device's maxStorageBufferBindingSize (${device.limits.maxStorageBufferBindingSize}); ` +
        'lower limits.maxStorageBufferBindingSize in createParameterSet to make segments smaller, or lower minQuantizedElements',
    );
  }
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
      bytes.set(stored.codes.subarray(segment.firstElement, segment.firstElement + segment.elementCount), region.firstWord * 4);
      const absmaxAt = region.firstWord + segment.elementCount / 4;
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
      codes.set(bytes.subarray(region.firstWord * 4, region.firstWord * 4 + segment.elementCount), segment.firstElement);
      const absmaxAt = region.firstWord + segment.elementCount / 4;
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
