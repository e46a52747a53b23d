/**
 * What one step records, and nothing else: the scalars into a ring slot; each step pass's work
 * before the step (gradient control's statistics); one compute pass with every declared pass
 * (per-tensor sums, factored state…) and the update, each segment with its bind group; each step
 * pass's work after it (the accumulator's clear). Mode switches (Schedule-Free) are
 * one dispatch of the module's `toEval` / `toTrain`. Nothing here creates a GPU object per step
 * (the ring grows only when more steps are in flight than it holds).
 */
import { alignUp } from '../core/layout.js';
import type { KernelBindGroup } from '../core/passes.js';
import { scalarLayout } from '../core/scalars.js';
import { bindGroupEntries } from './bindings.js';
import type { OptimizerModules } from './optimizer-modules.js';
import { createScalarRing, type ScalarRing } from './scalar-ring.js';
import type { UpdateKernel } from './update-kernel.js';

export interface StepRecorder {
  readonly ring: ScalarRing;
  /** f32 words of one ring slot (the packed scalars of every group). */
  readonly slotWords: number;
  /**
   * Records one update into `encoder`; `own`: the encoder is the optimizer's own (submitted at once,
   * so its ring slot is free again when the queue passes it).
   */
  recordUpdate(encoder: GPUCommandEncoder, own: boolean, update: number, scalars: Float32Array<ArrayBuffer>, timestampWrites?: GPUComputePassTimestampWrites): void;
  /** Records the switch to `to` (the module's toEval / toTrain entry point) over every segment. */
  recordSwitch(encoder: GPUCommandEncoder, own: boolean, to: 'train' | 'eval', scalars: Float32Array<ArrayBuffer>): void;
}

export function createStepRecorder(args: {
  device: GPUDevice;
  label: string;
  kernel: UpdateKernel;
  modules: OptimizerModules;
  /** `struct Hyper` rows per ring slot: one per group, or one per tensor on the per-tensor path. */
  groups: number;
  stepsInFlight: number;
  /** f32 fields per row beyond the scalar schema's (the per-tensor path's `gradientAbsent`). */
  extraFields?: number;
  /** Called with each ring buffer as it is made (at creation, and when the ring grows), for bind groups that read it. */
  onRing?: (buffer: GPUBuffer, slotBytes: number) => void;
}): StepRecorder {
  const { device, label, kernel, modules } = args;
  const { layout } = kernel;
  const scalarsPerGroup = scalarLayout(kernel.variant.definition).names.length + (args.extraFields ?? 0);
  const slotBytes = alignUp(args.groups * scalarsPerGroup * 4, Math.max(256, device.limits.minStorageBufferOffsetAlignment));
  const ring = createScalarRing({
    device,
    label,
    slotBytes,
    slots: args.stepsInFlight,
    bindGroups: (ringBuffer) => {
      args.onRing?.(ringBuffer, slotBytes);
      const resources = { ...modules.resources, hyper: () => ({ buffer: ringBuffer, offset: 0, size: slotBytes }) };
      return layout.segments.map((_, s) =>
        device.createBindGroup({ label: `${label}:segment${s}`, layout: kernel.main.bindGroupLayout, entries: bindGroupEntries(kernel.main.bindings, resources, s) }),
      );
    },
  });
  // The mode switches' pipelines (Schedule-Free), made with the optimizer, not at the first switch.
  const modes = kernel.variant.definition.modes && { eval: kernel.entryPoint('toEval').pipeline, train: kernel.entryPoint('toTrain').pipeline };
  /** A ring slot holding `scalars`, and the bind group of each segment at it. */
  const reserve = (encoder: GPUCommandEncoder, own: boolean, scalars: Float32Array<ArrayBuffer>): { bindGroup: KernelBindGroup; slot: { buffer: GPUBuffer; offset: number } } => {
    const slot = ring.reserve(own ? undefined : encoder);
    device.queue.writeBuffer(slot.buffer, slot.offset, scalars);
    return { bindGroup: (s) => [slot.bindGroups[s]!, [slot.offset]], slot };
  };
  return {
    ring,
    slotWords: slotBytes / 4,
    recordUpdate(encoder, own, update, scalars, timestampWrites) {
      const { bindGroup, slot } = reserve(encoder, own, scalars);
      // Gradient control's statistics first, in passes of their own.
      for (const work of modules.steps) work.recordBefore?.(encoder, update, slot);
      const pass = encoder.beginComputePass({ label: `${label}:step`, timestampWrites });
      // The declared passes, in the same compute pass (dispatches see each other's writes).
      for (const work of modules.steps) work.record?.(pass, bindGroup);
      pass.setPipeline(kernel.main.pipeline);
      kernel.grid.forEach(([x, y], s) => {
        pass.setBindGroup(0, ...bindGroup(s));
        pass.dispatchWorkgroups(x, y);
      });
      pass.end();
      for (const work of modules.steps) work.recordAfter?.(encoder);
    },
    recordSwitch(encoder, own, to, scalars) {
      const { bindGroup } = reserve(encoder, own, scalars);
      const pass = encoder.beginComputePass({ label: `${label}:${to}` });
      pass.setPipeline(modes![to]);
      layout.segments.forEach((segment, s) => {
        pass.setBindGroup(0, ...bindGroup(s));
        pass.dispatchWorkgroups(segment.workgroupsX, segment.workgroupsY);
      });
      pass.end();
    },
  };
}
