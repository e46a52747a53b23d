/**
 * The GPU side of the factored state (Adafactor): the state buffer in per-tensor regions, its
 * table, and the passes recorded before the per-tensor sums (factorSums per segment, then
 * factorUpdate and rowMeans). The layout and the table are src/passes/factored.ts; everything is made at
 * creation, a step only records dispatches.
 */
import { factoredLayout, factoredSlots, factorTableBytes } from './factored.js';
import { alignUp, CHUNK_ELEMENTS, dispatchGrid, type PackedLayout } from '../core/layout.js';
import { elementCount } from '../core/tensors.js';
import { readBuffers } from '../core/readback.js';

/** Invocations per workgroup of the factor passes (FACTOR_WORKGROUP in adafactor.wgsl). */
const FACTOR_WORKGROUP = 64;

export interface FactoredState {
  readonly buffer: GPUBuffer;
  readonly table: GPUBuffer;
  /** Scratch entries the passes need after `scratchBase` (accumulators, row means). */
  readonly scratchEntries: number;
  record(pass: GPUComputePassEncoder, pipelines: Record<'factorSums' | 'factorUpdate' | 'rowMeans', { readonly pipeline: GPUComputePipeline }>, bindGroup: (s: number) => [GPUBindGroup, number[]]): void;
  /** Tensor i's slots by name (a copy of the GPU's values). */
  read(): Promise<(tensorIndex: number, slot: string) => Float32Array>;
  /** Writes each tensor's slots (`values(i, slot)`, undefined: 0). */
  write(values: (tensorIndex: number, slot: string) => Float32Array | undefined): void;
  destroy(): void;
}

/**
 * The factor table holds rows per row and per column of each matrix: bounded by the binding limit
 * tensor by tensor, then in total, with the factored state, from the shapes alone (building the
 * table first could exhaust the host). The optimizer calls it before it allocates anything.
 */
export function checkFactoredSizes(what: string, layout: PackedLayout, limit: number): void {
  let total = 0;
  let stateElements = 0;
  for (const t of layout.tensors) {
    const bytes = factorTableBytes(t.shape);
    total += bytes;
    for (const slot of factoredSlots(t.shape)) stateElements += alignUp(elementCount(slot.shape), CHUNK_ELEMENTS);
    if (bytes > limit) {
      throw new RangeError(
        `webgpu-optim: ${what}: tensor "${t.name}" of shape [${t.shape.join(', ')}] needs a factor table of ${bytes} bytes (32 per row and per column, 16 per matrix), ` +
          `over the device's maxStorageBufferBindingSize (${limit})`,
      );
    }
  }
  if (stateElements * 4 > limit) throw new RangeError(`webgpu-optim: ${what}: the factored state of this set needs ${stateElements * 4} bytes, over the device's maxStorageBufferBindingSize (${limit}); split the model into several parameter sets`);
  if (total > limit) throw new RangeError(`webgpu-optim: ${what}: the factor table of this set needs ${total} bytes, over the device's maxStorageBufferBindingSize (${limit}); split the model into several parameter sets`);
}

/** The factored state and its table; the caller has run checkFactoredSizes before any allocation. */
export function createFactoredState(args: { device: GPUDevice; label: string; layout: PackedLayout; tensorGroup: readonly number[]; scratchBase: number }): FactoredState {
  const { device, label, layout } = args;
  const limit = device.limits.maxStorageBufferBindingSize;
  const factored = factoredLayout(layout, args.tensorGroup, args.scratchBase);
  for (const [what, bytes] of [['factored state', factored.stateLength * 4], ['factor table', factored.table.byteLength]] as const) {
    if (bytes > limit) throw new RangeError(`webgpu-optim: the ${what} needs ${bytes} bytes in one binding, over the device's maxStorageBufferBindingSize (${limit}); split the model into several parameter sets`);
  }
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const entriesGrid = dispatchGrid(Math.ceil(factored.entries / FACTOR_WORKGROUP), maxDim, `the factor passes over ${factored.entries} rows and columns`);
  const batchesGrid = dispatchGrid(Math.ceil(factored.batches / FACTOR_WORKGROUP), maxDim, `the row means of ${factored.batches} matrices`);
  const buffer = device.createBuffer({ label: `${label}:factors`, size: factored.stateLength * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const table = device.createBuffer({ label: `${label}:factorTable`, size: factored.table.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(table, 0, factored.table);
  return {
    buffer,
    table,
    scratchEntries: factored.entries + factored.batches,
    record(pass, pipelines, bindGroup) {
      if (factored.entries === 0) return;
      pass.setPipeline(pipelines.factorSums.pipeline);
      layout.segments.forEach((_, s) => {
        pass.setBindGroup(0, ...bindGroup(s));
        pass.dispatchWorkgroups(...entriesGrid);
      });
      pass.setBindGroup(0, ...bindGroup(0));
      pass.setPipeline(pipelines.factorUpdate.pipeline);
      pass.dispatchWorkgroups(...entriesGrid);
      pass.setPipeline(pipelines.rowMeans.pipeline);
      pass.dispatchWorkgroups(...batchesGrid);
    },
    async read() {
      const [data] = await readBuffers(device, [{ buffer, byteLength: factored.stateLength * 4 }], `${label}:factors`);
      return (i, slot) => {
        const { offset, length } = factored.regions[i]!.find((r) => r.name === slot)!;
        return data!.slice(offset, offset + length);
      };
    },
    write(values) {
      const packed = new Float32Array(factored.stateLength);
      factored.regions.forEach((regions, i) => {
        for (const { name, offset } of regions) {
          const v = values(i, name);
          if (v) packed.set(v, offset);
        }
      });
      device.queue.writeBuffer(buffer, 0, packed);
    },
    destroy() {
      buffer.destroy();
      table.destroy();
    },
  };
}
