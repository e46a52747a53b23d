/**
 * The GPU optimizer: composes the engine's modules (state buffers, group table, accumulator,
 * gradient control, scalar ring) and runs the shared step orchestration (bookkeeping.ts). `step()`
 * records one compute pass with one dispatch per segment (one in total unless the device limits
 * force a split), plus the accumulation and control passes when those features are on.
 */
import { checkScheduleAllowed, updatedGroups, type OptimizerOptions } from '../core/config.js';
import { getDefinition, type OptimizerName, type OptimizerOptionsMap } from '../optimizers/registry.js';
import { checkParameterSet, parameterSetLifecycle, type ParameterSet } from './parameters.js';
import { checkSchedule, type LrSchedule } from '../core/schedules.js';
import { buildStateDict, checkStateDict, checkStateDictOptions, checkedDequantized, type OptimizerStateDict, type StateDictOptions } from '../state/state-dict.js';
import { type StateFormat } from '../state/state-format.js';
import { type TrainingOptions } from '../control/training.js';
import { createBookkeeping } from '../core/bookkeeping.js';
import { CONTROL_WORD, type ControlSnapshot } from '../control/control-block.js';
import { createGpuOutcomes } from './gpu-outcomes.js';
import { createRecordedEncoders } from './recorded-encoders.js';
import { createLifecycle } from '../core/lifecycle.js';
import { sameQuantization } from '../state/q8.js';
import { resolveOptions, type OptimizerCreateOptions } from '../front/resolve.js';
import { createOptimizerModules } from './optimizer-modules.js';
import { createStepRecorder } from './step-recorder.js';
import { createStepCall, type StepOptions } from './step-call.js';
import { createModeSwitch, switchScalars } from './mode-switch.js';
import { controlReaders } from './control-readers.js';
import type { LiveSettings } from './live-settings.js';
import { checkStorageBuffers, createUpdateKernel, mainVariant, variantFlags } from './update-kernel.js';

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
  const resolved = resolveOptions(definition, params.tensors.map((t) => t.name), options, `createOptimizer('${name}')`);
  const { training, stateFormat, quantization } = resolved;
  const { device, layout, tensors } = params;
  const variant = mainVariant({
    definition,
    flags: variantFlags(resolved.config.defines, training.control, stateFormat, resolved.roundingSeed !== undefined),
    stateFormat,
    quantization,
    workgroupSize: params.workgroupSize,
    vectorsPerInvocation: params.vectorsPerInvocation,
  });
  // Every limit is checked before anything is made.
  checkStorageBuffers(variant, device.limits);
  for (const pass of definition.passes ?? []) pass.check?.(name, layout, device.limits);
  const label = `${params.label}:${name}`;
  const lifecycle = createLifecycle(`optimizer ${name} ("${label}")`, device, parameterSetLifecycle(params));
  const kernel = createUpdateKernel(device, layout, variant, params.workgroupSize);
  const modules = createOptimizerModules({ device, label, params, kernel, resolved, training, onFailure: lifecycle.fail });
  const { state, q8State, control, accumulator, shapedState: factored } = modules;
  const slotNames = new Set(definition.slots(resolved.config.defines).map((slot) => slot.name));
  const recorder = createStepRecorder({ device, label, kernel, modules, groups: resolved.config.groups.length, stepsInFlight: resolved.stepsInFlight });
  const live: LiveSettings = { config: resolved.config, schedule: training.schedule, mode: definition.modes?.initial };
  const book = createBookkeeping(training.accumulationSteps);
  const outcomes = createGpuOutcomes(device, lifecycle.fail);
  const recorded = createRecordedEncoders();
  const staging = new Float32Array(recorder.slotWords);
  const calls = { device, label, definition, live, lifecycle, outcomes, recorded, recorder };
  const switchMode = createModeSwitch({ ...calls, scalars: switchScalars(definition, live, () => book.stepCount, training.control, staging) });
  const step = createStepCall({ ...calls, book, deviceStep: training.control, accumulator, staging });

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
      return live.config.groups;
    },
    stateBuffers: state.buffers,
    stateFormat,
    stateBytes: state.byteLength + (factored?.byteLength ?? 0),
    stateStorage: stateStorage(tensors, stateFormat, quantization),
    get mode() {
      return live.mode;
    },
    train: (encoder) => switchMode('train', encoder),
    eval: (encoder) => switchMode('eval', encoder),
    step,
    setHyperparameters(partial, group) {
      lifecycle.check();
      const groups = updatedGroups(live.config, partial, group, book.stepCount > 0);
      live.config = { ...live.config, groups };
      control?.refresh(groups);
    },
    setLrSchedule(next) {
      lifecycle.check();
      checkSchedule(next);
      checkScheduleAllowed(definition, next);
      live.schedule = next;
    },
    lossScale: control && training.scaling ? { buffer: control.buffer, offset: CONTROL_WORD.lossScale * 4 } : undefined,
    ...controlReaders(name, control, training.scaling !== undefined, lifecycle),
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
      const snapshotConfig = live.config;
      const snapshotMode = live.mode;
      const stepCalls = book.stepCount;
      const { snapshot, packed, accumulated, pending, shaped } = await readState();
      // A step or mode switch the GPU refused is never reported as done.
      await verdict;
      lifecycle.check();
      const slice = (data: Float32Array, i: number) => data.slice(tensors[i]!.offset, tensors[i]!.offset + tensors[i]!.length);
      const sd = buildStateDict(
        snapshotConfig,
        tensors,
        {
          step: snapshot ? snapshot.step : stepCalls,
          stepCalls,
          scaler: snapshot && training.scaling ? { scale: snapshot.lossScale, growthTracker: snapshot.growthTracker } : undefined,
          accumulation: accumulated ? { microSteps: pending, grads: tensors.map((_, i) => slice(accumulated, i)) } : undefined,
          mode: snapshotMode,
        },
        (i, slot) => (slotNames.has(slot) ? packed(i, slot) : shaped!(i, slot)),
        stateFormat,
        quantization,
      );
      return dequantize ? checkedDequantized(sd, `${name}.stateDict`) : sd;
    },
    loadStateDict(sd) {
      lifecycle.check(true);
      const open = recorded.openError(`${name}.loadStateDict`);
      if (open) throw open;
      const loaded = checkStateDict(definition, tensors, live.config, training, sd);
      live.config = loaded.config;
      book.restore(loaded.stepCalls, loaded.pendingMicroSteps);
      if (control) {
        control.refresh(live.config.groups);
        control.restore({ step: loaded.step, calls: loaded.stepCalls, lossScale: loaded.scaler?.scale, growthTracker: loaded.scaler?.growthTracker });
      }
      if (accumulator) {
        const packed = new Float32Array(layout.paddedLength);
        loaded.accumulated?.forEach((g, i) => packed.set(g, tensors[i]!.offset));
        accumulator.write(packed);
      }
      // A q8 dict of the same quantization loads its stored form (requantizing is not idempotent).
      if (q8State && sameQuantization(loaded.quantization, quantization)) q8State.writeStored(loaded.storedValue);
      else state.write(loaded.slotValues);
      factored?.write(loaded.slotValues);
      live.mode = loaded.mode;
      lifecycle.recover();
    },
    destroy() {
      if (!lifecycle.destroy()) return;
      recorder.ring.destroy();
      modules.destroy();
    },
  };
}
