/**
 * The per-tensor step (PyTorch's rule for a parameter whose grad is None): the same update kernel
 * with PER_TENSOR, whose entry point `mainPerTensor` (shaders/per-tensor.wgsl) reads one `Hyper`
 * row per tensor (its own step count; `gradientAbsent` leaves it untouched) through a chunk → tensor
 * table. Made once, at the first step that needs it (a tensor without gradient); a step where every
 * tensor has its gradient and the same step count records the plain kernel, as before. Its ring
 * gives every recorded step its own rows, so several steps in one encoder stay exact.
 */
import { alignUp, CHUNK_ELEMENTS, type PackedLayout } from '../core/layout.js';
import type { OptimizerModules } from './optimizer-modules.js';
import { createStepRecorder, type StepRecorder } from './step-recorder.js';
import { checkStorageBuffers, createUpdateKernel, type UpdateKernel } from './update-kernel.js';
import type { KernelVariant } from './kernel-variant.js';

export interface PerTensorStep {
  readonly recorder: StepRecorder;
  /** Host staging for one ring slot's rows. */
  readonly staging: Float32Array<ArrayBuffer>;
  /** Bytes of its buffers: the ring (as it grows) and the chunk → tensor table. */
  readonly allocatedBytes: number;
  destroy(): void;
}

/** Each 64-element chunk's tensor index, as the per-tensor kernel's `chunkRow` binding reads it. */
function createChunkRowTable(device: GPUDevice, label: string, layout: PackedLayout): GPUBuffer {
  const table = new Uint32Array(alignUp(layout.paddedLength / CHUNK_ELEMENTS, 64));
  layout.tensors.forEach((t, i) => {
    const first = t.offset / CHUNK_ELEMENTS;
    table.fill(i, first, first + Math.ceil(t.length / CHUNK_ELEMENTS));
  });
  const buffer = device.createBuffer({ label: `${label}:chunkRows`, size: table.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, table);
  return buffer;
}

/**
 * The per-tensor variant of an update kernel: PER_TENSOR on, entry point `mainPerTensor`. Its rows
 * are per tensor, so it needs no chunk → group table (MULTI_GROUP off: one binding fewer).
 */
export function perTensorVariant(variant: KernelVariant): KernelVariant {
  return { ...variant, flags: { ...variant.flags, MULTI_GROUP: false, PER_TENSOR: true }, entryPoint: 'mainPerTensor' };
}

export function createPerTensorStep(args: { device: GPUDevice; label: string; kernel: UpdateKernel; modules: OptimizerModules; workgroupSize: number; stepsInFlight: number }): PerTensorStep {
  const { device, kernel, modules } = args;
  const { layout } = kernel;
  const label = `${args.label}:perTensor`;
  const variant = perTensorVariant(kernel.variant);
  // Refused before anything is made or recorded (the step throws and counts nothing).
  checkStorageBuffers(variant, device.limits);
  const perTensorKernel = createUpdateKernel(device, layout, variant, args.workgroupSize);
  const table = createChunkRowTable(device, label, layout);
  const chunkRow = (s: number) => {
    const segment = layout.segments[s]!;
    return { buffer: table, offset: (segment.firstElement / CHUNK_ELEMENTS) * 4, size: (segment.elementCount / CHUNK_ELEMENTS) * 4 };
  };
  const recorder = createStepRecorder({
    device,
    label,
    kernel: perTensorKernel,
    modules: { ...modules, resources: { ...modules.resources, chunkRow } },
    groups: layout.tensors.length,
    stepsInFlight: args.stepsInFlight,
    extraFields: 1,
  });
  return {
    recorder,
    staging: new Float32Array(recorder.slotWords),
    get allocatedBytes() {
      return recorder.ring.allocatedBytes + table.size;
    },
    destroy() {
      recorder.ring.destroy();
      table.destroy();
    },
  };
}
