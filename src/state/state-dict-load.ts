/** Loading a state dict: every check, against the loading optimizer, before the caller changes anything. */
import { changedOption, kernelDefines, type ResolvedConfig } from '../core/config.js';
import type { OptimizerDefinition } from '../core/definition.js';
import type { ResolvedTraining } from '../control/training.js';
import type { Q8Slot, Quantization } from './q8.js';
import { checkHistory, checkIdentity, checkSteps, checkTensors, checkTensorSteps, checkTraining, groupsConfig } from './state-dict-checks.js';
import { checkStoredState } from './state-dict-stored.js';
import type { OptimizerStateDict, TensorInfo } from './state-dict-types.js';

/** What a checked state dict restores. */
export interface LoadedState<H extends object> {
  config: ResolvedConfig<H>;
  /** Tensor i's slot values in f32 (16- and 8-bit slots decoded), to be stored in the loading optimizer's format. */
  slotValues(tensorIndex: number, slot: string): Float32Array | undefined;
  /** A q8 dict's quantization: where it equals the loading optimizer's, it loads its stored form itself. */
  quantization?: Quantization;
  /** Tensor i's slot as the dict holds it. */
  storedValue(tensorIndex: number, slot: string): Q8Slot | Float32Array | undefined;
  step: number;
  stepCalls: number;
  /** Each tensor's own step count (`state[i].step`) where they differ from `step`; undefined when none does. */
  tensorSteps?: number[];
  scaler?: { scale: number; growthTracker: number };
  /** Micro-batches pending in the accumulator, and their summed gradients (tensor order). */
  pendingMicroSteps: number;
  accumulated?: (Float32Array | null)[];
  mode?: 'train' | 'eval';
}

/**
 * Checks a state dict against this optimizer and these tensors and returns what it restores.
 * Throws (and the caller changes nothing) for another optimizer, other tensors, other group
 * membership, missing or extra slots, wrong lengths, bad counts or scaler state, or
 * hyperparameters that need another kernel variant.
 */
export function checkStateDict<H extends object>(
  definition: OptimizerDefinition<H, any>,
  tensors: readonly TensorInfo[],
  current: ResolvedConfig<H>,
  training: ResolvedTraining,
  sd: OptimizerStateDict<H>,
): LoadedState<H> {
  const fail = (why: string): never => {
    throw new Error(`webgpu-optim: ${definition.name}: cannot load this state dict: ${why}`);
  };
  checkIdentity(definition, sd, fail);
  checkTensors(tensors, sd, fail);
  checkSteps(sd, fail);
  const tensorSteps = checkTensorSteps(sd, fail);
  checkTraining(sd, training, tensors, fail);
  if (sd.mode !== undefined && !(definition.modes && (sd.mode === 'train' || sd.mode === 'eval'))) {
    fail(definition.modes ? `mode must be "train" or "eval", got ${JSON.stringify(sd.mode)}` : `${definition.name} has no train/eval modes (mode ${JSON.stringify(sd.mode)})`);
  }
  const config = groupsConfig(definition, tensors, sd, fail);
  if (config.groups.length !== current.groups.length || config.tensorGroup.some((g, i) => g !== current.tensorGroup[i])) {
    fail('its groups hold other tensors than this optimizer\'s');
  }
  if (JSON.stringify(kernelDefines(definition, config.groups)) !== JSON.stringify(current.defines)) {
    fail('its options need another kernel variant (amsgrad, nesterov, centered, momentum or maximize differ)');
  }
  const fixed = changedOption(definition.fixedAtCreation, config.groups, current.groups);
  if (fixed) {
    const { key, group: g } = fixed;
    fail(`options.groups[${g}]: "${key}" is ${JSON.stringify(config.groups[g]![key])}, this optimizer's ${JSON.stringify(current.groups[g]![key])}; it is decided when the optimizer is made (create one with the dict's)`);
  }
  checkHistory(definition, config, sd.step, fail);
  const stored = checkStoredState(definition, tensors, config, sd, tensorSteps, fail);
  return {
    config,
    slotValues: stored.slotValues,
    quantization: stored.quantization,
    storedValue: (i, slot) => sd.state[i]![slot] as Q8Slot | Float32Array | undefined,
    step: sd.step,
    stepCalls: sd.stepCalls ?? sd.step,
    tensorSteps,
    scaler: sd.scaler ? { ...sd.scaler } : undefined,
    pendingMicroSteps: sd.accumulation?.microSteps ?? 0,
    accumulated: sd.accumulation?.grads,
    mode: definition.modes ? (sd.mode ?? 'train') : undefined,
  };
}
