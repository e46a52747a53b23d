/**
 * The per-tensor step (PyTorch's rule for a parameter whose grad is None): the same update kernel
 * with PER_TENSOR, whose entry point `mainPerTensor` (shaders/per-tensor.wgsl) reads one `Hyper`
 * row per tensor (its own step count; `gradientAbsent` leaves it untouched) through a chunk → tensor
 * table. Made before any step needs it (preparedPerTensorStep: at the parameter set's first
 * `zeroGrad({ setToNone: true })`, or at a load whose step counts differ), never by `step()`; a step
 * where every tensor has its gradient and the same step count records the plain kernel, as before.
 * Its ring gives every recorded step its own rows, so several steps in one encoder stay exact.
 */
import { alignUp, CHUNK_ELEMENTS, type PackedLayout } from '../core/layout.js';
import type { OptimizerModules } from './optimizer-modules.js';
import { createStepRecorder, type StepRecorder } from './step-recorder.js';
import { checkStorageBuffers, createUpdateKernel, type UpdateKernel } from './update-kernel.js';
import type { KernelVariant } from './kernel-variant.js';
import type { Accumulator } from '../control/accumulator.js';
import { createPerTensorAccumulation } from '../control/per-tensor-accumulation.js';
import { createScalarRing } from './scalar-ring.js';
import { scalarLayout } from '../core/scalars.js';
import type { StepPass } from '../core/passes.js';

export interface PerTensorStep {
  readonly recorder: StepRecorder;
  /**
   * Records this micro-batch's accumulation of the tensors `present` marks (optimizers that
   * accumulate); `own`: the encoder is the optimizer's own, submitted at once.
   */
  readonly accumulate: ((encoder: GPUCommandEncoder, own: boolean, present: readonly boolean[]) => void) | undefined;
  /** Host staging for one ring slot's rows. */
  readonly staging: Float32Array<ArrayBuffer>;
  /** Bytes of its buffers: the ring (as it grows), the chunk → tensor table and its passes'. */
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
 * The per-tensor variant of an update kernel: PER_TENSOR on, entry point `mainPerTensor`, or
 * `mainBlockwisePerTensor` (shaders/q8-per-tensor.wgsl) for the tiles of 8-bit and 4-bit state. Its
 * rows are per tensor, so it needs no chunk → group table (MULTI_GROUP off: one binding fewer),
 * unless gradient control's per-group clip coefficient needs the chunk's group.
 */
export function perTensorVariant(variant: KernelVariant): KernelVariant {
  const entryPoint = variant.grid.kind === 'tile' ? 'mainBlockwisePerTensor' : 'mainPerTensor';
  // Gradient control's clip coefficient is per group: its chunk → group table stays (groupAt).
  const multiGroup = variant.flags.GRAD_CONTROL === true && variant.flags.MULTI_GROUP === true;
  return { ...variant, flags: { ...variant.flags, MULTI_GROUP: multiGroup, PER_TENSOR: true }, entryPoint };
}

/**
 * The accumulation of a micro-batch that leaves some tensor unmarked: the per-tensor accumulate
 * kernel over the chunk → tensor table, each recorded micro-batch's marks in its own ring slot.
 */
function createMarkedAccumulation(args: { device: GPUDevice; label: string; layout: PackedLayout; accumulator: Accumulator; chunkRows: GPUBuffer; workgroupSize: number; stepsInFlight: number }) {
  const { device } = args;
  const accumulation = createPerTensorAccumulation(args);
  const ring = createScalarRing({ device, label: `${args.label}:marks`, slotBytes: accumulation.slotBytes, slots: args.stepsInFlight, bindGroups: accumulation.bindGroups });
  return {
    ring,
    record(encoder: GPUCommandEncoder, own: boolean, present: readonly boolean[]) {
      const slot = ring.reserve(own ? undefined : encoder);
      device.queue.writeBuffer(slot.buffer, slot.offset, accumulation.marks(present));
      accumulation.record(encoder, slot.bindGroups, slot.offset);
    },
  };
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
  // The passes (per-tensor sums: cautious, LAMB, LARS) built again for this kernel's module, whose
  // partials skip a tensor without gradient (shaders/layerwise-vector-partials-per-tensor.wgsl).
  const passes = modules.passesFor(perTensorKernel, label);
  // Gradient control's statistics leave out the tensors without gradient (read from each step's rows).
  const control = modules.control?.perTensor({ chunkRow: table, rows: { rowWords: scalarLayout(variant.definition).names.length + 1, absentWord: scalarLayout(variant.definition).names.length } });
  const controlStep: StepPass | undefined = control && { resources: {}, recordBefore: control.recordBefore, allocatedBytes: 0, destroy: () => {} };
  // modules.steps: gradient control's first (when on), then the passes, then the accumulator's.
  const steps = modules.steps.map((step, k) => passes[modules.passes.indexOf(step)] ?? (controlStep && k === 0 ? controlStep : step));
  const resources = Object.assign({}, modules.resources, ...passes.map((pass) => pass.resources), { chunkRow });
  const accumulation = modules.accumulator && createMarkedAccumulation({ device, label, layout, accumulator: modules.accumulator, chunkRows: table, workgroupSize: args.workgroupSize, stepsInFlight: args.stepsInFlight });
  const recorder = createStepRecorder({
    device,
    label,
    kernel: perTensorKernel,
    modules: { ...modules, resources, steps },
    groups: layout.tensors.length,
    stepsInFlight: args.stepsInFlight,
    extraFields: 1,
    onRing: control?.addRing,
  });
  return {
    recorder,
    accumulate: accumulation?.record,
    staging: new Float32Array(recorder.slotWords),
    get allocatedBytes() {
      return passes.reduce((n, pass) => n + pass.allocatedBytes, recorder.ring.allocatedBytes + table.size + (accumulation?.ring.allocatedBytes ?? 0));
    },
    destroy() {
      recorder.ring.destroy();
      accumulation?.ring.destroy();
      table.destroy();
      for (const pass of passes) pass.destroy();
    },
  };
}

/** The per-tensor step of one optimizer, made ahead of the steps that use it. */
export interface PreparedPerTensorStep {
  /** Makes it now unless made (or refused) already; a refusal is kept for the step to throw. */
  prepare(): void;
  /**
   * The per-tensor step for a step that needs it: the one prepared, or the device's refusal of its
   * variant (thrown before anything is counted or recorded). Made here only if nothing prepared it.
   */
  get(): PerTensorStep;
  /** Bytes of its buffers (0 until made). */
  readonly allocatedBytes: number;
  destroy(): void;
}

/**
 * When it is made. Not at `createOptimizer`: a user who never calls `zeroGrad()` would pay a second
 * pipeline's compilation and the chunk table (4 bytes per 64 elements, 1/16 byte per parameter:
 * 6 % of 8-bit state's bytes) for a path they never take. Not at the first step that needs it:
 * nothing is created on the step path. The parameter set's first `zeroGrad({ setToNone: true })`
 * is the only call that can make a gradient absent, so a set that never calls it never needs this;
 * an optimizer made over a set that already has, or loading per-tensor step counts that differ,
 * makes it there. Once, outside `step()`: a training loop calls zeroGrad every iteration, but only
 * the first call makes anything. A device that cannot bind the variant is refused at the step that
 * needs it, before anything changes, as a step's other refusals are (zeroGrad itself never fails).
 */
export function preparedPerTensorStep(make: () => PerTensorStep): PreparedPerTensorStep {
  let made: PerTensorStep | undefined;
  let refused: unknown;
  const prepare = () => {
    if (made || refused) return;
    try {
      made = make();
    } catch (error) {
      refused = error;
    }
  };
  return {
    prepare,
    get() {
      prepare();
      if (refused) throw refused;
      return made!;
    },
    get allocatedBytes() {
      return made?.allocatedBytes ?? 0;
    },
    destroy() {
      made?.destroy();
    },
  };
}
