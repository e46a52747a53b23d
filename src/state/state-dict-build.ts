/** Building a state dict from an optimizer's config, counts and slot contents (GPU and CPU alike). */
import type { ResolvedConfig } from '../core/config.js';
import type { Q8Slot, Quantization } from './q8.js';
import type { StateFormat } from './state-format.js';
import { scalarState, tensorSlots } from './state-dict-slots.js';
import { STATE_DICT_FORMAT, STATE_DICT_VERSION, type OptimizerStateDict, type TensorInfo } from './state-dict-types.js';

/** What a state dict counts besides its slots: steps, the loss scaler, a pending accumulation, the mode. */
export interface Counts {
  step: number;
  stepCalls: number;
  /** Each tensor's own step count where they differ (written as `state[i].step`, PyTorch's layout). */
  tensorSteps?: readonly number[];
  scaler?: { scale: number; growthTracker: number };
  accumulation?: { microSteps: number; grads: (Float32Array | null)[] };
  mode?: 'train' | 'eval';
}

/**
 * The state dict of an optimizer with this config over these tensors: each tensor's slots (as
 * `slotData` gives them, in their stored form) and scalar state, the counts, and the groups' options.
 */
export function buildStateDict<H extends object>(
  config: ResolvedConfig<H>,
  tensors: readonly TensorInfo[],
  counts: Counts,
  slotData: (tensorIndex: number, slot: string) => Float32Array | Uint16Array | Q8Slot,
  stateFormat: StateFormat = 'f32',
  quantization?: Quantization,
): OptimizerStateDict<H> {
  const sd: OptimizerStateDict<H> = {
    format: STATE_DICT_FORMAT,
    version: STATE_DICT_VERSION,
    ...(stateFormat === 'f32' ? {} : { stateFormat }),
    ...(quantization ? { quantization: { blockSize: quantization.blockSize, minQuantizedElements: quantization.minQuantizedElements } } : {}),
    optimizer: config.definition.name,
    step: counts.step,
    stepCalls: counts.stepCalls,
    tensors: tensors.map(({ name, length, shape }) => ({ name, length, shape: [...(shape ?? [length])] })),
    state: tensors.map((_, i) => ({
      ...Object.fromEntries(tensorSlots(config, tensors[i]!, i).map(({ name }) => [name, slotData(i, name)])),
      ...scalarState(config, i, counts.tensorSteps?.[i] ?? counts.step),
      ...(counts.tensorSteps ? { step: counts.tensorSteps[i]! } : {}),
    })),
    options: {
      groups: config.groups.map((options, g) => ({
        ...structuredClone(options),
        tensors: tensors.filter((_, i) => config.tensorGroup[i] === g).map((t) => t.name),
      })),
    },
  };
  if (counts.scaler) sd.scaler = counts.scaler;
  if (counts.accumulation) sd.accumulation = counts.accumulation;
  if (counts.mode) sd.mode = counts.mode;
  return sd;
}
