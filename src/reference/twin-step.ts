/**
 * The CPU twin's step, through the same bookkeeping as the GPU's: accumulate, run the control path
 * (unscale, clip, skip), then each tensor's reference update with every store rounded as the GPU
 * stores it.
 */
import { applyStepEntries, namedScalars, ROUNDING_STEP, scalarLayout, stepEntries } from '../core/scalars.js';
import { checkGradients } from '../core/tensors.js';
import type { FrontState } from '../front/front-state.js';
import { controlStep } from './gradient-control.js';
import type { TwinState } from './twin-state.js';
import { countStepPresence, stepPresence } from '../front/window-presence.js';

/** Group g's scalars out of every group's packed ones. */
function groupScalars(twin: TwinState, scalars: Float32Array, g: number): Float32Array {
  const n = scalarLayout(twin.definition).names.length;
  return scalars.subarray(g * n, (g + 1) * n);
}

/** The gradients the update sees (the control path's, with the step it took in the scalars), or undefined when it skips. */
function controlled(front: FrontState<any>, twin: TwinState, source: readonly Float32Array[], scalars: Float32Array): readonly Float32Array[] | undefined {
  const { control, training, definition } = twin;
  if (!control) return source;
  const { groups, tensorGroup } = front.config;
  const effective = controlStep(training, control, source, tensorGroup, groups.length);
  if (effective) groups.forEach((options, g) => applyStepEntries(definition, groupScalars(twin, scalars, g), stepEntries(definition, options, control.step)));
  return effective;
}

/**
 * Each tensor's reference update with these gradients and scalars (or, for an optimizer with
 * whole-set state, its one `setReference` call); the stores rounded (q8: stored) as on the GPU.
 * `present` (the per-tensor path): `scalars` holds one row per tensor, at its own step, and a
 * tensor without gradient is left untouched.
 */
function updateTensors(front: FrontState<any>, twin: TwinState, grads: readonly Float32Array[], scalars: Float32Array, present?: readonly boolean[]): void {
  const { definition, rounding, q8, state, tensors } = twin;
  // A per-tensor row: the schema's scalars, then gradientAbsent.
  const rowLength = scalarLayout(definition).names.length + 1;
  const rowOf = (i: number) => (present ? scalars.subarray(i * rowLength, (i + 1) * rowLength) : groupScalars(twin, scalars, front.config.tensorGroup[i]!));
  if (definition.setReference) {
    updateSet(front, twin, grads, rowOf, present);
    return;
  }
  twin.params.forEach((param, i) => {
    if (present && !present[i]) return;
    const h = namedScalars(definition, rowOf(i));
    const step = (h as unknown as Record<string, number>)[ROUNDING_STEP]!;
    const stored = (slot: string, x: number, e: number) => rounding.stored(slot, x, i, e, step);
    const storeTensor = (slot: string, values: Float32Array) => q8?.storeTensor(i, slot, values);
    definition.reference({ param, grad: grads[i]!, state: state[i]!, h, defines: front.config.defines, begin: 0, end: param.length, shape: tensors[i]!.shape!, stored, storeTensor });
    rounding.roundSlots(state[i]!, i, step);
  });
  q8?.store(present);
}

/**
 * The tensors with a gradient (`null`: none this step, PyTorch's `grad is None`) and the gradients
 * with zeros in their place, checked (one entry per tensor, each of the tensor's length).
 */
function presentGradients(twin: TwinState, grads: readonly (Float32Array | null)[]): { present: boolean[]; filled: Float32Array[] } {
  if (!Array.isArray(grads)) checkGradients(grads as never, twin.tensors);
  const filled = grads.map((g, i) => (g === null ? new Float32Array(twin.tensors[i]?.length ?? 0) : g));
  checkGradients(filled, twin.tensors);
  return { present: grads.map((g) => g !== null), filled };
}

/**
 * The whole-set twin (`setReference`): one call over every tensor (on the per-tensor path, each
 * with its own row and a tensor without gradient marked absent), then the stores rounded as on the
 * GPU (an absent tensor's state is left as it is).
 */
function updateSet(front: FrontState<any>, twin: TwinState, grads: readonly Float32Array[], rowOf: (i: number) => Float32Array, present?: readonly boolean[]): void {
  const { definition, rounding, q8, state } = twin;
  const { tensorGroup, defines } = front.config;
  const tensors = twin.params.map((param, i) => {
    const h = namedScalars(definition, rowOf(i));
    const step = (h as unknown as Record<string, number>)[ROUNDING_STEP]!;
    const absent = present !== undefined && !present[i];
    return { param, grad: grads[i]!, state: state[i]!, h, group: tensorGroup[i]!, absent, step, stored: (slot: string, x: number, e: number) => rounding.stored(slot, x, i, e, step) };
  });
  definition.setReference!({ tensors, defines, setState: twin.setState! });
  tensors.forEach((t, i) => t.absent || rounding.roundSlots(state[i]!, i, t.step));
  q8?.store(present);
}

/** The twin's `step(grads)`: checked before anything changes, counted only once it ran. */
export function twinStep(front: FrontState<any>, twin: TwinState, grads: readonly (Float32Array | null)[]): void {
  if (front.mode === 'eval') throw new Error(`webgpu-optim: ${twin.name}: the parameters hold the averaged point (eval mode); call train() before step()`);
  const { present, filled } = presentGradients(twin, grads);
  // Refused here, before anything changes, where the optimizer cannot skip a tensor.
  const call = stepPresence(front.window, front.tensorSteps, present);
  const { accumulated } = twin;
  const stepsBefore = front.book.stepCount;
  front.book.run(
    (plan) => (plan.due ? (call.skips ? front.tensorStepScalars(plan.update, call.windowPresent) : front.stepScalars(plan.update)) : undefined),
    {
      // A micro-batch adds the tensors it has a gradient for (each sum starts from the zeros the last update left).
      accumulate: accumulated
        ? () =>
            accumulated.forEach((acc, i) => {
              if (!present[i]) return;
              const g = filled[i]!;
              for (let j = 0; j < acc.length; j++) acc[j] = Math.fround(acc[j]! + g[j]!);
            })
        : undefined,
      update: (_update, scalars) => {
        if (call.skips) updateSkipping(front, twin, accumulated ?? filled, scalars, call.windowPresent);
        else {
          const effective = controlled(front, twin, accumulated ?? filled, scalars);
          if (effective) updateTensors(front, twin, effective, scalars);
        }
        accumulated?.forEach((acc) => acc.fill(0));
      },
    },
  );
  // A step the control path skipped (non-finite gradients) advances no tensor's count, as torch's GradScaler skips step().
  countStepPresence(front.window, front.tensorSteps, call, stepsBefore, !twin.control?.skipped);
}

/** A step with tensors absent: gradient control over the tensors that have a gradient, the rows at each tensor's own count. */
function updateSkipping(front: FrontState<any>, twin: TwinState, grads: readonly Float32Array[], scalars: Float32Array, present: readonly boolean[]): void {
  const { control, training } = twin;
  const effective = control ? controlStep(training, control, grads, front.config.tensorGroup, front.config.groups.length, present) : grads;
  if (effective) updateTensors(front, twin, effective, scalars, present);
}
