/**
 * The CPU reference optimizer: the same options, groups, step orchestration and state dict as the
 * GPU optimizer, with float32 arithmetic (Math.fround on every operation) that follows PyTorch
 * 1.13's single-tensor path operation by operation. It is the yardstick the kernels are tested
 * against, and it accepts, refuses and counts exactly what the GPU engine does.
 */
import { checkScheduleAllowed, updatedGroups, type OptimizerOptions, type ResolvedConfig } from '../core/config.js';
import { createBookkeeping } from '../core/bookkeeping.js';
import { applyStepEntries, namedScalars, packScalars, ROUNDING_STEP, scalarLayout, stepEntries } from '../core/scalars.js';
import { getDefinition, type OptimizerName, type OptimizerOptionsMap } from '../optimizers/registry.js';
import { checkSchedule, type LrSchedule } from '../core/schedules.js';
import { buildStateDict, checkStateDict, checkStateDictOptions, checkedDequantized, type OptimizerStateDict, type StateDictOptions, type TensorInfo } from '../state/state-dict.js';
import { resolveOptions, type OptimizerCreateOptions } from '../front/resolve.js';
import { encodeState, roundingNoise, roundToFormat, slotCodec, type SlotCodec, type StateFormat } from '../state/state-format.js';
import { tensorOffsets } from '../core/layout.js';
import { sameQuantization } from '../state/q8.js';
import { createQ8Twin } from './q8-twin.js';
import { checkGradients, checkTensorSpecs, elementCount, shapeOf } from '../core/tensors.js';
import { type TrainingOptions } from '../control/training.js';
import { controlStep, initialControlState, type ControlState } from './gradient-control.js';
import type { OptimizerDefinition } from '../core/definition.js';

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
  /** Resolved hyperparameters of each group, read-only (group 0 = tensors named by no group). */
  readonly groups: readonly Readonly<H>[];
  /** One step with these gradients (tensor order); updates `params` and `state` in place. */
  step(grads: readonly Float32Array[]): void;
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

/** A named tensor; `shape` (product = data.length) is kept for state dicts and checkpoints. */
export type NamedTensor = { name: string; data: Float32Array; shape?: readonly number[] };

function namedParams(params: unknown): { tensors: TensorInfo[]; data: Float32Array[] } {
  if (!Array.isArray(params)) throw new TypeError('webgpu-optim: params must be an array of Float32Array or { name, data }');
  const tensors: TensorInfo[] = [];
  const data = params.map((entry, i) => {
    const named = entry instanceof Float32Array ? { name: String(i), data: entry } : entry;
    if (!(named?.data instanceof Float32Array)) {
      throw new TypeError(`webgpu-optim: params[${i}] must be a Float32Array or { name, data: Float32Array }`);
    }
    tensors.push({ name: named.name, length: named.data.length, shape: named.shape });
    return named.data as Float32Array;
  });
  checkTensorSpecs(tensors);
  return { tensors: tensors.map((t) => ({ ...t, shape: shapeOf(t) })), data };
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
  const { config: initialConfig, training, stateFormat, quantization, roundingSeed } = resolveOptions(definition, tensors.map((t) => t.name), options, `createReferenceOptimizer('${name}')`);
  let schedule = training.schedule;
  let config: ResolvedConfig<any> = initialConfig;
  const slotSpecs = definition.slots(config.defines);
  const slots = slotSpecs.map((s) => s.name);
  /** Each per-element slot's codec (none: f32); rounding through it is the twin of a GPU store. */
  const codecs = new Map(slotSpecs.map((s) => [s.name, slotCodec(s, stateFormat)]));
  // Stochastic rounding hashes each element's place in the packed buffers, as the GPU does.
  const offsets = tensorOffsets(tensors.map((t) => t.length));
  const slotIndex = new Map(slots.map((slot, k) => [slot, k]));
  /**
   * The value element e of tensor i's slot keeps when x is stored: stochastically rounded at update
   * `step` when that is on (a kernel's store), else to nearest (initial values and loads).
   */
  const storedValue = (codec: SlotCodec, slot: string, x: number, i: number, e: number, step?: number) =>
    codec.decode(roundingSeed === undefined || step === undefined ? codec.encode(x) : codec.encodeStochastic(x, roundingNoise(roundingSeed, step, slotIndex.get(slot)!, offsets[i]! + e)));
  /** Rounds tensor i's slots to what the GPU stores (at update `step`; without it, to nearest). */
  const roundSlots = (slotsOfTensor: Record<string, Float32Array>, i: number, step?: number) => {
    for (const slot of slots) {
      const codec = codecs.get(slot);
      const values = slotsOfTensor[slot]!;
      if (!codec) continue;
      if (roundingSeed === undefined || step === undefined) roundToFormat(codec, values);
      else for (let e = 0; e < values.length; e++) values[e] = storedValue(codec, slot, values[e]!, i, e, step);
    }
  };
  checkShapedState(name, definition, tensors);
  const state = data.map((p, i): Record<string, Float32Array> =>
    Object.fromEntries<Float32Array>([
      ...slots.map((slot): [string, Float32Array] => [
        slot,
        definition.initialFromParams?.includes(slot) ? p.slice() : new Float32Array(p.length).fill(definition.initialValue(slot, config.groups[config.tensorGroup[i]!]!)),
      ]),
      // Factored state (Adafactor) starts at 0, in each slot's own shape.
      ...(definition.shapedSlots?.(tensors[i]!.shape!) ?? []).map((s): [string, Float32Array] => [s.name, new Float32Array(elementCount(s.shape))]),
    ]),
  );
  // The initial values as stored.
  state.forEach((slotsOfTensor, i) => roundSlots(slotsOfTensor, i));
  const q8 = quantization && createQ8Twin(slotSpecs, tensors, offsets, quantization, state);
  let mode: 'train' | 'eval' | undefined = definition.modes?.initial;
  const n = scalarLayout(definition).names.length;
  const k = training.accumulationSteps;
  const accumulated = k > 1 ? data.map((p) => new Float32Array(p.length)) : undefined;
  let control = training.control ? initialControlState(training, config.groups.length) : undefined;
  const book = createBookkeeping(k);

  /** The CPU twin of the `toEval` / `toTrain` dispatch. */
  const switchMode = (to: 'train' | 'eval') => {
    if (!definition.modes) throw new Error(`webgpu-optim: ${name} has no train/eval modes`);
    if (mode === to) return;
    const scalars = packScalars(definition, config.groups, book.stepCount + 1, { deviceStep: training.control });
    data.forEach((param, i) => {
      const g = config.tensorGroup[i]!;
      definition.modes!.switchTwin({ param, state: state[i]!, h: namedScalars(definition, scalars.subarray(g * n, (g + 1) * n)), to });
    });
    mode = to;
  };

  /** The gradients the update sees and the scalars with the step taken, or undefined when skipped. */
  const controlled = (source: readonly Float32Array[], scalars: Float32Array) => {
    if (!control) return source;
    const effective = controlStep(training, control, source, config.tensorGroup, config.groups.length);
    if (effective) {
      config.groups.forEach((options, g) => applyStepEntries(definition, scalars.subarray(g * n, (g + 1) * n), stepEntries(definition, options, control!.step)));
    }
    return effective;
  };

  return {
    name,
    params: data,
    state,
    stateFormat,
    get stepCount() {
      return book.stepCount;
    },
    get microStepCount() {
      return book.microStepCount;
    },
    get control() {
      return control;
    },
    get groups() {
      return config.groups;
    },
    get mode() {
      return mode;
    },
    train: () => switchMode('train'),
    eval: () => switchMode('eval'),
    step(grads) {
      if (mode === 'eval') throw new Error(`webgpu-optim: ${name}: the parameters hold the averaged point (eval mode); call train() before step()`);
      book.run(
        (plan) => {
          checkGradients(grads, tensors);
          return plan.due ? packScalars(definition, config.groups, plan.update, { schedule, deviceStep: training.control }) : undefined;
        },
        {
          accumulate: accumulated
            ? () =>
                accumulated.forEach((acc, i) => {
                  const g = grads[i]!;
                  for (let j = 0; j < acc.length; j++) acc[j] = Math.fround(acc[j]! + g[j]!);
                })
            : undefined,
          update: (_update, scalars) => {
            const effective = controlled(accumulated ?? grads, scalars);
            if (effective) {
              data.forEach((param, i) => {
                const g = config.tensorGroup[i]!;
                const h = namedScalars(definition, scalars.subarray(g * n, (g + 1) * n));
                const step = (h as unknown as Record<string, number>)[ROUNDING_STEP]!;
                const stored = (slot: string, x: number, e: number) => {
                  const codec = codecs.get(slot);
                  return codec ? storedValue(codec, slot, x, i, e, step) : x;
                };
                const storeTensor = (slot: string, values: Float32Array) => q8?.storeTensor(i, slot, values);
                definition.reference({ param, grad: effective[i]!, state: state[i]!, h, defines: config.defines, begin: 0, end: param.length, shape: tensors[i]!.shape!, stored, storeTensor });
                roundSlots(state[i]!, i, step);
              });
              q8?.store();
            }
            accumulated?.forEach((acc) => acc.fill(0));
          },
        },
      );
    },
    setHyperparameters(partial, group) {
      config = { ...config, groups: updatedGroups(config, partial, group, book.stepCount > 0) };
    },
    setLrSchedule(next) {
      checkSchedule(next);
      checkScheduleAllowed(definition, next);
      schedule = next;
    },
    stateDict(dictOptions) {
      const { dequantize } = checkStateDictOptions(dictOptions, `${name}.stateDict`);
      const sd = buildStateDict(
        config,
        tensors,
        {
          step: control ? control.step : book.stepCount,
          stepCalls: book.stepCount,
          scaler: control && training.scaling ? { scale: control.lossScale, growthTracker: control.growthTracker } : undefined,
          accumulation: accumulated && book.pendingMicroSteps > 0 ? { microSteps: book.pendingMicroSteps, grads: accumulated.map((a) => a.slice()) } : undefined,
          mode,
        },
        (i, slot) => {
          const codec = codecs.get(slot);
          return q8?.stored(i, slot) ?? (codec ? encodeState(codec, state[i]![slot]!) : state[i]![slot]!.slice());
        },
        stateFormat,
        quantization,
      );
      return dequantize ? checkedDequantized(sd, `${name}.stateDict`) : sd;
    },
    loadStateDict(sd) {
      const loaded = checkStateDict(definition, tensors, config, training, sd);
      config = loaded.config;
      mode = loaded.mode;
      book.restore(loaded.stepCalls, loaded.pendingMicroSteps);
      accumulated?.forEach((acc, i) => (loaded.accumulated ? acc.set(loaded.accumulated[i]!) : acc.fill(0)));
      if (control) {
        control = { ...initialControlState(training, config.groups.length), step: loaded.step, calls: loaded.stepCalls };
        if (loaded.scaler) Object.assign(control, { lossScale: loaded.scaler.scale, growthTracker: loaded.scaler.growthTracker });
      }
      state.forEach((slotsOfTensor, i) => {
        for (const [slot, values] of Object.entries(slotsOfTensor)) values.set(loaded.slotValues(i, slot) ?? new Float32Array(values.length));
        roundSlots(slotsOfTensor, i);
      });
      // A q8 dict of the same quantization: its stored form itself (requantizing is not idempotent).
      if (q8 && sameQuantization(loaded.quantization, quantization)) q8.load(loaded.storedValue);
      else q8?.store();
    },
  };
}

/** The most values of shape-derived state (Adafactor's factors) the twin allocates: 2^28 (1 GiB). */
export const MAX_TWIN_SHAPED_ELEMENTS = 2 ** 28;

/**
 * Shape-derived state is sized from the shapes, not from the values given: a tensor of shape
 * [2^32 − 1, 0] holds nothing but would need 2^32 − 1 row factors. Counted before anything is made.
 */
function checkShapedState(name: string, definition: OptimizerDefinition<any, any>, tensors: readonly { name: string; shape?: readonly number[] }[]): void {
  let total = 0;
  for (const t of tensors) {
    for (const slot of definition.shapedSlots?.(t.shape!) ?? []) {
      total += elementCount(slot.shape);
      if (total > MAX_TWIN_SHAPED_ELEMENTS) {
        throw new RangeError(`webgpu-optim: createReferenceOptimizer('${name}'): tensor "${t.name}" of shape [${t.shape!.join(', ')}] brings its ${slot.name} state to ${total} values, over the ${MAX_TWIN_SHAPED_ELEMENTS} the CPU twin allocates`);
      }
    }
  }
}
