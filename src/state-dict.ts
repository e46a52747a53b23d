/** The state dict shared by the GPU optimizer and its CPU reference, and its checks on load. */
import { kernelDefines, resolveConfig, type ResolvedConfig } from './config.js';
import type { OptimizerDefinition } from './optimizers/definition.js';

export interface OptimizerStateDict<H extends object = Record<string, unknown>> {
  /** Optimizer name, e.g. "adam". */
  optimizer: string;
  /** Steps taken so far (PyTorch's `step` state). */
  step: number;
  /** Name and length of each tensor, in tensor order. */
  tensors: { name: string; length: number }[];
  /** `state[i]` holds tensor i's state slots by their PyTorch names (`exp_avg`, `sum`, …). */
  state: Record<string, Float32Array>[];
  /** Hyperparameters: `groups[0]` is the default group, then the groups given at creation. */
  options: { groups: (H & { tensors: string[] })[] };
  /** Loss-scaler state (GradScaler's scale and growth tracker), with `lossScaling`. */
  scaler?: { scale: number; growthTracker: number };
}

export interface TensorInfo {
  name: string;
  length: number;
}

/** The slot names each tensor has, given the config (PyTorch leaves some out, e.g. momentum 0). */
export function tensorSlots<H extends object>(config: ResolvedConfig<H>, tensorIndex: number): readonly string[] {
  const group = config.groups[config.tensorGroup[tensorIndex]!]!;
  return config.definition.groupSlots(group, config.defines);
}

export function buildStateDict<H extends object>(
  config: ResolvedConfig<H>,
  tensors: readonly TensorInfo[],
  step: number,
  slotData: (tensorIndex: number, slot: string) => Float32Array,
): OptimizerStateDict<H> {
  return {
    optimizer: config.definition.name,
    step,
    tensors: tensors.map(({ name, length }) => ({ name, length })),
    state: tensors.map((_, i) => Object.fromEntries(tensorSlots(config, i).map((slot) => [slot, slotData(i, slot)]))),
    options: {
      groups: config.groups.map((options, g) => ({
        ...structuredClone(options),
        tensors: tensors.filter((_, i) => config.tensorGroup[i] === g).map((t) => t.name),
      })),
    },
  };
}

/**
 * Checks a state dict against this optimizer and these tensors and returns the config it holds.
 * Throws (and the caller changes nothing) for another optimizer, other tensors, missing or extra
 * slots, wrong lengths, or hyperparameters that need another kernel variant.
 */
export function checkStateDict<H extends object>(
  definition: OptimizerDefinition<H>,
  tensors: readonly TensorInfo[],
  current: ResolvedConfig<H>,
  sd: OptimizerStateDict<H>,
): ResolvedConfig<H> {
  const fail = (why: string): never => {
    throw new Error(`webgpu-optim: ${definition.name}: cannot load this state dict: ${why}`);
  };
  if (sd === null || typeof sd !== 'object') fail('it is not an object');
  if (sd.optimizer !== definition.name) fail(`it belongs to optimizer "${String(sd.optimizer)}"`);
  if (!Number.isSafeInteger(sd.step) || sd.step < 0) fail(`step ${String(sd.step)} is not a count`);
  if (!Array.isArray(sd.tensors) || sd.tensors.length !== tensors.length) {
    fail(`it has ${sd.tensors?.length} tensors, this optimizer ${tensors.length}`);
  }
  sd.tensors.forEach((t, i) => {
    if (t.name !== tensors[i]!.name || t.length !== tensors[i]!.length) {
      fail(`tensor ${i} is "${t.name}" of length ${t.length}, expected "${tensors[i]!.name}" of length ${tensors[i]!.length}`);
    }
  });
  if (!Array.isArray(sd.options?.groups) || sd.options.groups.length === 0) fail('options.groups is missing');
  const [base, ...rest] = sd.options.groups;
  const { tensors: _defaultTensors, ...baseOptions } = base!;
  const config = resolveConfig(definition, tensors.map((t) => t.name), {
    ...(baseOptions as Partial<H>),
    groups: rest.map((g) => ({ ...g })),
  } as never);
  if (JSON.stringify(kernelDefines(definition, config.groups)) !== JSON.stringify(current.defines)) {
    fail('its options need another kernel variant (amsgrad, nesterov, centered, momentum or maximize differ)');
  }
  if (!Array.isArray(sd.state) || sd.state.length !== tensors.length) fail('state must have one entry per tensor');
  sd.state.forEach((slots, i) => {
    const expected = [...tensorSlots(config, i)].sort();
    const got = Object.keys(slots ?? {}).sort();
    if (JSON.stringify(expected) !== JSON.stringify(got)) {
      fail(`tensor "${tensors[i]!.name}" has slots [${got}], expected [${expected}]`);
    }
    for (const slot of got) {
      const data = slots[slot];
      if (!(data instanceof Float32Array) || data.length !== tensors[i]!.length) {
        fail(`state[${i}].${slot} must be a Float32Array of length ${tensors[i]!.length}`);
      }
    }
  });
  return config;
}
