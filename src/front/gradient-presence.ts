/**
 * PyTorch's rule for a parameter whose `grad` is None: the step leaves its parameters and state
 * untouched, and its own step count (`state['step']`, which bias corrections use) does not advance.
 * Shared by the GPU optimizer and the CPU twin: which optimizers and options can take such a step,
 * the refusal when they cannot, and each tensor's step count once they differ.
 */
import { declaredPasses, type OptimizerDefinition } from '../core/definition.js';
import type { ResolvedOptions } from './resolve.js';
import { scalarLayout } from '../core/scalars.js';

/**
 * Why a step with a tensor lacking its gradient (or with per-tensor step counts that differ) cannot
 * be taken with these options; undefined when it can. From the definition (`noGradientSkip`) and
 * the step's structure: passes over whole tensors or over the set, steps the device decides to
 * skip where the step scalars depend on the count (gradient control), accumulation with gradient
 * control and train/eval modes are not per-tensor yet (8-bit and 4-bit tiles are: a tile's lanes
 * of a tensor without gradient store nothing).
 */
export function gradientSkipRefusal(definition: OptimizerDefinition<any, any>, resolved: ResolvedOptions<any>): string | undefined {
  if (definition.noGradientSkip) return definition.noGradientSkip;
  const passes = declaredPasses(definition, resolved.config.defines);
  const whole = passes.filter((pass) => !pass.perTensor);
  if (whole.length > 0) return `its step runs passes over whole tensors or the whole set (${whole.map((p) => p.name).join(', ')}), which do not yet skip a tensor`;
  if (resolved.training.control && resolved.training.accumulationSteps > 1) return 'gradient accumulation with gradient control (accumulation.average, clipping, loss scaling, non-finite skipping, computeGradNorm) scales and checks the summed gradients of every tensor on the device';
  if (resolved.training.control) {
    // Clipping, the gradient norm and loss scaling without skipping take every step the host
    // counts, so each tensor's count is known there; a skip decided on the device is not.
    const control = gradientControlRefusal(definition, resolved, passes.filter((pass) => !pass.perTensorControl).map((pass) => pass.name));
    if (control) return control;
  }
  // Schedule-Free's modes move every tensor (as the authors' do: one that never stepped has z = p,
  // so its switch leaves it as it is); its steps are taken at the group's count (groupStepCount).
  if (definition.modes && !definition.groupStepCount) return 'its train/eval modes move every tensor between the points it holds';
  return undefined;
}

/**
 * Why gradient control cannot take a step with a tensor lacking its gradient; undefined when it can
 * (clipping by value and by norm, the gradient norm, loss scaling whose steps are all taken: the
 * statistics then leave out the absent tensors and each tensor's count is known on the host).
 */
function gradientControlRefusal(definition: OptimizerDefinition<any, any>, resolved: ResolvedOptions<any>, uncontrolledPasses: readonly string[]): string | undefined {
  // With skipping the device decides whether a step is taken: it counts each tensor's missed steps
  // (read by state dicts), but the step table serves the set's count only, so the step scalars
  // must not depend on a tensor's own count.
  const stepScalars = scalarLayout(definition).stepFields;
  if (resolved.training.skipNonFinite && (stepScalars.length > 0 || definition.groupStepCount)) {
    const which = stepScalars.length > 0 ? `its step scalars (${stepScalars.join(', ')}) depend on the step count` : 'its steps are taken at the group step count';
    return `with skipNonFinite (on by default with lossScaling) the device decides whether a step is taken, and ${which}, which the per-tensor step does not yet read from the device (set skipNonFinite: false to step every time)`;
  }
  if (uncontrolledPasses.length > 0) return `with gradient control the per-tensor variants of its passes (${uncontrolledPasses.join(', ')}) do not yet read the controlled gradient`;
  return undefined;
}

/** Each tensor's own step count, kept once they differ (undefined while every tensor's is the optimizer's). */
export interface TensorSteps {
  /** Each tensor's steps taken, or undefined while all equal the optimizer's step count. */
  readonly counts: readonly number[] | undefined;
  /** Why this optimizer cannot take per-tensor steps (gradientSkipRefusal); undefined when it can. */
  readonly refusal: string | undefined;
  /**
   * Whether this step needs the per-tensor path (a tensor without gradient, or counts that differ);
   * refused, before anything changes, where the optimizer cannot take it (so are counts that
   * differ from its step count at all, on such an optimizer).
   */
  needed(present: readonly boolean[] | undefined): boolean;
  /**
   * Every tensor's count when they are all equal but kept (every tensor was skipped as often: the
   * plain kernel runs at this step count); undefined otherwise.
   */
  uniform(): number | undefined;
  /** The counts before this step (every tensor's own). */
  before(stepCount: number): number[];
  /** Counts a step taken by the tensors `present` marks. */
  advance(stepCount: number, present: readonly boolean[]): void;
  /** Restores counts from a state dict (undefined: all equal). */
  restore(counts: readonly number[] | undefined): void;
}

/**
 * `groupCounted`: the optimizer's steps are taken at its group's step count (groupStepCount), so
 * tensors keep no counts of their own (advance counts nothing; the per-tensor path is taken only
 * for a step where a tensor has no gradient, every row at the optimizer's count).
 * `deviceStepScalars` (gradient control): the plain kernel reads its step scalars at the device's
 * count, the set's, so once counts are kept every step takes the per-tensor path (rows at each
 * tensor's own count), even when the counts are all equal.
 */
export function createTensorSteps(what: string, tensorCount: number, refusal: string | undefined, groupCounted = false, deviceStepScalars = false): TensorSteps {
  let counts: number[] | undefined;
  const steps: TensorSteps = {
    get counts() {
      return counts && Object.freeze([...counts]);
    },
    refusal,
    needed(present) {
      const absent = present?.some((p) => !p) === true;
      if (!absent && counts === undefined) return false;
      if (!absent && refusal === undefined && !deviceStepScalars && steps.uniform() !== undefined) return false;
      if (refusal !== undefined) {
        const missing = present ? present.flatMap((p, i) => (p ? [] : [i])) : [];
        const why = absent ? `tensor${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ha${missing.length > 1 ? 've' : 's'} no gradient this step` : 'its tensors have taken different numbers of steps';
        throw new Error(`webgpu-optim: ${what}: ${why} (PyTorch leaves such a tensor untouched), but this optimizer cannot skip a tensor: ${refusal}. Write or mark every gradient (params.markGradients()) or zero them (params.zeroGrad({ setToNone: false }))`);
      }
      return true;
    },
    uniform: () => (counts && counts.every((c) => c === counts![0]) ? counts[0] : undefined),
    before: (stepCount) => (counts ? [...counts] : new Array<number>(tensorCount).fill(stepCount)),
    advance(stepCount, present) {
      if (groupCounted) return;
      counts = steps.before(stepCount).map((c, i) => c + (present[i] ? 1 : 0));
    },
    restore(next) {
      counts = next ? [...next] : undefined;
    },
  };
  return steps;
}
