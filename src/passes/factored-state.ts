/**
 * The factored state (Adafactor) as a pass: one buffer with every tensor's row and column factors in
 * per-tensor regions (then the passes' scratch), its table, and the dispatches recorded before the
 * per-tensor sums (factorSums per segment, then factorUpdate and rowMeans, entry points of the
 * optimizer's own WGSL). The layout and the table are src/passes/factored.ts; everything is made at
 * creation, a step only records dispatches.
 */
import { factoredLayout, factoredSlots, factoringOf, factorTableBytes, type FactoredLayout } from './factored.js';
import { alignUp, CHUNK_ELEMENTS, dispatchGrid, type PackedLayout } from '../core/layout.js';
import { elementCount } from '../core/tensors.js';
import { readBuffers } from '../core/readback.js';
import type { PassContext, PassDeclaration, PassState, StepPass } from '../core/passes.js';

/** Invocations per workgroup of the factor passes (FACTOR_WORKGROUP in adafactor.wgsl). */
const FACTOR_WORKGROUP = 64;

/**
 * The factor table holds rows per row and per column of each matrix: bounded by the binding limit
 * tensor by tensor, then in total, with the factored state, from the shapes alone (building the
 * table first could exhaust the host). Run before the optimizer allocates anything.
 */
export function checkFactoredSizes(what: string, layout: PackedLayout, limit: number): void {
  let total = 0;
  let stateElements = 0;
  let scratchElements = 0;
  for (const t of layout.tensors) {
    const bytes = factorTableBytes(t.shape);
    total += bytes;
    for (const slot of factoredSlots(t.shape)) stateElements += alignUp(elementCount(slot.shape), CHUNK_ELEMENTS);
    const { factored, batches: B, rows: R, cols: C } = factoringOf(t.shape);
    if (factored) scratchElements += B * (R + C) + B;
    if (bytes > limit) {
      throw new RangeError(
        `webgpu-optim: ${what}: tensor "${t.name}" of shape [${t.shape.join(', ')}] needs a factor table of ${bytes} bytes (32 per row and per column, 16 per matrix), ` +
          `over the device's maxStorageBufferBindingSize (${limit})`,
      );
    }
  }
  // The buffer holds the state, then the scratch: an accumulator per row and column, a mean per matrix.
  const bufferBytes = (Math.max(CHUNK_ELEMENTS, stateElements) + scratchElements) * 4;
  if (bufferBytes > limit) throw new RangeError(`webgpu-optim: ${what}: the factored state of this set needs ${bufferBytes} bytes, over the device's maxStorageBufferBindingSize (${limit}); split the model into several parameter sets`);
  if (total > limit) throw new RangeError(`webgpu-optim: ${what}: the factor table of this set needs ${total} bytes, over the device's maxStorageBufferBindingSize (${limit}); split the model into several parameter sets`);
}

/** The factored state's buffers: the state (then scratch) and its table, both bound by the kernel. */
function createFactorBuffers(device: GPUDevice, label: string, factored: FactoredLayout): { buffer: GPUBuffer; table: GPUBuffer } {
  const limit = device.limits.maxStorageBufferBindingSize;
  for (const [what, bytes] of [['factored state', factored.bufferLength * 4], ['factor table', factored.table.byteLength]] as const) {
    if (bytes > limit) throw new RangeError(`webgpu-optim: the ${what} needs ${bytes} bytes in one binding, over the device's maxStorageBufferBindingSize (${limit}); split the model into several parameter sets`);
  }
  const buffer = device.createBuffer({ label: `${label}:factors`, size: factored.bufferLength * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const table = device.createBuffer({ label: `${label}:factorTable`, size: factored.table.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(table, 0, factored.table);
  return { buffer, table };
}

/** Reading and writing the factors of every tensor (state dicts). */
function factorState(device: GPUDevice, label: string, buffer: GPUBuffer, factored: FactoredLayout): PassState {
  const names = new Set(factored.regions.flat().map((r) => r.name));
  return {
    byteLength: factored.stateLength * 4,
    holds: (slot) => names.has(slot),
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
  };
}

/**
 * The per-tensor build (PyTorch's step rule): the plain build's factors buffer, and a table of its
 * own whose entries and batches name their tensor where the plain one names the group (the same
 * layout: factoredLayout with each tensor its own group), so the same WGSL reads each tensor's
 * own row (its step count; `gradientAbsent` keeps factorUpdate off its row_var and col_var).
 */
function perTensorFactorBuffers(device: GPUDevice, label: string, factored: FactoredLayout, plain: StepPass): { buffer: GPUBuffer; table: GPUBuffer } {
  const table = device.createBuffer({ label: `${label}:factorTable`, size: factored.table.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(table, 0, factored.table);
  return { buffer: plain.resources.factors!(0).buffer, table };
}

function createFactoredState(context: PassContext): StepPass {
  const { device, label, layout, plain } = context;
  const factored = factoredLayout(layout, plain ? layout.tensors.map((_, i) => i) : context.tensorGroup);
  const { buffer, table } = plain ? perTensorFactorBuffers(device, label, factored, plain) : createFactorBuffers(device, label, factored);
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const entriesGrid = dispatchGrid(Math.ceil(factored.entries / FACTOR_WORKGROUP), maxDim, `the factor passes over ${factored.entries} rows and columns`);
  const batchesGrid = dispatchGrid(Math.ceil(factored.batches / FACTOR_WORKGROUP), maxDim, `the row means of ${factored.batches} matrices`);
  const [factorSums, factorUpdate, rowMeans] = (['factorSums', 'factorUpdate', 'rowMeans'] as const).map((entryPoint) => context.kernelPipeline(entryPoint));
  return {
    resources: { factors: () => ({ buffer }), factorTable: () => ({ buffer: table }) },
    // The plain build holds the state (the per-tensor one shares its buffer).
    state: plain ? undefined : factorState(device, label, buffer, factored),
    record(pass, bindGroup) {
      if (factored.entries === 0) return;
      pass.setPipeline(factorSums!);
      layout.segments.forEach((_, s) => {
        pass.setBindGroup(0, ...bindGroup(s));
        pass.dispatchWorkgroups(...entriesGrid);
      });
      pass.setBindGroup(0, ...bindGroup(0));
      pass.setPipeline(factorUpdate!);
      pass.dispatchWorkgroups(...entriesGrid);
      pass.setPipeline(rowMeans!);
      pass.dispatchWorkgroups(...batchesGrid);
    },
    allocatedBytes: (plain ? 0 : buffer.size) + table.size,
    destroy() {
      if (!plain) buffer.destroy();
      table.destroy();
    },
  };
}

/**
 * Factored second moments (Adafactor): the kernel binds `factors` (the state in per-tensor regions,
 * then scratch) and `factorTable` (src/passes/factored.ts), under the FACTORED flag.
 */
export const factoredStatePass: PassDeclaration = {
  name: 'factoredState',
  flags: { FACTORED: true },
  bindings: [
    { name: 'factors', declaration: 'var<storage, read_write> factors: array<f32>', type: 'storage' },
    { name: 'factorTable', declaration: 'var<storage, read> factorTable: array<vec4<u32>>', type: 'read-only-storage' },
  ],
  check: (what, layout, limits) => checkFactoredSizes(what, layout, limits.maxStorageBufferBindingSize),
  create: createFactoredState,
  // A tensor without gradient keeps its factors: factorUpdate skips its entries under PER_TENSOR
  // (adafactor.wgsl); factorSums and rowMeans write only scratch.
  perTensor: true,
};
