/**
 * Which entries a state dict holds under a config: each tensor's slots (PyTorch leaves some out)
 * and the scalar state that follows from the step (NAdam's mu_product).
 */
import { resolveConfig, type ResolvedConfig } from '../core/config.js';
import type { OptimizerDefinition } from '../core/definition.js';
import type { OptimizerStateDict, TensorInfo } from './state-dict-types.js';

/**
 * The slots tensor i has, with their shapes, given the config: PyTorch leaves some out (e.g. at
 * momentum 0); per-element slots have the tensor's shape, shaped ones (Adafactor's factors) their own.
 */
export function tensorSlots<H extends object>(config: ResolvedConfig<H>, tensor: TensorInfo, tensorIndex: number): readonly { name: string; shape: readonly number[] }[] {
  const group = config.groups[config.tensorGroup[tensorIndex]!]!;
  const shape = tensor.shape ?? [tensor.length];
  return [
    ...config.definition.groupSlots(group, config.defines).map((name) => ({ name, shape })),
    ...(config.definition.shapedSlots?.(shape) ?? []),
  ];
}

/** Tensor i's scalar state at `step` (e.g. NAdam's mu_product), by name. */
export function scalarState<H extends object>(config: ResolvedConfig<H>, tensorIndex: number, step: number): Record<string, number> {
  const group = config.groups[config.tensorGroup[tensorIndex]!]!;
  return Object.fromEntries(Object.entries(config.definition.scalarState ?? {}).map(([name, value]) => [name, value(group, step)]));
}

/** The config a dict's `options.groups` describe, over tensors named `names` (group 0 is the default). */
export function configOf<H extends object>(definition: OptimizerDefinition<H, any>, names: readonly string[], groups: OptimizerStateDict<H>['options']['groups']): ResolvedConfig<H> {
  const [base, ...rest] = groups;
  const { tensors: _defaultTensors, ...baseOptions } = base!;
  return resolveConfig(definition, names, { ...(baseOptions as Partial<H>), groups: rest.map((g) => ({ ...g })) } as never);
}

/** Each tensor's scalar state at `sd.step` under `sd`'s options (for dicts rebuilt from other forms). */
export function scalarStateOf<H extends object>(definition: OptimizerDefinition<H, any>, sd: OptimizerStateDict<H>): Record<string, number>[] {
  const config = configOf(definition, sd.tensors.map((t) => t.name), sd.options.groups);
  return sd.tensors.map((_, i) => scalarState(config, i, sd.step));
}
