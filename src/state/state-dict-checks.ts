/**
 * The checks a state dict passes before anything is loaded from it, each naming what is wrong
 * through `fail`: the header, its tensors, its counts, its training state, the history its step
 * implies and its groups. (Its slots: state-dict-stored.ts.)
 */
import { type ResolvedConfig } from '../core/config.js';
import { isStepScalar, type OptimizerDefinition } from '../core/definition.js';
import { elementCount } from '../core/tensors.js';
import type { ResolvedTraining } from '../control/training.js';
import { describeValue, isThenable } from '../core/describe-value.js';
import { isCount, rethrownAs, type Fail } from '../core/refusal.js';
import { configOf } from './state-dict-slots.js';
import { STATE_DICT_FORMAT, STATE_DICT_VERSION, type OptimizerStateDict, type TensorInfo } from './state-dict-types.js';

/** `value` is a Float32Array of `length` values (`where` names it). */
export function checkFloatArray(value: unknown, length: number, where: string, fail: Fail): void {
  if (!(value instanceof Float32Array) || value.length !== length) fail(`${where} must be a Float32Array of length ${length}`);
}

/** The dict's own tensors (for checks against itself): names, lengths and shapes that agree. */
export function ownTensors(sd: OptimizerStateDict<any>, fail: Fail): TensorInfo[] {
  if (!Array.isArray(sd.tensors)) fail('tensors must be an array of { name, length, shape? }');
  return sd.tensors.map((t, i) => {
    if (typeof t?.name !== 'string' || !isCount(t.length)) fail(`tensor ${i} must have a name and a length (a count), got ${JSON.stringify(t)}`);
    const shapeOk = Array.isArray(t.shape) && t.shape.every(isCount) && elementCount(t.shape) === t.length;
    if (t.shape !== undefined && !shapeOk) fail(`tensor ${i} ("${t.name}") has shape ${JSON.stringify(t.shape)}, which does not hold its ${t.length} values`);
    return { name: t.name, length: t.length, shape: t.shape };
  });
}

/**
 * The dict is one of this library's: an object (a Promise is refused as a forgotten `await`, a
 * string as JSON text not yet read), in this format and version, naming its optimizer.
 */
export function checkHeader(sd: unknown, fail: Fail): asserts sd is OptimizerStateDict<any> {
  if (isThenable(sd)) fail('the state dict is a Promise: did you forget await? (stateDict() is async: loadStateDict(await other.stateDict()))');
  if (typeof sd === 'string') fail(`the state dict must be an object, got ${describeValue(sd)}: JSON text is read with stateDictFromJSON(text)`);
  if (sd === null || typeof sd !== 'object' || Array.isArray(sd)) fail(`the state dict must be an object, got ${describeValue(sd)}`);
  const header = sd as Partial<OptimizerStateDict<any>>;
  if (header.format !== undefined && header.format !== STATE_DICT_FORMAT) fail(`its format is ${describeValue(header.format)}, not "${STATE_DICT_FORMAT}"`);
  if (header.version !== undefined && header.version !== STATE_DICT_VERSION) fail(`it is version ${describeValue(header.version)}; this library reads version ${STATE_DICT_VERSION}`);
  if (typeof header.optimizer !== 'string') {
    fail(`it names no optimizer ("optimizer" is ${describeValue(header.optimizer)}): not a state dict from stateDict() or stateDictFromJSON()`);
  }
}

/** The dict is one of this library's (checkHeader), of this optimizer. */
export function checkIdentity(definition: OptimizerDefinition<any, any>, sd: OptimizerStateDict<any>, fail: Fail): void {
  checkHeader(sd, fail);
  // What to do, not only what is wrong: the state of one optimizer (or of one form of it, as
  // adamw_schedule_free and adamw_schedule_free_paper) never continues another's run.
  if (sd.optimizer !== definition.name) fail(`it belongs to optimizer "${sd.optimizer}", not ${definition.name}; to continue that run, create the optimizer as "${sd.optimizer}" and load it there`);
}

/** The dict's tensors are these: the same names and lengths, and the same shape where it has one. */
export function checkTensors(tensors: readonly TensorInfo[], sd: OptimizerStateDict<any>, fail: Fail): void {
  if (!Array.isArray(sd.tensors) || sd.tensors.length !== tensors.length) {
    fail(`it has ${Array.isArray(sd.tensors) ? sd.tensors.length : 'no'} tensors, this optimizer ${tensors.length}`);
  }
  sd.tensors.forEach((t, i) => {
    if (t?.name !== tensors[i]!.name || t?.length !== tensors[i]!.length) {
      fail(`tensor ${i} is "${t?.name}" of length ${t?.length}, expected "${tensors[i]!.name}" of length ${tensors[i]!.length}`);
    }
    // Older dicts have no shape; a shape that is there must be this tensor's.
    const own = tensors[i]!.shape ?? [tensors[i]!.length];
    if (t.shape !== undefined && JSON.stringify(t.shape) !== JSON.stringify(own)) {
      fail(`tensor ${i} ("${t.name}") has shape ${JSON.stringify(t.shape)}, this optimizer's is ${JSON.stringify(own)}`);
    }
  });
}

export function checkSteps(sd: OptimizerStateDict<any>, fail: Fail): void {
  if (!isCount(sd.step)) fail(`step ${String(sd.step)} is not a count (an integer 0 … 2^53)`);
  const stepCalls = sd.stepCalls ?? sd.step;
  if (!isCount(stepCalls) || stepCalls < sd.step) fail(`stepCalls ${String(sd.stepCalls)} must be a count ≥ step (${sd.step})`);
}

/**
 * Each tensor's own step count, `state[i].step` (PyTorch's per-parameter `state['step']`), when the
 * dict carries them: in every entry or in none, each a count ≤ `step`. Undefined when absent or all
 * equal to `step` (the optimizer then counts one step for every tensor, as before).
 */
export function checkTensorSteps(sd: OptimizerStateDict<any>, fail: Fail): number[] | undefined {
  if (!Array.isArray(sd.state)) return undefined;
  const entries = sd.state.map((entry) => (entry !== null && typeof entry === 'object' && Object.hasOwn(entry, 'step') ? entry.step : undefined));
  if (entries.every((s) => s === undefined)) return undefined;
  entries.forEach((s, i) => {
    if (s === undefined) fail(`state[${i}].step is missing: a dict with per-tensor step counts has one in every entry`);
    if (!isCount(s) || (s as number) > sd.step) fail(`state[${i}].step ${String(s)} must be an integer 0 … step (${sd.step})`);
  });
  const steps = entries as number[];
  return steps.every((s) => s === sd.step) ? undefined : steps;
}

/** The loss scaler's and the accumulation's state fit this optimizer's training options. */
export function checkTraining(sd: OptimizerStateDict<any>, training: ResolvedTraining, tensors: readonly TensorInfo[], fail: Fail) {
  if (sd.scaler !== undefined) {
    if (!training.scaling) fail('it holds a loss-scaler state but this optimizer has no lossScaling');
    const { scale, growthTracker } = sd.scaler ?? {};
    if (typeof scale !== 'number' || !(scale > 0) || !Number.isFinite(Math.fround(scale))) fail(`scaler.scale ${String(scale)} must be a finite float32 > 0`);
    if (!isCount(growthTracker) || growthTracker >= 2 ** 32) fail(`scaler.growthTracker ${String(growthTracker)} must be an integer ≥ 0`);
  } else if (training.scaling) {
    // Keeping the current scale would be a silent guess: the dict's run had its own.
    fail('it holds no loss-scaler state (scaler) but this optimizer has lossScaling; add the scaler ({ scale, growthTracker }) to the dict, e.g. from a stateDict() of this optimizer');
  }
  if (sd.accumulation !== undefined) {
    const k = training.accumulationSteps;
    const { microSteps, grads } = sd.accumulation ?? {};
    if (!Number.isSafeInteger(microSteps) || microSteps! < 1 || microSteps! >= k) {
      fail(`accumulation.microSteps ${String(microSteps)} must be an integer in [1, ${k - 1}] (this optimizer accumulates ${k})`);
    }
    if (!Array.isArray(grads) || grads.length !== tensors.length) fail(`accumulation.grads must hold one array per tensor (${tensors.length})`);
    // null: no micro-batch of the cycle wrote the tensor (PyTorch's grad None).
    grads!.forEach((g, i) => g === null || checkFloatArray(g, tensors[i]!.length, `accumulation.grads[${i}]`, fail));
  }
}

/**
 * State that follows from every step taken (NAdam's mu_product, Schedule-Free's averaging weights)
 * can be computed at the dict's step and the next one: a step count no fold reaches in bounded time
 * is refused here, before anything is loaded, not at the next step().
 */
export function checkHistory<H extends object>(definition: OptimizerDefinition<H, any>, config: ResolvedConfig<H>, step: number, fail: Fail): void {
  for (const group of config.groups) {
    for (const spec of Object.values(definition.scalars) as Parameters<typeof isStepScalar<H>>[0][]) {
      if (isStepScalar(spec)) rethrownAs(() => (spec.exact ?? spec.perStep)(group, step + 1), fail);
    }
    for (const value of Object.values(definition.scalarState ?? {})) rethrownAs(() => value(group, step), fail);
  }
}

/** The config the dict's groups describe over these tensors (its option errors named as the dict's). */
export function groupsConfig<H extends object>(definition: OptimizerDefinition<H, any>, tensors: readonly TensorInfo[], sd: OptimizerStateDict<H>, fail: Fail): ResolvedConfig<H> {
  if (!Array.isArray(sd.options?.groups) || sd.options.groups.length === 0) fail('options.groups is missing');
  return rethrownAs(() => configOf(definition, tensors.map((t) => t.name), sd.options.groups), (why) => fail(`options.groups: ${why}`));
}
