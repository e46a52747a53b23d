/**
 * The state-dict flow of both front-ends (the GPU optimizer and the CPU twin): a dict built from
 * what the optimizer holds at the call, with PyTorch's step and the loss scaler taken from the
 * control path where it is on; and a load that checks the whole dict before anything changes, then
 * hands each part to the front-end's own storage.
 */
import type { ResolvedConfig } from '../core/config.js';
import type { OptimizerDefinition } from '../core/definition.js';
import { refusal } from '../core/refusal.js';
import type { ResolvedTraining } from '../control/training.js';
import { sameQuantization, type Q8Slot, type Quantization } from '../state/q8.js';
import type { StateFormat } from '../state/state-format.js';
import { buildStateDict } from '../state/state-dict-build.js';
import { checkedDequantized, type StateDictOptions } from '../state/state-dict-dequantize.js';
import { checkStateDict, type LoadedState } from '../state/state-dict-load.js';
import type { OptimizerStateDict, TensorInfo } from '../state/state-dict-types.js';
import type { Mode } from './front-state.js';

/** The control path's counts as a dict takes them (the GPU's control block or the twin's control state). */
export interface ControlCounts {
  /** Steps taken (skipped ones excluded): PyTorch's `step`. */
  readonly step: number;
  readonly lossScale: number;
  readonly growthTracker: number;
}

/** What an optimizer holds at a stateDict() call. */
export interface DictSource<H extends object> {
  readonly config: ResolvedConfig<H>;
  readonly tensors: readonly TensorInfo[];
  readonly training: ResolvedTraining;
  /** Updates made, skipped ones included. */
  readonly stepCalls: number;
  /** Each tensor's own step count once they differ (a tensor was left without gradient); else undefined. */
  readonly tensorSteps?: readonly number[];
  /** The control path's counts, when it is on. */
  readonly control: ControlCounts | undefined;
  /** Micro-batches accumulated since the last update, and tensor i's gradients summed over them (read only when some are pending). */
  readonly pendingMicroSteps: number;
  readonly accumulated: ((tensorIndex: number) => Float32Array) | undefined;
  /** The tensors some pending micro-batch wrote, undefined when every tensor was: the others' grads are null. */
  readonly written?: readonly boolean[];
  readonly mode: Mode | undefined;
  readonly stateFormat: StateFormat;
  readonly quantization: Quantization | undefined;
  /** Tensor i's slot in its stored form. */
  slotData(tensorIndex: number, slot: string): Float32Array | Uint16Array | Q8Slot;
  /** The whole-set scalars as the dict names them (the definition's `setStateDict.read`), when it keeps some. */
  readonly setState?: Record<string, number>;
}

/** The state dict of `source`, dequantized when `options` ask; `what` names the call in errors. */
export function stateDictOf<H extends object>(source: DictSource<H>, options: StateDictOptions, what: string): OptimizerStateDict<H> {
  const { control, tensors, pendingMicroSteps } = source;
  const counts = {
    step: control ? control.step : source.stepCalls,
    stepCalls: source.stepCalls,
    tensorSteps: source.tensorSteps,
    scaler: control && source.training.scaling ? { scale: control.lossScale, growthTracker: control.growthTracker } : undefined,
    accumulation: pendingMicroSteps > 0 ? { microSteps: pendingMicroSteps, grads: tensors.map((_, i) => (source.written?.[i] === false ? null : source.accumulated!(i))) } : undefined,
    mode: source.mode,
  };
  const sd = buildStateDict(source.config, tensors, counts, (i, slot) => source.slotData(i, slot), source.stateFormat, source.quantization);
  if (source.setState) sd.setState = { ...source.setState };
  return options.dequantize ? checkedDequantized(sd, what) : sd;
}

/** The optimizer a dict is loaded into, as its checks need it. */
export interface LoadTarget<H extends object> {
  readonly definition: OptimizerDefinition<H, any>;
  readonly tensors: readonly TensorInfo[];
  /** The config now (the dict's groups must hold the same tensors and need the same kernel variant). */
  readonly config: ResolvedConfig<H>;
  readonly training: ResolvedTraining;
  readonly quantization: Quantization | undefined;
  /** Why it cannot take per-tensor steps (a dict with them would leave it unable to step); undefined when it can. */
  readonly skipRefusal?: string;
}

/** The control path's counts a load restores (the scale and tracker only where the dict has a scaler). */
export interface RestoredControl {
  step: number;
  calls: number;
  lossScale?: number;
  growthTracker?: number;
}

/** Where a front-end stores each part of a loaded dict; called only once the whole dict passed its checks. */
export interface LoadSinks<H extends object> {
  /** The dict's config, counts and mode. */
  counts(loaded: LoadedState<H>): void;
  /** The control path's counts (optimizers with it on). */
  control?(restored: RestoredControl): void;
  /** A pending accumulation's gradients (null: no micro-batch wrote the tensor), or undefined: none pending (optimizers that accumulate). */
  accumulated?(grads: readonly (Float32Array | null)[] | undefined): void;
  /**
   * The slots: their f32 values (16- and 8-bit slots decoded), and, for a q8 dict of this
   * optimizer's own quantization, their stored form (requantizing is not idempotent: it loads as is).
   */
  slots(values: LoadedState<H>['slotValues'], stored: LoadedState<H>['storedValue'] | undefined): void;
  /** The whole-set scalar words (optimizers whose definition has `setState`). */
  setState?(words: Float32Array): void;
}

/**
 * The whole-set words a dict gives `target` (checked: present exactly when the optimizer keeps
 * them), or undefined. Built from `config`, the dict's options, which the load adopts (Prodigy's
 * β powers follow the dict's betas, not those the optimizer was made with).
 */
function loadedSetState<H extends object>(target: LoadTarget<H>, config: ResolvedConfig<H>, sd: OptimizerStateDict<H>): Float32Array | undefined {
  const { definition } = target;
  const fail = refusal(`${definition.name}.loadStateDict`);
  if (!definition.setState || !definition.setStateDict) {
    if (sd.setState !== undefined) fail('the dict holds whole-set scalars (setState), which this optimizer does not keep');
    return undefined;
  }
  if (sd.setState === undefined) fail('the dict holds no setState (the whole-set scalars this optimizer keeps); it is not from stateDict() of this optimizer');
  return definition.setStateDict.words(sd.setState, definition.setState(config.groups, config.tensorGroup), config.groups, fail, sd.step);
}

/**
 * Checks `sd` against `target` in full (throwing before anything changes), then hands its parts
 * to `sinks`: counts first, then control, accumulation and slots.
 */
export function loadStateDictInto<H extends object>(target: LoadTarget<H>, sd: OptimizerStateDict<H>, sinks: LoadSinks<H>): void {
  const loaded = checkStateDict(target.definition, target.tensors, target.config, target.training, sd);
  if (loaded.tensorSteps && target.skipRefusal !== undefined) {
    const i = Math.max(0, loaded.tensorSteps.findIndex((s) => s !== loaded.step));
    throw new Error(`webgpu-optim: ${target.definition.name}: cannot load this state dict: state[${i}].step: its tensors have taken different numbers of steps (state[${i}].step ${loaded.tensorSteps[i]}, step ${loaded.step}), but this optimizer cannot skip a tensor: ${target.skipRefusal}`);
  }
  if (loaded.tensorSteps && target.definition.groupStepCount !== undefined) {
    const i = Math.max(0, loaded.tensorSteps.findIndex((s) => s !== loaded.step));
    throw new Error(`webgpu-optim: ${target.definition.name}: cannot load this state dict: state[${i}].step: its tensors have taken different numbers of steps (state[${i}].step ${loaded.tensorSteps[i]}, step ${loaded.step}), but this optimizer keeps no step count per tensor: ${target.definition.groupStepCount}`);
  }
  const unwritten = loaded.accumulated?.findIndex((g) => g === null) ?? -1;
  if (unwritten >= 0 && target.skipRefusal !== undefined) {
    throw new Error(`webgpu-optim: ${target.definition.name}: cannot load this state dict: accumulation.grads[${unwritten}] is null (no micro-batch of its unfinished accumulation wrote tensor ${unwritten}), but this optimizer cannot skip a tensor: ${target.skipRefusal}`);
  }
  const setWords = loadedSetState(target, loaded.config, sd);
  sinks.counts(loaded);
  sinks.control?.({ step: loaded.step, calls: loaded.stepCalls, ...(loaded.scaler ? { lossScale: loaded.scaler.scale, growthTracker: loaded.scaler.growthTracker } : {}) });
  sinks.accumulated?.(loaded.accumulated);
  sinks.slots(loaded.slotValues, sameQuantization(loaded.quantization, target.quantization) ? loaded.storedValue : undefined);
  if (setWords) sinks.setState!(setWords);
}
