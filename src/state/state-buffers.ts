/** The optimizer's state slots, one GPU buffer each, packed like the parameters, in their state format. */
import type { ResolvedConfig } from '../core/config.js';
import type { PackedLayout, Segment } from '../core/layout.js';
import type { CompactLayout } from '../core/compact-layout.js';
import type { SlotSpec } from '../core/definition.js';
import { readBuffers } from '../core/readback.js';
import type { SegmentResources } from '../core/passes.js';
import { slotBinding } from './state-bindings.js';
import { bufferSlots, sharedNames } from './shared-slots.js';
import type { Q8Slot } from './q8.js';
import { encodeState, slotCodec, slotFormat, stateFormatSpec, type StateFormat } from './state-format.js';

/** A slot's packed contents: f32 values, or the stored bits of a 16-bit format. */
export type StoredSlot = Float32Array | Uint16Array;

/** One tensor's slot as a state dict holds it: f32 values, 16-bit bits, or 8-bit codes and absmax. */
export type StoredValue = Float32Array | Uint16Array | Q8Slot;

export interface StateBuffers {
  readonly buffers: Readonly<Record<string, GPUBuffer>>;
  /** Bytes of all slot buffers together. */
  readonly byteLength: number;
  /** Bytes of every buffer the state holds: its slot buffers and its format's tables (q8's chunk table and maps). */
  readonly allocatedBytes: number;
  /** Every slot at its initial value (per group, e.g. Adagrad's initial accumulator). */
  writeInitial(config: ResolvedConfig<any>): void;
  /** Writes tensor i's slot values (`values(i, slot)`, f32; undefined: 0), rounded to each slot's format. */
  write(values: (tensorIndex: number, slot: string) => Float32Array | undefined): void;
  /** Reads every slot back; the result gives tensor i's slot in its stored form. */
  read(): Promise<(tensorIndex: number, slot: string) => StoredValue>;
  /** The binding range of `slot` over one segment. */
  range(slot: string, segment: Segment): GPUBufferBinding;
  /** The update kernel's bindings of the slots (and of the format's own tables), by binding name. */
  readonly resources: SegmentResources;
  destroy(): void;
}

/** Each buffer's binding over segment s, by binding name (slots stored in another's buffer have none of their own). */
export function slotResources(slots: readonly SlotSpec[], layout: PackedLayout, range: StateBuffers['range']): SegmentResources {
  return Object.fromEntries(bufferSlots(slots).map((slot) => [slotBinding(slot.name), (s: number) => range(slot.name, layout.segments[s]!)]));
}

export function createStateBuffers(args: { device: GPUDevice; label: string; layout: PackedLayout; slots: readonly SlotSpec[]; format: StateFormat; compact?: CompactLayout }): StateBuffers {
  const { device, label, layout, slots, format, compact } = args;
  // A compact slot's buffer packs only its holders (src/core/compact-layout.ts); the others span the set.
  const isCompact = (slot: string) => compact !== undefined && slots.some((s) => s.name === slot && s.compact);
  const lengthOf = (slot: string) => (isCompact(slot) ? compact!.length : layout.paddedLength);
  const startOf = (slot: string, i: number) => (isCompact(slot) ? compact!.base[i] : layout.tensors[i]!.offset);
  const formats = Object.fromEntries(slots.map((slot) => [slot.name, slotFormat(slot, format)]));
  const codecs = Object.fromEntries(slots.map((slot) => [slot.name, slotCodec(slot, format)]));
  const bytesPerElement = (slot: string) => stateFormatSpec(formats[slot]!).bytesPerElement;
  // Slots stored in another's buffer (SlotSpec.storedIn): each buffer's names, and each name's buffer.
  const namesOf = sharedNames(slots);
  const bufferOf = new Map([...namesOf].flatMap(([host, names]) => names.map((n) => [n, host] as const)));
  const buffers: Record<string, GPUBuffer> = {};
  for (const slot of bufferSlots(slots)) {
    buffers[slot.name] = device.createBuffer({
      label: `${label}:${slot.name}${formats[slot.name] === 'f32' ? '' : `:${formats[slot.name]}`}`,
      size: lengthOf(slot.name) * bytesPerElement(slot.name),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }
  const write: StateBuffers['write'] = (values) => {
    for (const slot of bufferSlots(slots)) {
      const packed = new Float32Array(lengthOf(slot.name));
      layout.tensors.forEach((_, i) => {
        // A tensor holds one of the buffer's slots: the first it has values for.
        const v = namesOf.get(slot.name)!.reduce<Float32Array | undefined>((found, name) => found ?? values(i, name), undefined);
        const start = startOf(slot.name, i);
        if (v && start !== undefined) packed.set(v, start);
      });
      const codec = codecs[slot.name];
      if (codec) device.queue.writeBuffer(buffers[slot.name]!, 0, encodeState(codec, packed));
      else device.queue.writeBuffer(buffers[slot.name]!, 0, packed);
    }
  };
  const range: StateBuffers['range'] = (slot, segment) => {
    const bytes = bytesPerElement(slot);
    if (isCompact(slot)) {
      const part = compact!.segments[layout.segments.indexOf(segment)]!;
      return { buffer: buffers[slot]!, offset: part.first * bytes, size: part.count * bytes };
    }
    return { buffer: buffers[bufferOf.get(slot)!]!, offset: segment.firstElement * bytes, size: segment.elementCount * bytes };
  };
  // f32 and 16-bit state has no tables: every buffer it holds is a slot's.
  const byteLength = Object.values(buffers).reduce((n, b) => n + b.size, 0);
  return {
    buffers: Object.freeze(buffers),
    byteLength,
    allocatedBytes: byteLength,
    writeInitial(config) {
      write((i, slot) => {
        const value = config.definition.initialValue(slot, config.groups[config.tensorGroup[i]!]);
        return value === 0 ? undefined : new Float32Array(layout.tensors[i]!.length).fill(value);
      });
    },
    write,
    async read() {
      const own = bufferSlots(slots);
      const raw = await readBuffers(device, own.map((slot) => ({ buffer: buffers[slot.name]!, byteLength: buffers[slot.name]!.size })), `${label}:state`);
      const packed = new Map<string, StoredSlot>(own.map((slot, k) => [slot.name, formats[slot.name] === 'f32' ? raw[k]! : new Uint16Array(raw[k]!.buffer)]));
      return (i, slot) => {
        const t = layout.tensors[i]!;
        const stored = packed.get(bufferOf.get(slot)!)!;
        const start = startOf(slot, i);
        // A tensor that does not hold a compact slot has no values there (state dicts never ask).
        if (start === undefined) return stored.slice(0, 0);
        return stored.slice(start, start + t.length);
      };
    },
    range,
    resources: slotResources(slots, layout, range),
    destroy() {
      for (const buffer of Object.values(buffers)) buffer.destroy();
    },
  };
}
