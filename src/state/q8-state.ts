/**
 * 8-bit block-wise state on the GPU (stateFormat 'q8'): one buffer per slot, laid out by segment
 * regions (q8-regions.ts), and the chunk table and the maps uniform the kernel binds. Pure layout
 * and quantization are src/state/q8.ts.
 */
import type { ResolvedConfig } from '../core/config.js';
import { CHUNK_ELEMENTS, type PackedLayout, type Segment } from '../core/layout.js';
import type { SlotSpec } from '../core/definition.js';
import { codeBitsOf, isQuantizedSlot, isQuantizedTensor, mapOf, mapsOf, mapsUniform, q8Chunks, quantizePacked, readTensor, writeTensor, type Q8Slot, type Quantization } from './q8.js';
import { readBuffers } from '../core/readback.js';
import { chunkTable, q8BufferLayout } from './q8-regions.js';
import { slotResources, type StateBuffers, type StoredValue } from './state-buffers.js';

export interface Q8StateBuffers extends StateBuffers {
  /** The kernel's `q8Chunks` binding of segment s, and its `q8Maps`. */
  chunkRange(s: number): GPUBufferBinding;
  readonly maps: GPUBufferBinding;
  /** Writes the stored form itself (codes, absmax, side values): loads a q8 dict bit for bit. */
  writeStored(stored: (tensorIndex: number, slot: string) => Q8Slot | Float32Array | undefined): void;
}

/** A buffer holding `data` from the start (the chunk table, the maps). */
function uploaded(device: GPUDevice, label: string, data: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>, usage: number): GPUBuffer {
  const buffer = device.createBuffer({ label, size: data.byteLength, usage: usage | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/** One slot's buffer of `words` u32 / f32 words. */
function slotBuffer(device: GPUDevice, label: string, words: number): GPUBuffer {
  return device.createBuffer({ label, size: words * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
}

/** The kernel's binding range of a slot over a segment, and of the chunk table. */
function q8Ranges(
  layout: PackedLayout,
  buffers: Record<string, GPUBuffer>,
  quantized: ReadonlyMap<string, boolean>,
  words: { range(segment: number): { offset: number; size: number } },
  table: { buffer: GPUBuffer; ranges: readonly { offset: number; size: number }[] },
) {
  return {
    range(slot: string, segment: Segment): GPUBufferBinding {
      if (!quantized.get(slot)) return { buffer: buffers[slot]!, offset: segment.firstElement * 4, size: segment.elementCount * 4 };
      return { buffer: buffers[slot]!, ...words.range(layout.segments.indexOf(segment)) };
    },
    chunkRange: (s: number): GPUBufferBinding => ({ buffer: table.buffer, ...table.ranges[s]! }),
  };
}

/**
 * Writes every slot's initial value. 'q4' state that starts at 0 everywhere starts as torchao's
 * (and the twin's, src/reference/q8-twin.ts): codes and scales 0, the buffers as created (WebGPU
 * zeroes them), which load as ±0 until stored; quantized here, every run would take the least
 * scale and the unsigned map's 1/16 of it.
 */
function writeInitial(
  config: ResolvedConfig<any>,
  args: { layout: PackedLayout; slots: readonly SlotSpec[]; quantized: ReadonlyMap<string, boolean>; codeBits: number; writeSlot: (slot: string, values: (tensorIndex: number) => Float32Array | undefined) => void },
): void {
  const { layout, slots, quantized } = args;
  const initial = (i: number, slot: string) => config.definition.initialValue(slot, config.groups[config.tensorGroup[i]!]);
  const zeroStart = args.codeBits === 4 && slots.every((slot) => !quantized.get(slot.name) || layout.tensors.every((_, i) => initial(i, slot.name) === 0));
  for (const slot of slots) {
    if (zeroStart && quantized.get(slot.name)) continue;
    args.writeSlot(slot.name, (i) => (initial(i, slot.name) === 0 ? undefined : new Float32Array(layout.tensors[i]!.length).fill(initial(i, slot.name))));
  }
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
  const codeBits = codeBitsOf(quantization);
  const chunks = q8Chunks(layout, quantization);
  const words = q8BufferLayout(layout, chunks, codeBits);
  const quantized = new Map(slots.map((slot) => [slot.name, isQuantizedSlot(slot)]));
  const buffers = Object.fromEntries(
    slots.map((slot) => [slot.name, slotBuffer(device, `${label}:${slot.name}${quantized.get(slot.name) ? `:q${codeBits}` : ''}`, quantized.get(slot.name) ? words.totalWords : layout.paddedLength)]),
  );
  const tableWords = chunkTable(layout, chunks, args.tensorGroup, words.regions, blockSize);
  const table = uploaded(device, `${label}:q8Chunks`, tableWords.words, GPUBufferUsage.STORAGE);
  const maps = uploaded(device, `${label}:q8Maps`, mapsUniform(mapsOf(quantization)), GPUBufferUsage.UNIFORM);
  const mapOfSlot = new Map(slots.map((slot) => [slot.name, mapsOf(quantization)[mapOf(slot)]]));
  const emptyPacked = () => ({ codes: new Uint8Array(layout.paddedLength), absmax: new Float32Array(chunks.runs), side: new Float32Array(chunks.sideChunks * CHUNK_ELEMENTS) });

  /** Writes one slot from f32 values per tensor (quantized here when the slot is). */
  const writeSlot = (slot: string, values: (tensorIndex: number) => Float32Array | undefined) => {
    const packed = new Float32Array(layout.paddedLength);
    layout.tensors.forEach((t, i) => {
      const v = values(i);
      if (v) packed.set(v, t.offset);
    });
    if (!quantized.get(slot)) device.queue.writeBuffer(buffers[slot]!, 0, packed);
    else device.queue.writeBuffer(buffers[slot]!, 0, words.toWords(quantizePacked(packed, chunks, mapOfSlot.get(slot)!)));
  };
  const write: StateBuffers['write'] = (values) => {
    for (const slot of slots) writeSlot(slot.name, (i) => values(i, slot.name));
  };
  const { range, chunkRange } = q8Ranges(layout, buffers, quantized, words, { buffer: table, ranges: tableWords.ranges });
  return {
    buffers: Object.freeze(buffers),
    byteLength: Object.values(buffers).reduce((n, b) => n + b.size, 0),
    allocatedBytes: Object.values(buffers).reduce((n, b) => n + b.size, table.size + maps.size),
    writeInitial: (config: ResolvedConfig<any>) => writeInitial(config, { layout, slots, quantized, codeBits, writeSlot }),
    write,
    writeStored(stored) {
      for (const slot of slots) {
        if (!quantized.get(slot.name)) {
          writeSlot(slot.name, (i) => stored(i, slot.name) as Float32Array | undefined);
          continue;
        }
        const packed = emptyPacked();
        layout.tensors.forEach((t, i) => writeTensor(packed, stored(i, slot.name), t, chunks, codeBits));
        device.queue.writeBuffer(buffers[slot.name]!, 0, words.toWords(packed));
      }
    },
    async read() {
      const raw = await readBuffers(device, slots.map((slot) => ({ buffer: buffers[slot.name]!, byteLength: buffers[slot.name]!.size })), `${label}:state`);
      const packed = new Map(slots.map((slot, k) => [slot.name, quantized.get(slot.name) ? words.fromWords(new Uint32Array(raw[k]!.buffer)) : raw[k]!]));
      return (i: number, slot: string): StoredValue => {
        const t = layout.tensors[i]!;
        const value = packed.get(slot)!;
        return value instanceof Float32Array ? value.slice(t.offset, t.offset + t.length) : readTensor(value, t, isQuantizedTensor(t.length, quantization), chunks, blockSize, codeBits);
      };
    },
    range,
    chunkRange,
    maps: { buffer: maps },
    resources: { ...slotResources(slots, layout, range), q8Chunks: chunkRange, q8Maps: () => ({ buffer: maps }) },
    destroy() {
      for (const buffer of [...Object.values(buffers), table, maps]) buffer.destroy();
    },
  };
}
