/**
 * The one step orchestration, shared by the GPU engine and the CPU reference so that both accept,
 * refuse and count exactly the same things:
 *   validate → scalars (may throw: nothing has changed yet) → accumulate → control + update → count.
 * Counts: `stepCount` is the number of updates (every `accumulation.steps`-th call), skipped ones
 * included; it is the lr schedule's position, as a PyTorch scheduler stepped once per iteration.
 * PyTorch's own `step` (the optimizer steps taken, which bias corrections use) is counted where
 * the skip is decided: on the GPU for the engine, in the control twin for the reference.
 */
export interface StepPlan {
  /** Whether this call updates the parameters (the last micro-batch of an accumulation cycle). */
  readonly due: boolean;
  /** The 1-based index of the update this call makes, when due. */
  readonly update: number;
}

export interface StepExecutor {
  /** After the arguments and scalars were accepted, before any work. */
  begin?(): void;
  /** Adds this call's gradients to the accumulator (accumulating optimizers only). */
  accumulate?(): void;
  /** Records or runs the update with these f32 scalars. */
  update(update: number, scalars: Float32Array<ArrayBuffer>): void;
  /** After the work (e.g. submit). */
  end?(): void;
}

export interface Bookkeeping {
  readonly stepCount: number;
  readonly microStepCount: number;
  /** Micro-batches accumulated since the last update (0 … k − 1). */
  readonly pendingMicroSteps: number;
  /**
   * One `step()` call: `prepare` checks the arguments and computes the scalars (it may throw; then
   * nothing changed), `execute` does the work, and the counts advance only after it succeeded.
   */
  run(prepare: (plan: StepPlan) => Float32Array<ArrayBuffer> | undefined, execute: StepExecutor): void;
  restore(stepCount: number, pendingMicroSteps: number): void;
}

export function createBookkeeping(accumulationSteps: number): Bookkeeping {
  let updates = 0;
  let pending = 0;
  return {
    get stepCount() {
      return updates;
    },
    get microStepCount() {
      return updates * accumulationSteps + pending;
    },
    get pendingMicroSteps() {
      return pending;
    },
    run(prepare, execute) {
      const plan: StepPlan = { due: pending + 1 === accumulationSteps, update: updates + 1 };
      const scalars = prepare(plan);
      execute.begin?.();
      execute.accumulate?.();
      if (plan.due) execute.update(plan.update, scalars!);
      execute.end?.();
      if (plan.due) {
        updates++;
        pending = 0;
      } else {
        pending++;
      }
    },
    restore(stepCount, pendingMicroSteps) {
      updates = stepCount;
      pending = pendingMicroSteps;
    },
  };
}
