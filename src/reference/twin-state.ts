/**
 * Everything the CPU twin holds besides its front state: the parameters, every tensor's state
 * slots (f32 values, rounded as the GPU stores them), the 8-bit stored form, the accumulated
 * gradients and the control path's state.
 */
import type { OptimizerDefinition } from '../core/definition.js';
import { tensorOffsets } from '../core/layout.js';
import { elementCount } from '../core/tensors.js';
import type { ResolvedTraining } from '../control/training.js';
import type { Quantization } from '../state/q8.js';
import type { StateFormat } from '../state/state-format.js';
import type { TensorInfo } from '../state/state-dict-types.js';
import type { ResolvedOptions } from '../front/resolve.js';
import { initialControlState, type ControlState } from './gradient-control.js';
import { createQ8Twin, type Q8Twin } from './q8-twin.js';
import { createTwinRounding, type TwinRounding } from './twin-rounding.js';

export interface TwinState {
  /** The optimizer's name, as the caller gave it (error messages name it). */
  readonly name: string;
  readonly definition: OptimizerDefinition<any, any>;
  readonly tensors: readonly TensorInfo[];
  /** The parameters, updated in place. */
  readonly params: Float32Array[];
  /** Tensor i's state slots by PyTorch name, f32 (in a 16-bit or 8-bit format: the stored values, decoded). */
  readonly state: Record<string, Float32Array>[];
  readonly training: ResolvedTraining;
  readonly stateFormat: StateFormat;
  readonly quantization: Quantization | undefined;
  readonly rounding: TwinRounding;
  readonly q8: Q8Twin | undefined;
  /** The gradients summed over the pending micro-batches (accumulating optimizers only). */
  readonly accumulated: Float32Array[] | undefined;
  /** The control path's state, when it is on (replaced by a load). */
  control: ControlState | undefined;
  /** The definition's whole-set scalar state (`setState`: Prodigy's d…), when it has one. */
  readonly setState: Float32Array | undefined;
}

/** The most values of shape-derived state (Adafactor's factors) the twin allocates: 2^28 (1 GiB). */
export const MAX_TWIN_SHAPED_ELEMENTS = 2 ** 28;

/**
 * Shape-derived state is sized from the shapes, not from the values given: a tensor of shape
 * [2^32 − 1, 0] holds nothing but would need 2^32 − 1 row factors. Counted before anything is made.
 */
function checkShapedState(name: string, definition: OptimizerDefinition<any, any>, tensors: readonly TensorInfo[]): void {
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

/** Tensor i's slots at their initial values (f32, before rounding to the state format). */
function initialSlots(definition: OptimizerDefinition<any, any>, resolved: ResolvedOptions<any>, tensors: readonly TensorInfo[], params: readonly Float32Array[]) {
  const { config } = resolved;
  const slots = definition.slots(config.defines).map((s) => s.name);
  return params.map((p, i): Record<string, Float32Array> =>
    Object.fromEntries<Float32Array>([
      ...slots.map((slot): [string, Float32Array] => [
        slot,
        definition.initialFromParams?.includes(slot) ? p.slice() : new Float32Array(p.length).fill(definition.initialValue(slot, config.groups[config.tensorGroup[i]!]!)),
      ]),
      // Factored state (Adafactor) starts at 0, in each slot's own shape.
      ...(definition.shapedSlots?.(tensors[i]!.shape!) ?? []).map((s): [string, Float32Array] => [s.name, new Float32Array(elementCount(s.shape))]),
    ]),
  );
}

/** The twin's state before any step: every slot at its initial value, as stored. */
export function createTwinState(name: string, definition: OptimizerDefinition<any, any>, tensors: readonly TensorInfo[], params: Float32Array[], resolved: ResolvedOptions<any>): TwinState {
  const { training, stateFormat, quantization, config } = resolved;
  const slotSpecs = definition.slots(config.defines);
  // Stochastic rounding and 8-bit blocks follow each element's place in the packed buffers, as on the GPU.
  const offsets = tensorOffsets(tensors.map((t) => t.length));
  const rounding = createTwinRounding({ slots: slotSpecs, offsets, stateFormat, roundingSeed: resolved.roundingSeed });
  definition.checkTensors?.(`createReferenceOptimizer('${name}')`, tensors.map((t) => ({ name: t.name, shape: t.shape ?? [t.length] })), config.tensorGroup.map((g) => config.groups[g]));
  checkShapedState(name, definition, tensors);
  const state = initialSlots(definition, resolved, tensors, params);
  state.forEach((slotsOfTensor, i) => rounding.roundSlots(slotsOfTensor, i));
  return {
    name,
    definition,
    tensors,
    params,
    state,
    training,
    stateFormat,
    quantization,
    rounding,
    q8: quantization && createQ8Twin(slotSpecs, tensors, offsets, quantization, state),
    accumulated: training.accumulationSteps > 1 ? params.map((p) => new Float32Array(p.length)) : undefined,
    control: training.control ? initialControlState(training, config.groups.length) : undefined,
    setState: definition.setState?.(config.groups, config.tensorGroup),
  };
}
