/**
 * Gradient accumulation under PyTorch's step rule (src/front/window-presence.ts): the accumulate
 * kernel's variant that adds only the tensors a micro-batch marks, reading each chunk's tensor from
 * the per-tensor step's chunk → tensor table and the marks from a slot of a ring (one u32 per tensor,
 * at a dynamic offset: every micro-batch recorded before a submit has its own). The plain kernel
 * (accumulator.ts) and its WGSL are unchanged: a micro-batch that marks every tensor runs it.
 */
import { alignUp, CHUNK_ELEMENTS, type PackedLayout } from '../core/layout.js';
import { cached } from '../core/pipeline-cache.js';
import { bindGroupEntries, bindingDeclarations, createListedPipeline, numberBindings, type ListedPipeline } from '../core/binding-list.js';
import type { Accumulator } from './accumulator.js';
import accumulatePerTensorWgsl from '../../shaders/accumulate-per-tensor.wgsl?raw';

const PER_TENSOR_ACCUMULATE_BINDINGS = numberBindings([
  { name: 'accumulated', declaration: 'var<storage, read_write> accumulated: array<vec4<f32>>', type: 'storage' },
  { name: 'grad', declaration: 'var<storage, read> grad: array<vec4<f32>>', type: 'read-only-storage' },
  { name: 'chunkRow', declaration: 'var<storage, read> chunkRow: array<u32>', type: 'read-only-storage' },
  { name: 'marks', declaration: 'var<storage, read> marks: array<u32>', type: 'read-only-storage', dynamic: true },
] as const);

/** The per-tensor accumulate kernel's WGSL: its generated bindings, then shaders/accumulate-per-tensor.wgsl. */
export function perTensorAccumulateSource(): string {
  return `// Bindings, generated from their list in src/control/per-tensor-accumulation.ts:\n${bindingDeclarations(PER_TENSOR_ACCUMULATE_BINDINGS)}\n${accumulatePerTensorWgsl}`;
}

export interface PerTensorAccumulation {
  /** Bytes of one slot of marks (one u32 per tensor, aligned for a dynamic offset). */
  readonly slotBytes: number;
  /** The bind group of each segment over a ring buffer of marks. */
  bindGroups(marks: GPUBuffer): GPUBindGroup[];
  /** This call's marks as a slot's words (1: the tensor was written), in a staging array it reuses. */
  marks(present: readonly boolean[]): Uint32Array<ArrayBuffer>;
  /** acc += grad over the marked tensors, recorded into `encoder`, the marks at `offset` of the ring's buffer. */
  record(encoder: GPUCommandEncoder, bindGroups: readonly GPUBindGroup[], offset: number): void;
}

export function createPerTensorAccumulation(args: { device: GPUDevice; label: string; layout: PackedLayout; accumulator: Accumulator; chunkRows: GPUBuffer; workgroupSize: number }): PerTensorAccumulation {
  const { device, label, layout, accumulator, chunkRows } = args;
  const pipeline = getPerTensorAccumulatePipeline(device, args.workgroupSize);
  const tensors = layout.tensors.length;
  const slotBytes = alignUp(tensors * 4, Math.max(256, device.limits.minStorageBufferOffsetAlignment));
  const staging = new Uint32Array(slotBytes / 4);
  const range = (buffer: GPUBuffer, s: number, elementBytes: number, per: number) => {
    const segment = layout.segments[s]!;
    return { buffer, offset: (segment.firstElement / per) * elementBytes, size: (segment.elementCount / per) * elementBytes };
  };
  return {
    slotBytes,
    bindGroups: (marks) =>
      layout.segments.map((_, s) =>
        device.createBindGroup({
          label: `${label}:accumulate:segment${s}`,
          layout: pipeline.bindGroupLayout,
          entries: bindGroupEntries(PER_TENSOR_ACCUMULATE_BINDINGS, {
            accumulated: range(accumulator.buffer, s, 4, 1),
            grad: range(accumulator.gradBuffer, s, 4, 1),
            chunkRow: range(chunkRows, s, 4, CHUNK_ELEMENTS),
            marks: { buffer: marks, offset: 0, size: slotBytes },
          }),
        }),
      ),
    marks(present) {
      present.forEach((p, i) => (staging[i] = p ? 1 : 0));
      return staging;
    },
    record(encoder, bindGroups, offset) {
      const pass = encoder.beginComputePass({ label: `${label}:accumulate` });
      pass.setPipeline(pipeline.pipeline);
      layout.segments.forEach((segment, s) => {
        pass.setBindGroup(0, bindGroups[s]!, [offset]);
        pass.dispatchWorkgroups(segment.workgroupsX, segment.workgroupsY);
      });
      pass.end();
    },
  };
}

/** acc += grad where the chunk's tensor is marked. */
function getPerTensorAccumulatePipeline(device: GPUDevice, workgroupSize: number): ListedPipeline {
  return cached(device, `accumulatePerTensor@${workgroupSize}`, () => {
    const label = `webgpu-optim:accumulatePerTensor@${workgroupSize}`;
    const module = device.createShaderModule({ label: `${label}:module`, code: perTensorAccumulateSource() });
    return createListedPipeline(device, label, PER_TENSOR_ACCUMULATE_BINDINGS, { module, entryPoint: 'main', constants: { WORKGROUP_SIZE: workgroupSize } });
  });
}
