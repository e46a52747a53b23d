/** The chunk → group table: one u32 per 64 elements, so one dispatch serves every param group. */
import type { ResolvedConfig } from '../core/config.js';
import { alignUp, CHUNK_ELEMENTS, type PackedLayout } from '../core/layout.js';

/** The table's buffer, or undefined when there is one group (the kernel then reads none). */
export function createGroupTable(device: GPUDevice, label: string, layout: PackedLayout, config: ResolvedConfig<any>): GPUBuffer | undefined {
  if (!config.defines.MULTI_GROUP) return undefined;
  const table = new Uint32Array(alignUp(layout.paddedLength / CHUNK_ELEMENTS, 64));
  layout.tensors.forEach((t, i) => {
    const first = t.offset / CHUNK_ELEMENTS;
    table.fill(config.tensorGroup[i]!, first, first + Math.ceil(t.length / CHUNK_ELEMENTS));
  });
  const buffer = device.createBuffer({ label: `${label}:chunkGroups`, size: table.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, table);
  return buffer;
}
