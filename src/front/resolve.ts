/**
 * The one option resolver of an optimizer: `createOptimizer` (GPU) and `createReferenceOptimizer`
 * (its CPU twin) take the same options and refuse the same values with the same messages, because
 * both resolve them here, before either allocates anything.
 */
import { checkOptionsObject, checkScheduleAllowed, resolveConfig, type ResolvedConfig } from '../core/config.js';
import type { OptimizerDefinition } from '../core/definition.js';
import { describeValue } from '../core/describe-value.js';
import { resolveTraining, type ResolvedTraining, type TrainingOptions } from '../control/training.js';
import { resolveQuantization, type Quantization, type QuantizationOptions } from '../state/q8.js';
import { blockwiseCodeBits, isBlockwise, resolveStateFormat, resolveStochasticRounding, type StateFormat, type StochasticRounding } from '../state/state-format.js';

export interface OptimizerCreateOptions {
  /**
   * Scalar slots the ring starts with: steps that can be recorded into encoders not yet finished
   * before the ring has to grow (it grows by itself). Default 64, at most 4096. (The CPU twin has no
   * ring; it checks the value all the same.)
   */
  stepsInFlight?: number;
  /**
   * How the state slots are stored: 'f32' (default, PyTorch's), or 'bf16' / 'f16', 16 bits per
   * element, rounded to nearest even at every store; the arithmetic stays f32 (docs/state-formats.md).
   * Halves the state's memory and the bytes a step moves. 'q8': 8-bit block-wise (bitsandbytes'
   * dynamic maps, blocks of 256); 'q4': 4-bit block-wise (torchao's maps, blocks of 128, two codes
   * per byte; trains less well than q8). Both on every optimizer whose state is moving averages
   * of the gradient (signed map for signed slots, unsigned for squares and other non-negative
   * slots); refused, naming why, for cautious updates, Muon and Prodigy. Adafactor's factored
   * state stays f32 in every format.
   */
  stateFormat?: StateFormat;
  /**
   * 16-bit state only: round each stored value up or down at random, with the probability that
   * makes the stored value right on average (small updates are not lost), instead of to nearest.
   * `true` (seed 0) or `{ seed }`; reproducible: the noise is a hash of the seed, the update count,
   * the slot and the element, the same on every device and in the CPU reference.
   */
  stochasticRounding?: StochasticRounding;
  /**
   * Block-wise state only: `{ blockSize: 256, minQuantizedElements: 4096 }` by default under 'q8',
   * `{ blockSize: 128, minQuantizedElements: 4096 }` under 'q4' (torchao's blocks; docs/state-formats.md).
   */
  quantization?: QuantizationOptions;
}

/** Everything an optimizer's options decide, checked. */
export interface ResolvedOptions<H extends object> {
  readonly config: ResolvedConfig<H>;
  readonly training: ResolvedTraining;
  readonly stateFormat: StateFormat;
  readonly quantization: Quantization | undefined;
  /** The stochastic-rounding seed (undefined: round to nearest). */
  readonly roundingSeed: number | undefined;
  readonly stepsInFlight: number;
}

export const MAX_STEPS_IN_FLIGHT = 4096;

/**
 * Checks and resolves `given` options of optimizer `definition` over `tensors` (names and shapes);
 * `caller` names the public call in every message (e.g. `createOptimizer('adam')`).
 */
export function resolveOptions<H extends object>(
  definition: OptimizerDefinition<H, any>,
  tensors: readonly { readonly name: string; readonly shape: readonly number[] }[],
  given: unknown,
  caller: string,
): ResolvedOptions<H> {
  checkOptionsObject(given, `${caller} options`);
  const options = definition.expandOptions ? definition.expandOptions(given as Record<string, unknown>, tensors, caller) : given;
  const { stepsInFlight = 64, stateFormat: formatOption, stochasticRounding, quantization: quantizationOption, ...otherOptions } = options as OptimizerCreateOptions & TrainingOptions;
  const stateFormat = resolveStateFormat(definition, formatOption, caller);
  const quantization = resolveQuantization(quantizationOption, blockwiseCodeBits(stateFormat), caller);
  const roundingSeed = resolveStochasticRounding(stochasticRounding, stateFormat, caller);
  if (!Number.isSafeInteger(stepsInFlight) || stepsInFlight < 1 || stepsInFlight > MAX_STEPS_IN_FLIGHT) {
    throw new RangeError(`webgpu-optim: stepsInFlight must be an integer in [1, ${MAX_STEPS_IN_FLIGHT}], got ${describeValue(stepsInFlight)}`);
  }
  const { training, rest } = resolveTraining(otherOptions);
  checkScheduleAllowed(definition, training.schedule);
  const config = resolveConfig(definition, tensors.map((t) => t.name), rest);
  const noQ8 = isBlockwise(stateFormat) ? definition.noQ8State?.(config.defines) : undefined;
  if (noQ8 !== undefined) throw new Error(`webgpu-optim: ${caller}: stateFormat "${stateFormat}": ${noQ8}`);
  return { config, training, stateFormat, quantization, roundingSeed, stepsInFlight };
}
