/** Gradient accumulation: a packed buffer that sums the micro-batches' gradients between updates. */
import type { PackedLayout } from '../core/layout.js';
import { readBuffers } from '../core/readback.js';
import { cached } from '../core/pipeline-cache.js';
import { bindGroupEntries, bindingDeclarations, createListedPipeline, numberBindings, type ListedPipeline } from '../core/binding-list.js';
import accumulateWgsl from '../../shaders/accumulate.wgsl?raw';

/** The accumulate kernel's bindings (one segment of each buffer). */
const ACCUMULATE_BINDINGS = numberBindings([
  { name: 'accumulated', declaration: 'var<storage, read_write> accumulated: array<vec4<f32>>', type: 'storage' },
  { name: 'grad', declaration: 'var<storage, read> grad: array<vec4<f32>>', type: 'read-only-storage' },
] as const);

/** The accumulate kernel's WGSL: its generated bindings, then shaders/accumulate.wgsl. */
export function accumulateSource(): string {
  return `// Bindings, generated from their list in src/control/accumulator.ts:\n${bindingDeclarations(ACCUMULATE_BINDINGS)}\n${accumulateWgsl}`;
}

export interface Accumulator {
  readonly buffer: GPUBuffer;
  /** The gradients it adds (the parameter set's gradient buffer). */
  readonly gradBuffer: GPUBuffer;
  /** acc += grad, recorded into `encoder`. */
  record(encoder: GPUCommandEncoder): void;
  /** acc = 0, recorded into `encoder` (after the update read it). */
  clear(encoder: GPUCommandEncoder): void;
  /** Replaces the contents (packed), e.g. from a state dict. */
  write(packed: Float32Array<ArrayBuffer>): void;
  read(): Promise<Float32Array>;
  destroy(): void;
}

export function createAccumulator(args: { device: GPUDevice; label: string; layout: PackedLayout; gradBuffer: GPUBuffer; workgroupSize: number }): Accumulator {
  const { device, label, layout, gradBuffer } = args;
  const byteLength = layout.paddedLength * 4;
  const buffer = device.createBuffer({ label: `${label}:accumulatedGrads`, size: byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  const pipeline = getAccumulatePipeline(device, args.workgroupSize);
  const bindGroups = layout.segments.map((segment, s) =>
    device.createBindGroup({
      label: `${label}:accumulate:segment${s}`,
      layout: pipeline.bindGroupLayout,
      entries: bindGroupEntries(ACCUMULATE_BINDINGS, {
        accumulated: { buffer, offset: segment.firstElement * 4, size: segment.elementCount * 4 },
        grad: { buffer: gradBuffer, offset: segment.firstElement * 4, size: segment.elementCount * 4 },
      }),
    }),
  );
  return {
    buffer,
    gradBuffer,
    record(encoder) {
      const pass = encoder.beginComputePass({ label: `${label}:accumulate` });
      pass.setPipeline(pipeline.pipeline);
      layout.segments.forEach((segment, s) => {
        pass.setBindGroup(0, bindGroups[s]!);
        pass.dispatchWorkgroups(segment.workgroupsX, segment.workgroupsY);
      });
      pass.end();
    },
    clear: (encoder) => encoder.clearBuffer(buffer),
    write: (packed) => device.queue.writeBuffer(buffer, 0, packed),
    async read() {
      const [packed] = await readBuffers(device, [{ buffer, byteLength }], `${label}:accumulatedGrads`);
      return packed!;
    },
    destroy: () => buffer.destroy(),
  };
}

/** acc += grad. */
function getAccumulatePipeline(device: GPUDevice, workgroupSize: number): ListedPipeline {
  return cached(device, `accumulate@${workgroupSize}`, () => {
    const label = `webgpu-optim:accumulate@${workgroupSize}`;
    const module = device.createShaderModule({ label: `${label}:module`, code: accumulateSource() });
    return createListedPipeline(device, label, ACCUMULATE_BINDINGS, { module, entryPoint: 'main', constants: { WORKGROUP_SIZE: workgroupSize } });
  });
}
