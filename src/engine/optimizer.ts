/**
 * The GPU optimizer: composes the engine's modules (state buffers, group table, accumulator,
 * gradient control, scalar ring) and runs the shared step orchestration (bookkeeping.ts). `step()`
 * records one compute pass with one dispatch per segment (one in total unless the device limits
 * force a split), plus the accumulation and control passes when those features are on.
 */
import { type OptimizerOptions } from '../core/config.js';
import { getDefinition, type OptimizerName, type OptimizerOptionsMap } from '../optimizers/registry.js';
import { checkParameterSet, gradientPresence, parameterSetLifecycle, whenGradientsMayBeAbsent, type ParameterSet } from './parameters.js';
import { createPerTensorStep, preparedPerTensorStep } from './per-tensor-step.js';
import { type LrSchedule } from '../core/schedules.js';
import type { StateDictOptions } from '../state/state-dict-dequantize.js';
import type { OptimizerStateDict } from '../state/state-dict-types.js';
import { type StateFormat } from '../state/state-format.js';
import { type TrainingOptions } from '../control/training.js';
import { CONTROL_WORD, type ControlSnapshot } from '../control/control-block.js';
import { createGpuOutcomes } from './gpu-outcomes.js';
import { createRecordedEncoders } from './recorded-encoders.js';
import { createLifecycle } from '../core/lifecycle.js';
import { resolveOptions, type OptimizerCreateOptions, type ResolvedOptions } from '../front/resolve.js';
import { createFrontState, withFrontView, type FrontView } from '../front/front-state.js';
import { stateDictMethods } from './state-dict-methods.js';
import type { KernelVariant } from './kernel-variant.js';
import { declaredPasses, type OptimizerDefinition } from '../core/definition.js';
import { createOptimizerModules } from './optimizer-modules.js';
import { createStepRecorder } from './step-recorder.js';
import { createStepCall, type StepOptions } from './step-call.js';
import { createModeSwitch } from './mode-switch.js';
import { controlReaders } from './control-readers.js';
import { checkStorageBuffers, createUpdateKernel, mainVariant, variantFlags } from './update-kernel.js';

import { stateStorage, type StateStorage } from '../state/state-storage.js';

export interface Optimizer<H extends object = Record<string, unknown>> {
  readonly name: string;
  readonly params: ParameterSet;
  /**
   * Updates made (every `accumulation.steps`-th `step()` call), skipped ones included: the lr
   * schedule's position. PyTorch's `step` (steps taken, skips excluded) is `stateDict().step`; once
   * a tensor was left without gradient (`params.zeroGrad()`), each tensor's own is `state[i].step`.
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
   * `row_var` / `col_var` / `variance`, one buffer in per-tensor regions). Scratch and tables excluded:
   * `allocatedBytes` counts every buffer.
   * Under stateFormat 'q8' or 'q4', tensors under `minQuantizedElements` (4096 by default) keep f32 state:
   * on a model of small tensors this equals f32's; `stateStorage` says which tensors, and why.
   */
  readonly stateBytes: number;
  /**
   * Bytes of every GPU buffer this optimizer holds now: its state (under 'q8' or 'q4', codes, absmax
   * and side values) and everything else it made, the chunk table and maps of that state, the group table, the
   * passes' tables and scratch, the gradient control block and step table, the accumulator and
   * the scalar ring (the ring and step table grow when more steps are in flight; the buffers they
   * grew out of are counted until destroy). Not the parameter set, and not the staging buffers a
   * `stateDict()` or read makes and frees. What the optimizer costs in GPU memory beyond the model.
   */
  readonly allocatedBytes: number;
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
  const resolved = resolveOptions(definition, params.layout.tensors, options, `createOptimizer('${name}')`);
  const { training, stateFormat, quantization } = resolved;
  const { device, layout, tensors } = params;
  const variant = checkedVariant(definition, params, resolved);
  const label = `${params.label}:${name}`;
  const lifecycle = createLifecycle(`optimizer ${name} ("${label}")`, device, parameterSetLifecycle(params));
  const kernel = createUpdateKernel(device, layout, variant, params.workgroupSize);
  const modules = createOptimizerModules({ device, label, params, kernel, resolved, training, onFailure: lifecycle.fail });
  const { state, control, accumulator, shapedState } = modules;
  const recorder = createStepRecorder({ device, label, kernel, modules, groups: resolved.config.groups.length, stepsInFlight: resolved.stepsInFlight });
  const front = createFrontState(definition, resolved);
  const outcomes = createGpuOutcomes(device, lifecycle.fail);
  const recorded = createRecordedEncoders();
  const staging = new Float32Array(recorder.slotWords);
  const calls = { device, label, front, lifecycle, outcomes, recorded, recorder, staging };
  const switchMode = createModeSwitch(calls);
  // Made before a step needs it (preparedPerTensorStep says when and why), where this optimizer can take it.
  const perTensor = preparedPerTensorStep(() => createPerTensorStep({ device, label, kernel, modules, workgroupSize: params.workgroupSize, stepsInFlight: resolved.stepsInFlight }));
  const stopWaiting = front.tensorSteps.refusal === undefined ? whenGradientsMayBeAbsent(params, perTensor.prepare) : () => {};
  const stateDicts = stateDictMethods({ name, front, modules, tensors, paddedLength: layout.paddedLength, training, stateFormat, quantization, lifecycle, outcomes, recorded });
  return withFrontView<any, Omit<Optimizer<any>, keyof FrontView<any>>>(front, {
    name,
    params,
    stateBuffers: state.buffers,
    stateFormat,
    stateBytes: state.byteLength + (shapedState?.byteLength ?? 0),
    get allocatedBytes() {
      return modules.allocatedBytes + recorder.ring.allocatedBytes + perTensor.allocatedBytes;
    },
    stateStorage: stateStorage(tensors, stateFormat, quantization),
    train: (encoder?: GPUCommandEncoder) => switchMode('train', encoder),
    eval: (encoder?: GPUCommandEncoder) => switchMode('eval', encoder),
    step: createStepCall({ ...calls, accumulator, present: () => gradientPresence(params), perTensor: perTensor.get, control: control !== undefined }),
    setHyperparameters(partial: Partial<any>, group?: number) {
      lifecycle.check();
      // Applied first: `control?.refresh(…)` would skip its argument without a control path.
      const groups = front.setHyperparameters(partial, group);
      control?.refresh(groups);
    },
    setLrSchedule(next: LrSchedule | undefined) {
      lifecycle.check();
      front.setLrSchedule(next);
    },
    lossScale: control && training.scaling ? { buffer: control.buffer, offset: CONTROL_WORD.lossScale * 4 } : undefined,
    ...controlReaders(name, control, training.scaling !== undefined, lifecycle),
    ...stateDicts,
    loadStateDict(sd: OptimizerStateDict<any>) {
      stateDicts.loadStateDict(sd);
      // Loaded step counts that differ take the per-tensor path at the next step: made here.
      if (front.tensorSteps.counts && front.tensorSteps.uniform() === undefined) perTensor.prepare();
    },
    destroy() {
      if (!lifecycle.destroy()) return;
      stopWaiting();
      recorder.ring.destroy();
      perTensor.destroy();
      modules.destroy();
    },
  });
}

/** The update kernel's variant, refused before anything is made when the device cannot bind it or a pass cannot hold the set. */
function checkedVariant(definition: OptimizerDefinition<any, any>, params: ParameterSet, resolved: ResolvedOptions<any>): KernelVariant {
  const { training, stateFormat } = resolved;
  const variant = mainVariant({
    definition,
    flags: variantFlags(resolved.config.defines, training.control, stateFormat, resolved.roundingSeed !== undefined),
    stateFormat,
    quantization: resolved.quantization,
    workgroupSize: params.workgroupSize,
    vectorsPerInvocation: params.vectorsPerInvocation,
  });
  checkStorageBuffers(variant, params.device.limits);
  const { groups, tensorGroup } = resolved.config;
  definition.checkTensors?.(definition.name, params.layout.tensors, tensorGroup.map((g) => groups[g]));
  for (const pass of declaredPasses(definition, resolved.config.defines)) pass.check?.(definition.name, params.layout, params.device.limits, resolved.config);
  return variant;
}
