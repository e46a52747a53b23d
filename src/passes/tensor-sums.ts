/**
 * The GPU side of the per-tensor sums of the layer-wise optimizers: the chunk → tensor table and
 * the scratch buffer the kernel binds, and the passes recorded before each update (the kernel's
 * `tensorPartials` per segment, then `tensorSums` over spans of every tensor, and once more over
 * the span sums of the tensors of several spans). Everything is made at creation; a step
 * only records dispatches. The order of the sums and the tables are src/passes/tensor-reduction.ts.
 */
import { CHUNK_ELEMENTS, dispatchGrid, type PackedLayout } from '../core/layout.js';
import { CHUNK_REDUCTIONS, chunkTensorTable, scratchEntries, tensorSumRows, type ChunkReduction } from './tensor-reduction.js';
import { cached } from '../core/pipeline-cache.js';
import type { PassContext, PassDeclaration, StepPass } from '../core/passes.js';
import layerwiseSource from '../../shaders/layerwise.wgsl?raw';
import q8LayerwiseSource from '../../shaders/q8-layerwise.wgsl?raw';
import vectorPartialsSource from '../../shaders/layerwise-vector-partials.wgsl?raw';
import vectorPartialsPerTensorSource from '../../shaders/layerwise-vector-partials-per-tensor.wgsl?raw';
import layerwiseEntryPointsSource from '../../shaders/layerwise-entry-points.wgsl?raw';

/**
 * layerwise.wgsl, then `vectorPartials` (a group's row, or on the per-tensor step the tensor's own,
 * skipping a tensor without gradient), then the partials' entry points: split in three files so the
 * kernels of a plain step are the same text as before the per-tensor step existed.
 */
const layerwiseWgsl = (perTensor: boolean) => [layerwiseSource, perTensor ? vectorPartialsPerTensorSource : vectorPartialsSource, layerwiseEntryPointsSource].join('\n');
import { bindGroupEntries, bindingDeclarations, createBindingLayout, createListedPipeline, numberBindings, type ListedPipeline } from '../core/binding-list.js';
import tensorSumsWgsl from '../../shaders/tensor-sums.wgsl?raw';

/** The tensor-sums kernel's bindings. */
const TENSOR_SUMS_BINDINGS = numberBindings([
  // Per row: (scratch entry of its first input, input count, output entry, 0).
  { name: 'rows', declaration: 'var<storage, read> rows: array<vec4<u32>>', type: 'read-only-storage' },
  { name: 'scratch', declaration: 'var<storage, read_write> scratch: array<vec4<f32>>', type: 'storage' },
] as const);

/** The tensor-sums kernel's WGSL: its generated bindings, then shaders/tensor-sums.wgsl. */
export function tensorSumsSource(): string {
  return `// Bindings, generated from their list in src/passes/tensor-sums.ts:\n${bindingDeclarations(TENSOR_SUMS_BINDINGS)}\n${tensorSumsWgsl}`;
}

export interface TensorSums {
  /** The kernel's `chunkTensor` binding for segment `s` (with the table in the scratch: its `chunkSegment` uniform). */
  chunkTensorRange(s: number): GPUBufferBinding;
  /** The kernel's `tensorScratch` binding (the whole buffer). */
  readonly scratch: GPUBufferBinding & { readonly buffer: GPUBuffer };
  /** Records the partials (with the kernel's bind group of each segment) and the per-tensor sums. */
  record(pass: GPUComputePassEncoder, partials: GPUComputePipeline, bindGroup: (s: number) => [GPUBindGroup, number[]]): void;
  /** Bytes of its buffers (tables and scratch). */
  readonly allocatedBytes: number;
  destroy(): void;
}

/** A read-only storage table, written once. */
function uploadTable(device: GPUDevice, label: string, data: Uint32Array<ArrayBuffer>): GPUBuffer {
  const buffer = device.createBuffer({ label, size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/**
 * The scratch (refused over the binding limit, before anything is made) and the chunk → tensor
 * table: a buffer of its own, or (chunksInScratch) written after the scratch's own entries, with
 * each segment's first chunk there in a uniform (`chunkTensor` is then that uniform).
 */
function createScratchAndTable(args: Parameters<typeof createTensorSums>[0]): { scratch: GPUBuffer; chunkTensor: GPUBuffer } {
  const { device, label, layout } = args;
  const tableEntries = args.chunksInScratch ? chunkTableEntries(layout) : 0;
  const scratchBytes = (scratchEntries(layout) + tableEntries + (args.extraEntries ?? 0)) * 16;
  if (scratchBytes > device.limits.maxStorageBufferBindingSize) {
    throw new RangeError(
      `webgpu-optim: the per-tensor sums of ${layout.tensors.length} tensors need a ${scratchBytes}-byte scratch binding, over the ` +
        `device's maxStorageBufferBindingSize (${device.limits.maxStorageBufferBindingSize}); split the model into several parameter sets`,
    );
  }
  const table = chunkTensorTable(layout, args.tensorGroup);
  const chunkTensor = args.chunksInScratch ? chunkSegmentUniform(device, label, layout) : uploadTable(device, `${label}:chunkTensor`, table);
  // Another build's scratch (its table and tail already written there): bound, not made again.
  if (args.sharedScratch) return { scratch: args.sharedScratch, chunkTensor };
  // State kept in the tail is written at creation and by loads, and read by state dicts.
  const tailUsage = args.extraEntries || args.chunksInScratch ? GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC : 0;
  const scratch = device.createBuffer({ label: `${label}:tensorScratch`, size: scratchBytes, usage: GPUBufferUsage.STORAGE | tailUsage });
  if (args.chunksInScratch) device.queue.writeBuffer(scratch, scratchEntries(layout) * 16, table);
  return { scratch, chunkTensor };
}

function createTensorSums(args: {
  device: GPUDevice;
  label: string;
  layout: PackedLayout;
  tensorGroup: readonly number[];
  reduction: ChunkReduction;
  /** Elements per workgroup of the partials pass when it is not the reduction's (8-bit tiles). */
  partialsElementsPerWorkgroup?: number;
  /** vec4 entries kept after the scratch's own, which the sums never write (Prodigy's scalars). */
  extraEntries?: number;
  /** The chunk → tensor table kept in the scratch instead of a binding of its own (CHUNKS_IN_SCRATCH). */
  chunksInScratch?: boolean;
  /** The scratch of the plain kernel's build, which this (per-tensor) build binds and leaves to it. */
  sharedScratch?: GPUBuffer;
}): TensorSums {
  const { device, label, layout } = args;
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const { scratch, chunkTensor } = createScratchAndTable(args);
  const shape = CHUNK_REDUCTIONS[args.reduction];
  const partialsPerWorkgroup = args.partialsElementsPerWorkgroup ?? shape.elementsPerWorkgroup;
  const partialsGrid = layout.segments.map((segment) => dispatchGrid(Math.ceil(segment.elementCount / partialsPerWorkgroup), maxDim, 'a segment of the per-tensor partials'));
  const tensors = layout.tensors.length;
  const rowTables = tensorSumRows(layout);
  const pipeline = getTensorSumsPipeline(device, shape.sumsEntryPoint);
  // The spans of every tensor, then (when a tensor has several) the tensors over their span sums.
  const passes = (['spans', 'tensors'] as const).flatMap((which) => {
    const table = rowTables[which];
    if (table.length === 0) return [];
    const rows = uploadTable(device, `${label}:tensorSums:${which}`, table);
    const bindGroup = device.createBindGroup({
      label: `${label}:tensorSums:${which}`,
      layout: pipeline.bindGroupLayout,
      entries: bindGroupEntries(TENSOR_SUMS_BINDINGS, { rows: { buffer: rows }, scratch: { buffer: scratch } }),
    });
    const grid = dispatchGrid(Math.ceil(table.length / 4 / shape.rowsPerWorkgroup), maxDim, `the per-tensor sums (${table.length / 4} ${which})`);
    return [{ rows, bindGroup, grid }];
  });
  return {
    chunkTensorRange: (s) => {
      if (args.chunksInScratch) return { buffer: chunkTensor, offset: s * CHUNK_SEGMENT_STRIDE, size: 16 };
      const segment = layout.segments[s]!;
      return { buffer: chunkTensor, offset: (segment.firstElement / CHUNK_ELEMENTS) * 16, size: (segment.elementCount / CHUNK_ELEMENTS) * 16 };
    },
    scratch: { buffer: scratch },
    record(pass, partials, segmentBindGroup) {
      pass.setPipeline(partials);
      partialsGrid.forEach(([x, y], s) => {
        const [group, offsets] = segmentBindGroup(s);
        pass.setBindGroup(0, group, offsets);
        pass.dispatchWorkgroups(x, y);
      });
      if (tensors === 0) return;
      pass.setPipeline(pipeline.pipeline);
      for (const { bindGroup, grid } of passes) {
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(...grid);
      }
    },
    allocatedBytes: passes.reduce((n, { rows }) => n + rows.size, chunkTensor.size + (args.sharedScratch ? 0 : scratch.size)),
    destroy() {
      chunkTensor.destroy();
      for (const { rows } of passes) rows.destroy();
      if (!args.sharedScratch) scratch.destroy();
    },
  };
}

/** vec4 entries of the chunk → tensor table: one per 64-element chunk. */
export const chunkTableEntries = (layout: PackedLayout): number => layout.paddedLength / CHUNK_ELEMENTS;

/** Bytes between the segments' entries of the chunk-segment uniform (a uniform offset alignment). */
const CHUNK_SEGMENT_STRIDE = 256;

/**
 * The uniform of CHUNKS_IN_SCRATCH, one entry per segment: `vec4<u32>(scratch entry of the
 * segment's first chunk in the table, 0, 0, 0)` (the table follows the scratch's own entries).
 */
function chunkSegmentUniform(device: GPUDevice, label: string, layout: PackedLayout): GPUBuffer {
  const buffer = device.createBuffer({ label: `${label}:chunkSegment`, size: layout.segments.length * CHUNK_SEGMENT_STRIDE, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const words = new Uint32Array(buffer.size / 4);
  layout.segments.forEach((segment, s) => (words[(s * CHUNK_SEGMENT_STRIDE) / 4] = scratchEntries(layout) + segment.firstElement / CHUNK_ELEMENTS));
  device.queue.writeBuffer(buffer, 0, words);
  return buffer;
}

/** The per-tensor sums of the layer-wise optimizers (shaders/tensor-sums.wgsl), one entry point. */
function getTensorSumsPipeline(device: GPUDevice, entryPoint: string): ListedPipeline {
  const { module, bindGroupLayout } = cached(device, 'tensorSums', () => ({
    module: device.createShaderModule({ label: 'webgpu-optim:tensorSums:module', code: tensorSumsSource() }),
    bindGroupLayout: createBindingLayout(device, 'webgpu-optim:tensorSums:bgl', TENSOR_SUMS_BINDINGS),
  }));
  return cached(device, `tensorSums:${entryPoint}`, () => createListedPipeline(device, `webgpu-optim:${entryPoint}`, TENSOR_SUMS_BINDINGS, { module, entryPoint }, bindGroupLayout));
}

/**
 * The per-tensor sums' step; `extraEntries` vec4 entries are kept after the scratch's own (and after
 * the chunk table when `chunksInScratch`), which the sums never write (a pass that keeps state
 * there: Prodigy's scalars), and `scratch` is the buffer. `chunksInScratch`: the bindings of
 * tensorSumsInScratch (the table in the scratch, one storage buffer fewer). `sharedScratch`: the
 * per-tensor build of such a pass binds its plain build's scratch (the state in its tail is one).
 */
export function createTensorSumsPass(context: PassContext, extraEntries = 0, chunksInScratch = false, sharedScratch?: GPUBuffer): StepPass & { readonly scratch: GPUBuffer } {
  const reduction = context.chunkReduction as ChunkReduction;
  const sums = createTensorSums({
    extraEntries,
    chunksInScratch,
    sharedScratch,
    device: context.device,
    label: context.label,
    layout: context.layout,
    tensorGroup: context.tensorGroup,
    reduction,
    partialsElementsPerWorkgroup: context.blockwise?.elements,
  });
  // 8-bit state that partials() stores is quantized in the partials pass, by tiles
  // (shaders/q8-layerwise.wgsl); its tile is the largest, so its sums follow tensorPartials' tree order.
  const partials = context.blockwise
    ? context.kernelPipeline('tensorPartialsBlockwise', context.blockwise)
    : context.kernelPipeline(CHUNK_REDUCTIONS[reduction].entryPoint);
  return {
    resources: { [chunksInScratch ? 'chunkSegment' : 'chunkTensor']: (s: number) => sums.chunkTensorRange(s), tensorScratch: () => sums.scratch },
    record: (pass, bindGroup) => sums.record(pass, partials, bindGroup),
    allocatedBytes: sums.allocatedBytes,
    destroy: () => sums.destroy(),
    scratch: sums.scratch.buffer,
  };
}

/**
 * Per-tensor sums (LAMB, LARS, Adafactor): the kernel's `partials(i, h, g, valid)` summed over every
 * tensor before the update, which reads them with `tensorSumsAt(i)` (shaders/layerwise.wgsl), under
 * the LAYERWISE flag.
 */
export const tensorSumsPass: PassDeclaration = {
  name: 'tensorSums',
  flags: { LAYERWISE: true },
  bindings: [
    // Per chunk of the segment (tensor, scratch entry, tensor elements, group), and the scratch of
    // per-tensor sums and chunk partials (src/passes/tensor-reduction.ts).
    { name: 'chunkTensor', declaration: 'var<storage, read> chunkTensor: array<vec4<u32>>', type: 'read-only-storage' },
    { name: 'tensorScratch', declaration: 'var<storage, read_write> tensorScratch: array<vec4<f32>>', type: 'storage' },
  ],
  wgsl: ({ blockwise, perTensor }) => (blockwise ? `${layerwiseWgsl(perTensor)}\n${q8LayerwiseSource}` : layerwiseWgsl(perTensor)),
  check(what, layout, limits) {
    const scratchBytes = scratchEntries(layout) * 16;
    if (scratchBytes > limits.maxStorageBufferBindingSize) {
      throw new RangeError(
        `webgpu-optim: ${what}: the per-tensor sums of ${layout.tensors.length} tensors need a ${scratchBytes}-byte scratch binding, over the ` +
          `device's maxStorageBufferBindingSize (${limits.maxStorageBufferBindingSize}); split the model into several parameter sets`,
      );
    }
  },
  create: createTensorSumsPass,
  perTensor: true,
  perTensorControl: true,
};

/**
 * The kernel flags and bindings of the per-tensor sums with the chunk → tensor table kept in the
 * scratch, after its own entries (flag CHUNKS_IN_SCRATCH; shaders/layerwise.wgsl's chunkInfo), and
 * each segment's first chunk there in a uniform: one storage buffer fewer than tensorSumsPass's two
 * (uniforms are not among the maxStorageBuffersPerShaderStage a device allows). For a pass that
 * builds on the sums with `createTensorSumsPass(context, extra, true)` (Prodigy's).
 */
export const TENSOR_SUMS_IN_SCRATCH = {
  flags: { LAYERWISE: true, CHUNKS_IN_SCRATCH: true },
  bindings: [
    { name: 'chunkSegment', declaration: 'var<uniform> chunkSegment: vec4<u32>', type: 'uniform' },
    { name: 'tensorScratch', declaration: 'var<storage, read_write> tensorScratch: array<vec4<f32>>', type: 'storage' },
  ],
} as const satisfies Pick<PassDeclaration, 'flags' | 'bindings'>;
