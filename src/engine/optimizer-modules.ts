/**
 * Everything one optimizer owns on the GPU, made once at creation: its state (f32, 16-bit or 8-bit),
 * the chunk → group table, its passes, the gradient accumulator and the control path. Each module
 * hands the update kernel the resources of its own bindings; they are merged here, by name.
 */
import type { ResolvedConfig } from '../core/config.js';
import { declaredPasses } from '../core/definition.js';
import { CHUNK_ELEMENTS, type PackedLayout } from '../core/layout.js';
import type { SegmentResources, PassState, StepPass, Tile } from '../core/passes.js';
import { createAccumulator, type Accumulator } from '../control/accumulator.js';
import { createGradientControl, type GradientControl } from '../control/gradient-control.js';
import type { ResolvedTraining } from '../control/training.js';
import type { ResolvedOptions } from '../front/resolve.js';
import { codeBitsOf, maxBlockSize, q8TileShape, type Quantization } from '../state/q8.js';
import { createQ8StateBuffers, type Q8StateBuffers } from '../state/q8-state.js';
import { createSegmentInfo, type SegmentInfo } from '../state/segment-info.js';
import { createStateBuffers, type StateBuffers } from '../state/state-buffers.js';
import { compactLayoutOf } from '../state/shared-slots.js';
import type { CompactLayout } from '../core/compact-layout.js';
import { createGroupTable } from './group-table.js';
import { bindsGroupTable } from './bindings.js';
import type { ParameterSet } from './parameters.js';
import type { UpdateKernel } from './update-kernel.js';

export interface OptimizerModules {
  readonly state: StateBuffers;
  /** The same object as `state` under stateFormat 'q8' or 'q4'. */
  readonly q8State: Q8StateBuffers | undefined;
  readonly passes: readonly StepPass[];
  /** Everything a step records besides the update, in order: gradient control, the passes, the accumulator. */
  readonly steps: readonly StepPass[];
  /** The state the passes keep (Adafactor's factors), undefined when none does. */
  readonly shapedState: PassState | undefined;
  /** The whole-set scalar words a pass keeps (Prodigy's d…), when one does. */
  readonly setWords: StepPass['setWords'];
  readonly accumulator: Accumulator | undefined;
  readonly control: GradientControl | undefined;
  /** The update kernel's binding resources, every module's merged (the scalar ring's `hyper` excepted). */
  readonly resources: SegmentResources;
  /**
   * The declared passes built again for another kernel of this optimizer (the per-tensor step's:
   * its pipelines and bind groups differ), over the same state (each build gets its plain one,
   * `PassContext.plain`); for `PassDeclaration.perTensor` passes. The caller owns and destroys them.
   */
  passesFor(kernel: UpdateKernel, label: string): StepPass[];
  /** Bytes of every buffer the modules hold now: state and its tables, group table, passes, control, accumulator. */
  readonly allocatedBytes: number;
  destroy(): void;
}

/** Gradient control as a step pass: its statistics before the step's compute pass; it binds `control`. */
function controlStep(control: GradientControl): StepPass {
  return {
    resources: { control: () => control.bindingResources.control },
    recordBefore(encoder, update) {
      control.prepare(update);
      control.record(encoder);
    },
    get allocatedBytes() {
      return control.allocatedBytes;
    },
    destroy: () => control.destroy(),
  };
}

/** Gradient accumulation as a step pass: the sum is cleared once the update has read it. */
function accumulatorStep(accumulator: Accumulator): StepPass {
  return { resources: {}, recordAfter: (encoder) => accumulator.clear(encoder), allocatedBytes: accumulator.buffer.size, destroy: () => accumulator.destroy() };
}

/** The passes' own state, as one: each slot read from and written to the pass that holds it. */
function combinedPassState(states: readonly PassState[]): PassState | undefined {
  if (states.length <= 1) return states[0];
  return {
    byteLength: states.reduce((n, s) => n + s.byteLength, 0),
    holds: (slot) => states.some((s) => s.holds(slot)),
    async read() {
      const reads = await Promise.all(states.map((s) => s.read()));
      return (i, slot) => reads[states.findIndex((s) => s.holds(slot))]!(i, slot);
    },
    write: (values) => states.forEach((s) => s.write(values)),
  };
}

/** The f32 / 16-bit / 8-bit state buffers, at their initial values. */
function createState(device: GPUDevice, label: string, params: ParameterSet, kernel: UpdateKernel, resolved: ResolvedOptions<any>, compact: CompactLayout | undefined): StateBuffers {
  const { layout } = params;
  const { definition, flags } = kernel.variant;
  const slots = definition.slots(flags);
  const { quantization, config } = resolved;
  const state = quantization
    ? createQ8StateBuffers({ device, label, layout, slots, quantization, tensorGroup: config.tensorGroup })
    : createStateBuffers({ device, label, layout, slots, format: resolved.stateFormat, compact });
  state.writeInitial(config);
  if (definition.initialFromParams?.length) {
    const encoder = device.createCommandEncoder({ label: `${label}:initialState` });
    // These slots are f32 in every format (alwaysF32; tested): a plain copy.
    for (const slot of definition.initialFromParams) encoder.copyBufferToBuffer(params.paramBuffer, 0, state.buffers[slot]!, 0, layout.paddedLength * 4);
    device.queue.submit([encoder.finish()]);
  }
  return state;
}

/** The passes the definition declares, built in order. */
function createPasses(device: GPUDevice, label: string, params: ParameterSet, kernel: UpdateKernel, config: ResolvedConfig<any>, quantization: Quantization | undefined, compactSlots: CompactLayout | undefined, plain?: readonly StepPass[]): StepPass[] {
  const { definition } = kernel.variant;
  // 8-bit or 4-bit state stored by a pass (LAMB's moments) is quantized there, by the format's largest tile.
  const blockwise: Tile | undefined = quantization && definition.partialsStore !== undefined ? q8TileShape(maxBlockSize(codeBitsOf(quantization))) : undefined;
  const context = {
    device,
    label,
    layout: params.layout,
    tensorGroup: config.tensorGroup,
    groups: config.groups,
    workgroupSize: params.workgroupSize,
    chunkReduction: params.chunkReduction,
    blockwise,
    compactSlots,
    kernelPipeline: (entryPoint: string, tile?: Tile) => kernel.entryPoint(entryPoint, tile).pipeline,
  };
  return declaredPasses(definition, config.defines).map((pass, i) => pass.create({ ...context, plain: plain?.[i] }));
}

/** The engine's own resources: the parameters, the gradients the update reads, the group table. */
function engineResources(layout: PackedLayout, params: ParameterSet, gradients: GPUBuffer, chunkTable: GPUBuffer | undefined): SegmentResources {
  const range = (buffer: GPUBuffer) => (s: number) => ({ buffer, offset: layout.segments[s]!.firstElement * 4, size: layout.segments[s]!.elementCount * 4 });
  const chunkGroup = (s: number) => {
    const segment = layout.segments[s]!;
    return { buffer: chunkTable!, offset: (segment.firstElement / CHUNK_ELEMENTS) * 4, size: (segment.elementCount / CHUNK_ELEMENTS) * 4 };
  };
  return { param: range(params.paramBuffer), grad: range(gradients), ...(chunkTable ? { chunkGroup } : {}) };
}

export function createOptimizerModules(args: {
  device: GPUDevice;
  label: string;
  params: ParameterSet;
  kernel: UpdateKernel;
  resolved: ResolvedOptions<any>;
  training: ResolvedTraining;
  onFailure: (message: string) => void;
}): OptimizerModules {
  const { device, label, params, kernel, resolved, training } = args;
  const { layout } = params;
  const { config } = resolved;
  // Slots only some tensors hold (SlotSpec.compact): one packing, for the state and the pass that remaps to it.
  const compact = compactLayoutOf(config, layout);
  const state = createState(device, label, params, kernel, resolved, compact);
  // Made only where read: by the update kernel, or by the gradient statistics of several groups
  // (under q8 it would add 0.0625 byte per parameter to a table that already carries the group).
  const chunkTable = bindsGroupTable(kernel.variant.flags) || training.control ? createGroupTable(device, label, layout, config) : undefined;
  const segmentInfo: SegmentInfo | undefined = resolved.roundingSeed === undefined ? undefined : createSegmentInfo(device, label, layout, resolved.roundingSeed);
  const passes = createPasses(device, label, params, kernel, config, resolved.quantization, compact);
  const accumulator = training.accumulationSteps > 1 ? createAccumulator({ device, label, layout, gradBuffer: params.gradBuffer, workgroupSize: params.workgroupSize }) : undefined;
  const gradients = accumulator?.buffer ?? params.gradBuffer;
  const control = training.control
    ? createGradientControl({ device, label, layout, definition: kernel.variant.definition, groups: config.groups, training, chunkTable, source: gradients, onFailure: args.onFailure })
    : undefined;
  const steps = [...(control ? [controlStep(control)] : []), ...passes, ...(accumulator ? [accumulatorStep(accumulator)] : [])];
  const resources: SegmentResources = Object.assign(
    {},
    engineResources(layout, params, gradients, chunkTable),
    ...steps.map((step) => step.resources),
    segmentInfo?.resources,
    state.resources,
  );
  return {
    state,
    q8State: resolved.quantization ? (state as Q8StateBuffers) : undefined,
    passes,
    steps,
    shapedState: combinedPassState(passes.flatMap((pass) => (pass.state ? [pass.state] : []))),
    setWords: passes.find((pass) => pass.setWords)?.setWords,
    accumulator,
    control,
    resources,
    passesFor: (other, otherLabel) => createPasses(device, otherLabel, params, other, config, resolved.quantization, compact, passes),
    get allocatedBytes() {
      return steps.reduce((n, step) => n + step.allocatedBytes, state.allocatedBytes + (chunkTable?.size ?? 0) + (segmentInfo?.allocatedBytes ?? 0));
    },
    destroy() {
      state.destroy();
      chunkTable?.destroy();
      segmentInfo?.destroy();
      for (const step of steps) step.destroy();
    },
  };
}
