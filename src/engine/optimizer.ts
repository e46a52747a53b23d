/**
 * The GPU optimizer: composes the engine's modules (state buffers, group table, accumulator,
 * gradient control, scalar ring) and runs the shared step orchestration (bookkeeping.ts). `step()`
 * records one compute pass with one dispatch per segment (one in total unless the device limits
 * force a split), plus the accumulation and control passes when those features are on.
 */
import { checkScheduleAllowed, updatedGroups, type OptimizerOptions, type ResolvedConfig } from '../core/config.js';
import { alignUp, CHUNK_ELEMENTS, dispatchGrid, kernelDispatch, type PackedLayout } from '../core/layout.js';
import { getDefinition, type OptimizerName, type OptimizerOptionsMap } from '../optimizers/registry.js';
import { checkParameterSet, parameterSetLifecycle, type ParameterSet } from './parameters.js';
import { checkSchedule, type LrSchedule } from '../core/schedules.js';
import { checkStateDictOptions, type StateDictOptions } from '../state/state-dict-dequantize.js';
import type { OptimizerStateDict } from '../state/state-dict-types.js';
import { loadStateDictInto, stateDictOf } from '../front/state-dict-flow.js';
import { stateFormatDefines, type StateFormat } from '../state/state-format.js';
import { CHUNK_REDUCTIONS, scratchEntries } from '../passes/tensor-reduction.js';
import { type TrainingOptions } from '../control/training.js';
import { createAccumulator } from '../control/accumulator.js';
import { bindGroupEntries, storageBufferCount } from './bindings.js';
import { createBookkeeping } from '../core/bookkeeping.js';
import { CONTROL_WORD, type ControlSnapshot } from '../control/control-block.js';
import { checkEncoder } from '../core/encoder.js';
import { createGpuOutcomes } from './gpu-outcomes.js';
import { createRecordedEncoders } from './recorded-encoders.js';
import { checkStepOptions } from './step-options.js';
import { createGradientControl } from '../control/gradient-control.js';
import { createGroupTable } from './group-table.js';
import { createLifecycle } from '../core/lifecycle.js';
import { getKernelPipeline } from './pipelines.js';
import { createScalarRing } from './scalar-ring.js';
import { packScalars, scalarLayout } from '../core/scalars.js';
import { createStateBuffers } from '../state/state-buffers.js';
import { createQ8StateBuffers } from '../state/q8-state.js';
import { Q8_TILE_ELEMENTS, q8TileShape } from '../state/q8.js';
import { resolveOptions, type OptimizerCreateOptions } from '../front/resolve.js';
import { createTensorSums } from '../passes/tensor-sums.js';
import { checkFactoredSizes, createFactoredState } from '../passes/factored-state.js';
import { stateStorage, type StateStorage } from '../state/state-storage.js';

export interface Optimizer<H extends object = Record<string, unknown>> {
  readonly name: string;
  readonly params: ParameterSet;
  /**
   * Updates made (every `accumulation.steps`-th `step()` call), skipped ones included: the lr
   * schedule's position. PyTorch's `step` (steps taken, skips excluded) is `stateDict().step`.
   */
  readonly stepCount: number;
  /** `step()` calls, micro-batches included (gradient accumulation). */
  readonly microStepCount: number;
  /** Resolved hyperparameters of each group (read-only); group 0 holds the tensors no group names. */
  readonly groups: readonly Readonly<H>[];
  /** How the state slots are stored ('f32', 'bf16' or 'f16'). */
  readonly stateFormat: StateFormat;
  /**
   * The packed state buffers by PyTorch slot name (`exp_avg`, …), laid out like `params.paramBuffer`
   * (16-bit formats: 2 bytes per element).
   */
  readonly stateBuffers: Readonly<Record<string, GPUBuffer>>;
  /**
   * Bytes of optimizer state on the GPU: the state buffers, and Adafactor's factored state (its
   * `row_var` / `col_var` / `variance`, one buffer in per-tensor regions). Scratch and tables excluded.
   * Under stateFormat 'q8', tensors under `minQuantizedElements` (4096 by default) keep f32 state:
   * on a model of small tensors this equals f32's; `stateStorage` says which tensors, and why.
   */
  readonly stateBytes: number;
  /** Which tensors' state is stored compactly and which in f32, with a note where q8 saves less than it says. */
  readonly stateStorage: StateStorage;
  /**
   * Records one update of every tensor from `params.gradBuffer` into `encoder`, or submits it when
   * no encoder is given. No readback, and no GPU object is created (but see stepsInFlight).
   * Arguments and options are checked before anything is recorded or counted. Recording into an
   * encoder the GPU refuses (one finished before this optimizer saw it) is reported
   * asynchronously: the optimizer then refuses every call, `stateDict()` included, until a load.
   */
  step(encoder?: GPUCommandEncoder, options?: StepOptions): void;
  /** Changes hyperparameters of every group, or of one, from the next step on (no new pipeline). */
  setHyperparameters(partial: Partial<H>, group?: number): void;
  /** Replaces the learning-rate schedule (undefined: the groups' `lr` as is). */
  setLrSchedule(schedule: LrSchedule | undefined): void;
  /**
   * Where the loss scale lives on the GPU (f32 at `offset` of `buffer`), for a backward pass that
   * multiplies the loss by it. Only with `lossScaling`.
   */
  readonly lossScale?: { buffer: GPUBuffer; offset: number };
  /** The gradient norm of the last step (over all tensors, after unscaling). Needs the control path. */
  getLastGradNorm(): Promise<number>;
  /** The current loss scale (only with `lossScaling`). */
  getLossScale(): Promise<number>;
  /** The whole control block: device step, scale, norms, whether the last step was skipped. */
  readControl(): Promise<ControlSnapshot>;
  /**
   * The state, read back: slots in their stored form (16-bit formats: the Uint16Array bits; q8: each
   * quantized slot's codes and absmax), or in f32 with `{ dequantize: true }` (for PyTorch, TF.js or
   * an f32 optimizer).
   *
   * The state at the call: calls made while it is pending (step, load, train/eval) do not show in
   * it. It waits for the GPU's verdict on the work recorded before it and rejects if the GPU
   * refused some (never claiming a step that did not run), and rejects while this optimizer's
   * steps are recorded into an encoder not yet finished (finish and submit it first).
   */
  stateDict(options?: StateDictOptions): Promise<OptimizerStateDict<H>>;
  /**
   * Restores a state dict (checked in full first); also the way out of a failed state. Refused
   * while this optimizer's steps are recorded into an encoder not yet finished: they would run
   * after the load, on the loaded state, with the loaded counts (finish and submit it first).
   */
  loadStateDict(sd: OptimizerStateDict<H>): void;
  /** Optimizers with train/eval modes (`adamw_schedule_free`): which point the parameters hold. */
  readonly mode?: 'train' | 'eval';
  /**
   * Switches the parameters to the training point (one dispatch; recorded into `encoder` when
   * given). A switch the GPU refuses leaves `mode` as it was and the optimizer refusing until a load.
   */
  train(encoder?: GPUCommandEncoder): void;
  /** Switches the parameters to the averaged point for evaluation; `step()` refuses until `train()`. */
  eval(encoder?: GPUCommandEncoder): void;
  /** Frees every buffer the optimizer made (not the parameter set); later calls throw. */
  destroy(): void;
}

export interface StepOptions {
  /** Timestamp writes for the step's compute pass (profiling with the `timestamp-query` feature). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

/** Bytes between the segments' entries in the segment-info uniform buffer (an offset alignment). */
const SEGMENT_INFO_STRIDE = 256;

/** Per segment, `vec4<u32>(first element, rounding seed, 0, 0)`: what stochastic rounding hashes. */
function createSegmentInfo(device: GPUDevice, label: string, layout: PackedLayout, seed: number): GPUBuffer {
  const buffer = device.createBuffer({ label: `${label}:segmentInfo`, size: layout.segments.length * SEGMENT_INFO_STRIDE, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const words = new Uint32Array(buffer.size / 4);
  layout.segments.forEach((segment, s) => words.set([segment.firstElement, seed], (s * SEGMENT_INFO_STRIDE) / 4));
  device.queue.writeBuffer(buffer, 0, words);
  return buffer;
}

/**
 * Creates optimizer `name` over a parameter set.
 *
 * @example
 * const params = createParameterSet(device, [{ name: 'w', data: w0 }, { name: 'b', data: b0 }]);
 * const adam = createOptimizer('adam', params, { lr: 1e-3, groups: [{ tensors: ['b'], weightDecay: 0 }] });
 * // each training step: your backward pass writes params.gradBuffer, then
 * adam.step(encoder);
 */
export function createOptimizer<N extends OptimizerName>(
  name: N,
  params: ParameterSet,
  options?: OptimizerOptions<OptimizerOptionsMap[N]> & OptimizerCreateOptions & TrainingOptions,
): Optimizer<OptimizerOptionsMap[N]>;
export function createOptimizer(name: string, params: ParameterSet, options: object = {}): Optimizer<any> {
  const definition = getDefinition(name);
  checkParameterSet(params, 'createOptimizer');
  const { config: initialConfig, training, stateFormat, quantization, roundingSeed, stepsInFlight } = resolveOptions(definition, params.tensors.map((t) => t.name), options, `createOptimizer('${name}')`);
  const { device, layout, tensors } = params;
  let config: ResolvedConfig<any> = initialConfig;
  const slots = definition.slots(config.defines);
  const slotNames = new Set(slots.map((slot) => slot.name));
  const defines = { ...config.defines, GRAD_CONTROL: training.control, ...stateFormatDefines(stateFormat), STOCHASTIC: roundingSeed !== undefined };
  const storageBuffers = storageBufferCount(slots, defines);
  if (storageBuffers > device.limits.maxStorageBuffersPerShaderStage) {
    throw new RangeError(
      `webgpu-optim: ${name} with these options binds ${storageBuffers} storage buffers, over the ` +
        `device's maxStorageBuffersPerShaderStage (${device.limits.maxStorageBuffersPerShaderStage})`,
    );
  }
  if (definition.shapedSlots) checkFactoredSizes(name, layout, device.limits.maxStorageBufferBindingSize);
  const label = `${params.label}:${name}`;
  const lifecycle = createLifecycle(`optimizer ${name} ("${label}")`, device, parameterSetLifecycle(params));
  // 8-bit state: one workgroup per tile (shaders/q8.wgsl), else the shape the set was made with.
  const tile = quantization && q8TileShape(quantization.blockSize);
  const kernel = tile
    ? getKernelPipeline(device, definition, defines, tile.lanes, 'mainBlockwise', tile.laneVectors)
    : getKernelPipeline(device, definition, defines, params.workgroupSize, 'main', params.vectorsPerInvocation);
  const kernelGrid = layout.segments.map((segment) =>
    tile
      ? dispatchGrid(Math.ceil(segment.elementCount / tile.elements), device.limits.maxComputeWorkgroupsPerDimension, 'a segment of 8-bit state tiles')
      : kernelDispatch(segment, params.workgroupSize, params.vectorsPerInvocation),
  );

  // Everything the optimizer owns (pipelines are shared, per device).
  const q8State = quantization && createQ8StateBuffers({ device, label, layout, slots, quantization, tensorGroup: config.tensorGroup });
  const state = q8State ?? createStateBuffers({ device, label, layout, slots, format: stateFormat });
  state.writeInitial(config);
  if (definition.initialFromParams?.length) {
    const encoder = device.createCommandEncoder({ label: `${label}:initialState` });
    // These slots are f32 in every format (alwaysF32; tested): a plain copy.
    for (const slot of definition.initialFromParams) encoder.copyBufferToBuffer(params.paramBuffer, 0, state.buffers[slot]!, 0, layout.paddedLength * 4);
    device.queue.submit([encoder.finish()]);
  }
  const chunkTable = createGroupTable(device, label, layout, config);
  const segmentInfo = roundingSeed === undefined ? undefined : createSegmentInfo(device, label, layout, roundingSeed);
  const factored = definition.shapedSlots
    ? createFactoredState({ device, label, layout, tensorGroup: config.tensorGroup, scratchBase: scratchEntries(layout) })
    : undefined;
  const factorPipelines = factored && {
    factorSums: getKernelPipeline(device, definition, defines, params.workgroupSize, 'factorSums'),
    factorUpdate: getKernelPipeline(device, definition, defines, params.workgroupSize, 'factorUpdate'),
    rowMeans: getKernelPipeline(device, definition, defines, params.workgroupSize, 'rowMeans'),
  };
  // 8-bit state that partials() stores (LAMB's moments) is quantized in the partials pass, by tiles
  // (shaders/q8-layerwise.wgsl).
  const blockwisePartials = quantization !== undefined && definition.partialsStore !== undefined;
  // Its tile is the largest (4 vec4s per invocation): its sums follow tensorPartials' tree order.
  const partialsTile = q8TileShape(Q8_TILE_ELEMENTS);
  const tensorSums = definition.tensorSums
    ? createTensorSums({
        device,
        label,
        layout,
        tensorGroup: config.tensorGroup,
        extraEntries: factored?.scratchEntries,
        reduction: params.chunkReduction,
        partialsElementsPerWorkgroup: blockwisePartials ? partialsTile.elements : undefined,
      })
    : undefined;
  const partials =
    tensorSums &&
    (blockwisePartials
      ? getKernelPipeline(device, definition, defines, partialsTile.lanes, 'tensorPartialsBlockwise', partialsTile.laneVectors)
      : getKernelPipeline(device, definition, defines, params.workgroupSize, CHUNK_REDUCTIONS[params.chunkReduction].entryPoint));
  const accumulator =
    training.accumulationSteps > 1 ? createAccumulator({ device, label, layout, gradBuffer: params.gradBuffer, workgroupSize: params.workgroupSize }) : undefined;
  const gradientSource = accumulator?.buffer ?? params.gradBuffer;
  const control = training.control
    ? createGradientControl({ device, label, layout, definition, groups: config.groups, training, chunkTable, source: gradientSource, onFailure: lifecycle.fail })
    : undefined;
  const scalarsPerGroup = scalarLayout(definition).names.length;
  const slotBytes = alignUp(config.groups.length * scalarsPerGroup * 4, Math.max(256, device.limits.minStorageBufferOffsetAlignment));
  const ring = createScalarRing({
    device,
    label,
    slotBytes,
    slots: stepsInFlight,
    bindGroups: (ringBuffer) =>
      layout.segments.map((segment, s) => {
        const range = (buffer: GPUBuffer) => ({ buffer, offset: segment.firstElement * 4, size: segment.elementCount * 4 });
        const entries = bindGroupEntries(kernel.bindings, (binding) => {
          if (binding === 'hyper') return { buffer: ringBuffer, offset: 0, size: slotBytes };
          if (binding === 'param') return range(params.paramBuffer);
          if (binding === 'grad') return range(gradientSource);
          if (binding === 'control') return { buffer: control!.buffer };
          if (binding === 'chunkGroup') return { buffer: chunkTable!, offset: (segment.firstElement / CHUNK_ELEMENTS) * 4, size: (segment.elementCount / CHUNK_ELEMENTS) * 4 };
          if (binding === 'chunkTensor') return tensorSums!.chunkTensorRange(s);
          if (binding === 'tensorScratch') return tensorSums!.scratch;
          if (binding === 'factors') return { buffer: factored!.buffer };
          if (binding === 'factorTable') return { buffer: factored!.table };
          if (binding === 'segment') return { buffer: segmentInfo!, offset: s * SEGMENT_INFO_STRIDE, size: 16 };
          if (binding === 'q8Chunks') return q8State!.chunkRange(s);
          if (binding === 'q8Maps') return q8State!.maps;
          return state.range(binding.slice('slot:'.length), segment);
        });
        return device.createBindGroup({ label: `${label}:segment${s}`, layout: kernel.bindGroupLayout, entries });
      }),
  });
  const book = createBookkeeping(training.accumulationSteps);
  const outcomes = createGpuOutcomes(device, lifecycle.fail);
  const recorded = createRecordedEncoders();
  const staging = new Float32Array(slotBytes / 4);
  let schedule = training.schedule;
  let mode: 'train' | 'eval' | undefined = definition.modes?.initial;

  /** One dispatch of the kernel's `toEval` / `toTrain` entry point over every segment. */
  const switchMode = (to: 'train' | 'eval', encoder: GPUCommandEncoder | undefined) => {
    lifecycle.check();
    if (!definition.modes) throw new Error(`webgpu-optim: ${name} has no train/eval modes`);
    checkEncoder(encoder, `${name}.${to}`);
    if (mode === to) return;
    const from = mode;
    const pipeline = getKernelPipeline(device, definition, defines, params.workgroupSize, to === 'eval' ? 'toEval' : 'toTrain');
    const scalars = packScalars(definition, config.groups, book.stepCount + 1, { deviceStep: training.control, out: staging });
    outcomes.open();
    try {
      const own = encoder ?? device.createCommandEncoder({ label: `${label}:${to}` });
      const slot = ring.reserve(encoder);
      device.queue.writeBuffer(slot.buffer, slot.offset, scalars);
      const pass = own.beginComputePass({ label: `${label}:${to}` });
      pass.setPipeline(pipeline.pipeline);
      layout.segments.forEach((segment, s) => {
        pass.setBindGroup(0, slot.bindGroups[s]!, [slot.offset]);
        pass.dispatchWorkgroups(segment.workgroupsX, segment.workgroupsY);
      });
      pass.end();
      if (encoder) recorded.note(encoder);
      else device.queue.submit([own.finish()]);
      mode = to;
    } finally {
      // The GPU may refuse the switch (an encoder finished before we saw it): the parameters then
      // still hold the other point, so the mode goes back and the optimizer refuses until a load.
      outcomes.close(
        () => `the switch to ${to}`,
        () => {
          if (encoder) recorded.forget(encoder);
          if (mode === to) mode = from;
        },
      );
    }
  };

  const recordUpdate = (encoder: GPUCommandEncoder, update: number, scalars: Float32Array<ArrayBuffer>, timestampWrites?: GPUComputePassTimestampWrites) => {
    const slot = ring.reserve(encoder === ownEncoder ? undefined : encoder);
    device.queue.writeBuffer(slot.buffer, slot.offset, scalars);
    if (control) {
      control.prepare(update);
      control.record(encoder);
    }
    const pass = encoder.beginComputePass({ label: `${label}:step`, timestampWrites });
    // Layer-wise: the factored state and the per-tensor sums first, in the same pass (dispatches see
    // each other's writes).
    const segmentBindGroup = (s: number): [GPUBindGroup, number[]] => [slot.bindGroups[s]!, [slot.offset]];
    factored?.record(pass, factorPipelines!, segmentBindGroup);
    tensorSums?.record(pass, partials!.pipeline, segmentBindGroup);
    pass.setPipeline(kernel.pipeline);
    kernelGrid.forEach(([x, y], s) => {
      pass.setBindGroup(0, slot.bindGroups[s]!, [slot.offset]);
      pass.dispatchWorkgroups(x, y);
    });
    pass.end();
    accumulator?.clear(encoder);
  };
  let ownEncoder: GPUCommandEncoder | undefined;

  /**
   * Every copy a state dict needs, submitted now, in one go: the dict is the state at the call,
   * whatever is recorded, loaded or switched while the copies are mapped.
   */
  const readState = async () => {
    const pending = book.pendingMicroSteps;
    const reads = [control?.read(), state.read(), pending > 0 ? accumulator!.read() : undefined, factored?.read()] as const;
    const [snapshot, packed, accumulated, shaped] = await Promise.all(reads);
    return { snapshot, packed, accumulated, pending, shaped };
  };

  return {
    name,
    params,
    get stepCount() {
      return book.stepCount;
    },
    get microStepCount() {
      return book.microStepCount;
    },
    get groups() {
      return config.groups;
    },
    stateBuffers: state.buffers,
    stateFormat,
    stateBytes: state.byteLength + (factored?.buffer.size ?? 0),
    stateStorage: stateStorage(tensors, stateFormat, quantization),
    get mode() {
      return mode;
    },
    train: (encoder) => switchMode('train', encoder),
    eval: (encoder) => switchMode('eval', encoder),
    step(encoder, stepOptions) {
      lifecycle.check();
      checkEncoder(encoder, `${name}.step`);
      checkStepOptions(stepOptions, `${name}.step`);
      if (mode === 'eval') throw new Error(`webgpu-optim: ${name}: the parameters hold the averaged point (eval mode); call train() before step()`);
      outcomes.open();
      let recording = false;
      try {
        book.run(
          (plan) => (plan.due ? packScalars(definition, config.groups, plan.update, { schedule, deviceStep: training.control, out: staging }) : undefined),
          {
            begin: () => {
              recording = true;
              ownEncoder = encoder ? undefined : device.createCommandEncoder({ label: `${label}:step` });
            },
            accumulate: accumulator ? () => accumulator.record(encoder ?? ownEncoder!) : undefined,
            update: (update, scalars) => recordUpdate(encoder ?? ownEncoder!, update, scalars, stepOptions?.timestampWrites),
            end: () => {
              if (encoder) recorded.note(encoder);
              else device.queue.submit([ownEncoder!.finish()]);
              ownEncoder = undefined;
            },
          },
        );
      } catch (error) {
        // Everything is checked before recording starts; a throw after it left part of a step in
        // the caller's encoder, which would run at its submit: the state is no longer known.
        if (recording && encoder) lifecycle.fail(`step ${book.stepCount + 1} was recorded only in part (${error instanceof Error ? error.message : String(error)})`);
        throw error;
      } finally {
        ownEncoder = undefined;
        const step = book.stepCount;
        outcomes.close(() => `step ${step}'s commands`, encoder && (() => recorded.forget(encoder)));
      }
    },
    setHyperparameters(partial, group) {
      lifecycle.check();
      const groups = updatedGroups(config, partial, group, book.stepCount > 0);
      config = { ...config, groups };
      control?.refresh(groups);
    },
    setLrSchedule(next) {
      lifecycle.check();
      checkSchedule(next);
      checkScheduleAllowed(definition, next);
      schedule = next;
    },
    lossScale: control && training.scaling ? { buffer: control.buffer, offset: CONTROL_WORD.lossScale * 4 } : undefined,
    async getLastGradNorm() {
      lifecycle.check();
      if (!control) throw new Error(`webgpu-optim: ${name}: gradient norms are computed only with gradClipping, lossScaling, skipNonFinite or computeGradNorm`);
      return (await control.read()).totalNorm;
    },
    async getLossScale() {
      lifecycle.check();
      if (!control || !training.scaling) throw new Error(`webgpu-optim: ${name}: no lossScaling configured`);
      return (await control.read()).lossScale;
    },
    async readControl() {
      lifecycle.check();
      if (!control) throw new Error(`webgpu-optim: ${name}: no control path (gradClipping, lossScaling, skipNonFinite or computeGradNorm)`);
      return control.read();
    },
    async stateDict(dictOptions) {
      lifecycle.check();
      const { dequantize } = checkStateDictOptions(dictOptions, `${name}.stateDict`);
      const open = recorded.openError(`${name}.stateDict`);
      const verdict = outcomes.settled();
      if (open) {
        // An encoder finished before this optimizer saw it looks open: the GPU's refusal names it.
        await verdict;
        lifecycle.check();
        throw open;
      }
      const snapshotConfig = config;
      const snapshotMode = mode;
      const stepCalls = book.stepCount;
      const { snapshot, packed, accumulated, pending, shaped } = await readState();
      // A step or mode switch the GPU refused is never reported as done.
      await verdict;
      lifecycle.check();
      const source = {
        config: snapshotConfig,
        tensors,
        training,
        stepCalls,
        control: snapshot,
        pendingMicroSteps: pending,
        accumulated: accumulated && ((i: number) => accumulated.slice(tensors[i]!.offset, tensors[i]!.offset + tensors[i]!.length)),
        mode: snapshotMode,
        stateFormat,
        quantization,
        slotData: (i: number, slot: string) => (slotNames.has(slot) ? packed(i, slot) : shaped!(i, slot)),
      };
      return stateDictOf(source, { dequantize }, `${name}.stateDict`);
    },
    loadStateDict(sd) {
      lifecycle.check(true);
      const open = recorded.openError(`${name}.loadStateDict`);
      if (open) throw open;
      loadStateDictInto({ definition, tensors, config, training, quantization }, sd, {
        counts(loaded) {
          config = loaded.config;
          book.restore(loaded.stepCalls, loaded.pendingMicroSteps);
          mode = loaded.mode;
        },
        control:
          control &&
          ((restored) => {
            control.refresh(config.groups);
            control.restore(restored);
          }),
        accumulated: accumulator && ((grads) => {
          const packed = new Float32Array(layout.paddedLength);
          grads?.forEach((g, i) => packed.set(g, tensors[i]!.offset));
          accumulator.write(packed);
        }),
        slots(values, stored) {
          // A q8 dict of the same quantization loads its stored form (requantizing is not idempotent).
          if (stored) q8State!.writeStored(stored);
          else state.write(values);
          factored?.write(values);
        },
      });
      lifecycle.recover();
    },
    destroy() {
      if (!lifecycle.destroy()) return;
      state.destroy();
      ring.destroy();
      chunkTable?.destroy();
      segmentInfo?.destroy();
      tensorSums?.destroy();
      factored?.destroy();
      control?.destroy();
      accumulator?.destroy();
    },
  };
}
