/** The optimizer's state slots, one GPU buffer each, packed like the parameters. */
import type { ResolvedConfig } from '../config.js';
import type { PackedLayout } from '../layout.js';
import type { SlotSpec } from '../optimizers/definition.js';
import { readBuffers } from '../readback.js';

export interface StateBuffers {
  readonly buffers: Readonly<Record<string, GPUBuffer>>;
  /** Every slot at its initial value (per group, e.g. Adagrad's initial accumulator). */
  writeInitial(config: ResolvedConfig<any>): void;
  /** Writes tensor i's slot values (`values(i, slot)`, undefined: 0). */
  write(values: (tensorIndex: number, slot: string) => Float32Array | undefined): void;
  /** Reads every slot back, packed. */
  read(): Promise<Record<string, Float32Array>>;
  destroy(): void;
}

export function createStateBuffers(args: { device: GPUDevice; label: string; layout: PackedLayout; slots: readonly SlotSpec[] }): StateBuffers {
  const { device, label, layout, slots } = args;
  const byteLength = layout.paddedLength * 4;
  const buffers: Record<string, GPUBuffer> = {};
  for (const slot of slots) {
    buffers[slot.name] = device.createBuffer({
      label: `${label}:${slot.name}`,
      size: byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }
  const write: StateBuffers['write'] = (values) => {
    for (const slot of slots) {
      const packed = new Float32Array(layout.paddedLength);
      layout.tensors.forEach((t, i) => {
        const v = values(i, slot.name);
        if (v) packed.set(v, t.offset);
      });
      device.queue.writeBuffer(buffers[slot.name]!, 0, packed);
    }
  };
  return {
    buffers: Object.freeze(buffers),
    writeInitial(config) {
      write((i, slot) => {
        const value = config.definition.initialValue(slot, config.groups[config.tensorGroup[i]!]);
        return value === 0 ? undefined : new Float32Array(layout.tensors[i]!.length).fill(value);
      });
    },
    write,
    async read() {
      const packed = await readBuffers(device, slots.map((slot) => ({ buffer: buffers[slot.name]!, byteLength })), `${label}:state`);
      return Object.fromEntries(slots.map((slot, k) => [slot.name, packed[k]!]));
    },
    destroy() {
      for (const buffer of Object.values(buffers)) buffer.destroy();
    },
  };
}
