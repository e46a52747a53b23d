/**
 * The CPU reference optimizer: the same options, groups, step orchestration and state dict as the
 * GPU optimizer, with float32 arithmetic (Math.fround on every operation) that follows PyTorch
 * 1.13's single-tensor path operation by operation. It is the yardstick the kernels are tested
 * against, and it accepts, refuses and counts exactly what the GPU engine does: both resolve their
 * options, keep their front state and run the state-dict flow through src/front.
 */
import type { OptimizerOptions } from '../core/config.js';
import type { LrSchedule } from '../core/schedules.js';
import { getDefinition, type OptimizerName, type OptimizerOptionsMap } from '../optimizers/registry.js';
import type { TrainingOptions } from '../control/training.js';
import type { StateFormat } from '../state/state-format.js';
import type { StateDictOptions } from '../state/state-dict-dequantize.js';
import type { OptimizerStateDict } from '../state/state-dict-types.js';
import { createFrontState, withFrontView } from '../front/front-state.js';
import { resolveOptions, type OptimizerCreateOptions } from '../front/resolve.js';
import type { ControlState } from './gradient-control.js';
import { namedParams, type NamedTensor } from './twin-params.js';
import { createTwinState } from './twin-state.js';
import { twinStep } from './twin-step.js';
import { switchTwinMode } from './twin-modes.js';
import { loadTwinStateDict, twinStateDict } from './twin-state-dict.js';

export type { NamedTensor } from './twin-params.js';
export { MAX_TWIN_SHAPED_ELEMENTS } from './twin-state.js';

export interface ReferenceOptimizer<H extends object = Record<string, unknown>> {
  readonly name: string;
  /** The parameters, updated in place by `step`. */
  readonly params: Float32Array[];
  /**
   * Tensor i's state slots by PyTorch name (every slot the kernel keeps, even where PyTorch has
   * none), as f32 values (in a 16-bit stateFormat: the stored values, decoded).
   */
  readonly state: Record<string, Float32Array>[];
  /** How the state slots are stored ('f32', 'bf16' or 'f16'), as on the GPU. */
  readonly stateFormat: StateFormat;
  /** Updates made, skipped ones included (the lr schedule's position); `stateDict().step` excludes skips. */
  readonly stepCount: number;
  readonly microStepCount: number;
  /** The control path's state (norms, loss scale, device step), when it is on. */
  readonly control?: Readonly<ControlState>;
  /** The whole-set scalar words of an optimizer that keeps them (Prodigy's d, d_numerator, d_max, k…), as its GPU buffer holds them. */
  readonly setState?: Readonly<Float32Array>;
  /** Resolved hyperparameters of each group, read-only (group 0 = tensors named by no group). */
  readonly groups: readonly Readonly<H>[];
  /**
   * One step with these gradients (tensor order); updates `params` and `state` in place. A `null`
   * entry is a tensor without gradient this step (PyTorch's `grad is None`): its parameters, state
   * and own step count are left as they are, where the optimizer can skip a tensor (else refused).
   */
  step(grads: readonly (Float32Array | null)[]): void;
  setHyperparameters(partial: Partial<H>, group?: number): void;
  setLrSchedule(schedule: LrSchedule | undefined): void;
  /** The state dict, slots in their stored form (or f32 with `{ dequantize: true }`), as the GPU's. */
  stateDict(options?: StateDictOptions): OptimizerStateDict<H>;
  loadStateDict(sd: OptimizerStateDict<H>): void;
  /** Optimizers with train/eval modes: which point `params` hold. */
  readonly mode?: 'train' | 'eval';
  train(): void;
  eval(): void;
}

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
  options?: OptimizerOptions<OptimizerOptionsMap[N]> & TrainingOptions & OptimizerCreateOptions,
): ReferenceOptimizer<OptimizerOptionsMap[N]>;
export function createReferenceOptimizer(name: string, params: readonly (Float32Array | NamedTensor)[], options: object = {}): ReferenceOptimizer<any> {
  const definition = getDefinition(name);
  const { tensors, data } = namedParams(params);
  const resolved = resolveOptions(definition, tensors.map((t) => ({ name: t.name, shape: t.shape ?? [t.length] })), options, `createReferenceOptimizer('${name}')`);
  const front = createFrontState(definition, resolved);
  const twin = createTwinState(name, definition, tensors, data, resolved);
  return withFrontView(front, {
    name,
    params: data,
    state: twin.state,
    stateFormat: resolved.stateFormat,
    setState: twin.setState,
    get control() {
      return twin.control;
    },
    train: () => switchTwinMode(front, twin, 'train'),
    eval: () => switchTwinMode(front, twin, 'eval'),
    step: (grads: readonly (Float32Array | null)[]) => twinStep(front, twin, grads),
    setHyperparameters: (partial: Partial<any>, group?: number) => void front.setHyperparameters(partial, group),
    setLrSchedule: (next: LrSchedule | undefined) => front.setLrSchedule(next),
    stateDict: (dictOptions?: StateDictOptions) => twinStateDict(front, twin, dictOptions),
    loadStateDict: (sd: OptimizerStateDict<any>) => loadTwinStateDict(front, twin, sd),
  });
}
