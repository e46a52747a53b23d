/**
 * Dequantized state dicts: every slot in f32 and no stateFormat, for PyTorch, TF.js or an f32
 * optimizer (`stateDict({ dequantize: true })` and dequantizeStateDict).
 */
import { describeValue } from '../core/describe-value.js';
import { rethrownAs } from '../core/refusal.js';
import { getDefinition } from '../optimizers/registry.js';
import { checkHeader, checkIdentity, checkSteps, groupsConfig, ownTensors, checkTensorSteps } from './state-dict-checks.js';
import { checkStoredState } from './state-dict-stored.js';
import type { OptimizerStateDict } from './state-dict-types.js';

/** Options of `stateDict()`. */
export interface StateDictOptions {
  /** Slots in f32 (16-bit ones decoded exactly, 8-bit ones to the values the step loads) and no `stateFormat`: for PyTorch, TF.js or an f32 optimizer. */
  dequantize?: boolean;
}

/** Checks `stateDict()`'s options, naming the call. */
export function checkStateDictOptions(options: unknown, what: string): StateDictOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`webgpu-optim: ${what}: options must be an object, got ${describeValue(options)}`);
  for (const [key, value] of Object.entries(options)) {
    if (key !== 'dequantize') throw new Error(`webgpu-optim: ${what}: unknown option "${key}"; known: dequantize`);
    if (typeof value !== 'boolean') throw new TypeError(`webgpu-optim: ${what}: dequantize must be a boolean, got ${describeValue(value)}`);
  }
  return options as StateDictOptions;
}

/**
 * The same dict with every 16-bit and 8-bit slot decoded to f32 and no `stateFormat` (nor
 * `quantization`): what PyTorch, TF.js and an f32 optimizer read. 16-bit slots decode exactly; an
 * 8-bit slot gives the values the optimizer steps from (each code's map value times its block's
 * absmax). The dict is checked first as a load checks it, against its own tensors and groups: a
 * dict of an unknown format, without its quantization, or with a slot of the wrong type or length
 * is refused (nothing is truncated or made NaN). An f32 dict, once checked, is returned as it is.
 *
 * @example
 * const sd = await adam.stateDict();                      // adam created with stateFormat: 'q8'
 * const plain = dequantizeStateDict(sd);                  // plain.state[0].exp_avg: Float32Array
 */
export function dequantizeStateDict<H extends object>(sd: OptimizerStateDict<H>): OptimizerStateDict<H> {
  return checkedDequantized(sd, 'dequantizeStateDict');
}

/** dequantizeStateDict for the public call `what` (its errors name it). */
export function checkedDequantized<H extends object>(sd: OptimizerStateDict<H>, what: string): OptimizerStateDict<H> {
  const fail = (why: string): never => {
    throw new Error(`webgpu-optim: ${what}: ${why}`);
  };
  checkHeader(sd, fail);
  const definition = rethrownAs(() => getDefinition(sd.optimizer), fail);
  checkIdentity(definition, sd, fail);
  const tensors = ownTensors(sd, fail);
  checkSteps(sd, fail);
  const tensorSteps = checkTensorSteps(sd, fail);
  const stored = checkStoredState(definition, tensors, groupsConfig(definition, tensors, sd, fail), sd, tensorSteps, fail);
  if (sd.stateFormat === undefined) return sd;
  const { stateFormat: _format, quantization: _quantization, ...rest } = sd;
  const decoded = (i: number, name: string, value: unknown) => (typeof value === 'number' ? value : stored.slotValues(i, name)!);
  return { ...rest, state: sd.state.map((slots, i) => Object.fromEntries(Object.entries(slots).map(([name, value]) => [name, decoded(i, name, value)]))) };
}
