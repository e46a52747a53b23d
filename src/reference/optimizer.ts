/**
 * The CPU reference optimizer: the same options, groups and state dict as the GPU optimizer, with
 * float32 arithmetic (Math.fround on every operation) that follows PyTorch 1.13's single-tensor
 * path operation by operation. It is the yardstick the kernels are tested against.
 */
import { resolveConfig, stepScalars, scalarCount, updatedGroups, type OptimizerOptions, type ResolvedConfig } from '../config.js';
import { getDefinition, type OptimizerName, type OptimizerOptionsMap } from '../optimizers/registry.js';
import { buildStateDict, checkStateDict, type OptimizerStateDict, type TensorInfo } from '../state-dict.js';
import { checkGradients } from '../tensors.js';

export interface ReferenceOptimizer<H extends object = Record<string, unknown>> {
  readonly name: string;
  /** The parameters, updated in place by `step`. */
  readonly params: Float32Array[];
  /** Tensor i's state slots by PyTorch name (every slot the kernel keeps, even where PyTorch has none). */
  readonly state: Record<string, Float32Array>[];
  readonly stepCount: number;
  /** Resolved hyperparameters of each group (group 0 = tensors named by no group). */
  readonly groups: readonly H[];
  /** One step with these gradients (tensor order); updates `params` and `state` in place. */
  step(grads: readonly Float32Array[]): void;
  setHyperparameters(partial: Partial<H>, group?: number): void;
  stateDict(): OptimizerStateDict<H>;
  loadStateDict(sd: OptimizerStateDict<H>): void;
}

export type NamedTensor = { name: string; data: Float32Array };

/**
 * Creates the CPU reference of optimizer `name` over `params` (updated in place).
 *
 * @example
 * const ref = createReferenceOptimizer('adam', [new Float32Array([1, 2])], { lr: 0.1 });
 * ref.step([new Float32Array([0.5, -0.5])]);
 * ref.params[0]; // Float32Array [0.9, 2.1]
 */
export function createReferenceOptimizer<N extends OptimizerName>(
  name: N,
  params: readonly (Float32Array | NamedTensor)[],
  options?: OptimizerOptions<OptimizerOptionsMap[N]>,
): ReferenceOptimizer<OptimizerOptionsMap[N]>;
export function createReferenceOptimizer(
  name: string,
  params: readonly (Float32Array | NamedTensor)[],
  options: OptimizerOptions<any> = {},
): ReferenceOptimizer<any> {
  const definition = getDefinition(name);
  if (!Array.isArray(params)) throw new TypeError('webgpu-optim: params must be an array of Float32Array');
  const tensors: TensorInfo[] = [];
  const data = params.map((entry, i) => {
    const named = entry instanceof Float32Array ? { name: String(i), data: entry } : entry;
    if (!(named?.data instanceof Float32Array)) {
      throw new TypeError(`webgpu-optim: params[${i}] must be a Float32Array or { name, data: Float32Array }`);
    }
    tensors.push({ name: named.name, length: named.data.length });
    return named.data;
  });
  let config: ResolvedConfig<any> = resolveConfig(definition, tensors.map((t) => t.name), options);
  const slots = definition.slots(config.defines).map((s) => s.name);
  const state = data.map((p, i) =>
    Object.fromEntries(
      slots.map((slot) => [slot, new Float32Array(p.length).fill(definition.initialValue(slot, config.groups[config.tensorGroup[i]!]!))]),
    ),
  );
  let stepCount = 0;
  const n = scalarCount(definition);

  return {
    name,
    params: data,
    state,
    get stepCount() {
      return stepCount;
    },
    get groups() {
      return config.groups;
    },
    step(grads) {
      checkGradients(grads, tensors);
      const scalars = stepScalars(definition, config.groups, stepCount + 1);
      data.forEach((param, i) => {
        const g = config.tensorGroup[i]!;
        definition.reference({
          param,
          grad: grads[i]!,
          state: state[i]!,
          scalars: scalars.subarray(g * n, (g + 1) * n),
          defines: config.defines,
          begin: 0,
          end: param.length,
        });
      });
      stepCount++;
    },
    setHyperparameters(partial, group) {
      const groups = updatedGroups(config, partial, group);
      config = { ...config, groups };
    },
    stateDict() {
      return buildStateDict(config, tensors, stepCount, (i, slot) => state[i]![slot]!.slice());
    },
    loadStateDict(sd) {
      const loaded = checkStateDict(definition, tensors, config, sd);
      config = loaded;
      stepCount = sd.step;
      state.forEach((slotsOfTensor, i) => {
        for (const [slot, values] of Object.entries(slotsOfTensor)) {
          values.set(sd.state[i]![slot] ?? new Float32Array(values.length));
        }
      });
    },
  };
}
