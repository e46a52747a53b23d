/**
 * The CPU reference optimizer: the same options, groups and state dict as the GPU optimizer, with
 * float32 arithmetic (Math.fround on every operation) that follows PyTorch 1.13's single-tensor
 * path operation by operation. It is the yardstick the kernels are tested against.
 */
import { resolveConfig, stepScalars, scalarCount, updatedGroups, type OptimizerOptions, type ResolvedConfig } from '../config.js';
import type { LrSchedule } from '../schedules.js';
import { resolveTraining, type TrainingOptions } from '../training.js';
import { controlStep, initialControlState, type ControlState } from './gradient-control.js';
import { getDefinition, type OptimizerName, type OptimizerOptionsMap } from '../optimizers/registry.js';
import { buildStateDict, checkStateDict, type OptimizerStateDict, type TensorInfo } from '../state-dict.js';
import { checkGradients } from '../tensors.js';

export interface ReferenceOptimizer<H extends object = Record<string, unknown>> {
  readonly name: string;
  /** The parameters, updated in place by `step`. */
  readonly params: Float32Array[];
  /** Tensor i's state slots by PyTorch name (every slot the kernel keeps, even where PyTorch has none). */
  readonly state: Record<string, Float32Array>[];
  /** Optimizer steps (updates, skipped ones included); `stateDict().step` excludes skipped steps. */
  readonly stepCount: number;
  readonly microStepCount: number;
  /** The control path's state (norms, loss scale, device step), when it is on. */
  readonly control?: Readonly<ControlState>;
  /** Resolved hyperparameters of each group (group 0 = tensors named by no group). */
  readonly groups: readonly H[];
  /** One step with these gradients (tensor order); updates `params` and `state` in place. */
  step(grads: readonly Float32Array[]): void;
  setHyperparameters(partial: Partial<H>, group?: number): void;
  setLrSchedule(schedule: LrSchedule | undefined): void;
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
  options?: OptimizerOptions<OptimizerOptionsMap[N]> & TrainingOptions,
): ReferenceOptimizer<OptimizerOptionsMap[N]>;
export function createReferenceOptimizer(
  name: string,
  params: readonly (Float32Array | NamedTensor)[],
  options: OptimizerOptions<any> & TrainingOptions & { stepsInFlight?: number } = {},
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
  const { stepsInFlight: _ignored, ...withoutEngineOptions } = options ?? {};
  const { training, rest } = resolveTraining(withoutEngineOptions);
  let schedule = training.schedule;
  let config: ResolvedConfig<any> = resolveConfig(definition, tensors.map((t) => t.name), rest);
  const slots = definition.slots(config.defines).map((s) => s.name);
  const state = data.map((p, i) =>
    Object.fromEntries(
      slots.map((slot) => [slot, new Float32Array(p.length).fill(definition.initialValue(slot, config.groups[config.tensorGroup[i]!]!))]),
    ),
  );
  let stepCount = 0;
  let microStepCount = 0;
  const n = scalarCount(definition);
  const k = training.accumulationSteps;
  const accumulated = k > 1 ? data.map((p) => new Float32Array(p.length)) : undefined;
  let control = training.control ? initialControlState(training, config.groups.length) : undefined;

  return {
    name,
    params: data,
    state,
    get stepCount() {
      return stepCount;
    },
    get microStepCount() {
      return microStepCount;
    },
    get control() {
      return control;
    },
    get groups() {
      return config.groups;
    },
    step(grads) {
      checkGradients(grads, tensors);
      const due = (microStepCount + 1) % k === 0;
      // Scalars first: a schedule that returns a bad lr throws before anything changes.
      const scalars = due ? stepScalars(definition, config.groups, stepCount + 1, undefined, { schedule, deviceStep: training.control }) : undefined;
      let source: readonly Float32Array[] = grads;
      if (accumulated) {
        accumulated.forEach((acc, i) => {
          const g = grads[i]!;
          for (let j = 0; j < acc.length; j++) acc[j] = Math.fround(acc[j]! + g[j]!);
        });
        source = accumulated;
      }
      microStepCount++;
      if (!due) return;
      let effective: readonly Float32Array[] | undefined = source;
      if (control) {
        effective = controlStep(training, control, source, config.tensorGroup, config.groups.length);
        if (effective) {
          // Step-dependent scalars of the step actually taken (skipped steps do not count).
          for (let g = 0; g < config.groups.length; g++) {
            const [a, b] = definition.stepTable(config.groups[g], control.step);
            definition.applyStepTable(scalars!.subarray(g * n, (g + 1) * n), [Math.fround(a), Math.fround(b)]);
          }
        }
      }
      if (effective) {
        data.forEach((param, i) => {
          const g = config.tensorGroup[i]!;
          definition.reference({
            param,
            grad: effective![i]!,
            state: state[i]!,
            scalars: scalars!.subarray(g * n, (g + 1) * n),
            defines: config.defines,
            begin: 0,
            end: param.length,
          });
        });
      }
      accumulated?.forEach((acc) => acc.fill(0));
      stepCount++;
    },
    setHyperparameters(partial, group) {
      const groups = updatedGroups(config, partial, group);
      config = { ...config, groups };
    },
    setLrSchedule(next) {
      if (next !== undefined && typeof next !== 'function') throw new TypeError('webgpu-optim: the lr schedule must be a function (t, baseLr) => lr');
      schedule = next;
    },
    stateDict() {
      const sd = buildStateDict(config, tensors, control ? control.step : stepCount, (i, slot) => state[i]![slot]!.slice());
      if (control && training.scaling) sd.scaler = { scale: control.lossScale, growthTracker: control.growthTracker };
      return sd;
    },
    loadStateDict(sd) {
      const loaded = checkStateDict(definition, tensors, config, sd);
      config = loaded;
      stepCount = sd.step;
      microStepCount = sd.step * k;
      accumulated?.forEach((acc) => acc.fill(0));
      if (control) {
        control = { ...initialControlState(training, config.groups.length), step: sd.step };
        if (sd.scaler) Object.assign(control, { lossScale: sd.scaler.scale, growthTracker: sd.scaler.growthTracker });
      }
      state.forEach((slotsOfTensor, i) => {
        for (const [slot, values] of Object.entries(slotsOfTensor)) {
          values.set(sd.state[i]![slot] ?? new Float32Array(values.length));
        }
      });
    },
  };
}
