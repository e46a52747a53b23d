/**
 * PyTorch's step rule with gradient accumulation. In torch, `zero_grad(set_to_none=True)` once per
 * optimizer step leaves every `.grad` None; each backward then writes (the first) or adds to the
 * gradients of the parameters it reaches. At the optimizer step a parameter has a gradient iff some
 * micro-batch wrote one, and it is the sum of what they wrote. Here each micro-batch's `step()` call
 * carries its own marks (which tensors that micro-batch wrote): the accumulation adds only those,
 * and the due step treats a tensor as present iff some micro-batch of its window marked it.
 * Shared by the GPU optimizer and the CPU twin, so both decide the same things at every call.
 */
import type { TensorSteps } from './gradient-presence.js';

/** What one `step()` call does with its marks. */
export interface CallPresence {
  /** Whether this call is an update (the last micro-batch of its window). */
  readonly due: boolean;
  /**
   * Whether this call's accumulation adds only the tensors it marks (some tensor is unmarked); false
   * without accumulation, or when every tensor is marked (the plain accumulation runs).
   */
  readonly partialAccumulation: boolean;
  /** The tensors the update treats as present (due calls): those marked in any micro-batch of the window. */
  readonly windowPresent: readonly boolean[];
}

export interface WindowPresence {
  /** This call's decisions, for `present` (its marks); changes nothing. */
  of(present: readonly boolean[]): CallPresence;
  /** After the call ran: its marks join the window, or the window closes (a due call). */
  commit(call: CallPresence): void;
  /** The tensors some pending micro-batch marked; undefined when every tensor was (or none is pending). */
  readonly written: readonly boolean[] | undefined;
  /** Restores the pending window from a state dict: `written` per tensor, undefined when none is pending or every tensor was written. */
  restore(written: readonly boolean[] | undefined): void;
}

/**
 * The window of the micro-batches since the last update, over `tensorCount` tensors, updating on
 * every `accumulationSteps`-th call; `pending()` gives the micro-batches accumulated so far.
 */
export function createWindowPresence(tensorCount: number, accumulationSteps: number, pending: () => number): WindowPresence {
  // The tensors marked by a pending micro-batch: undefined while none is pending.
  let marked: boolean[] | undefined;
  return {
    of(present) {
      const due = pending() + 1 === accumulationSteps;
      const windowPresent = marked ? present.map((p, i) => p || marked![i]!) : present;
      return { due, partialAccumulation: accumulationSteps > 1 && present.some((p) => !p), windowPresent };
    },
    commit(call) {
      marked = call.due ? undefined : [...call.windowPresent];
    },
    get written() {
      return marked && !marked.every((m) => m) ? Object.freeze([...marked]) : undefined;
    },
    restore(written) {
      marked = pending() > 0 ? (written ? [...written] : new Array<boolean>(tensorCount).fill(true)) : undefined;
    },
  };
}

/** A call's decisions, and whether its update takes the per-tensor path. */
export interface StepPresence extends CallPresence {
  /** Whether the update (due calls) takes the per-tensor path: a tensor of the window absent, or step counts that differ. */
  readonly skips: boolean;
}

/**
 * The decisions of one `step()` call with marks `present`, refused (thrown before anything changes)
 * where the optimizer cannot skip a tensor: a micro-batch that leaves one unmarked is refused there
 * as an update without it is.
 */
export function stepPresence(window: WindowPresence, tensorSteps: TensorSteps, present: readonly boolean[]): StepPresence {
  const call = window.of(present);
  if (call.partialAccumulation) tensorSteps.needed(present);
  return { ...call, skips: call.due && tensorSteps.needed(call.windowPresent) };
}

/** After the call ran: the window takes its marks, and an update counts each present tensor's step. */
export function countStepPresence(window: WindowPresence, tensorSteps: TensorSteps, call: StepPresence, stepsBefore: number, taken = true): void {
  // Counts kept since a tensor was skipped advance with every update taken (all equal: the plain kernel ran).
  if (taken && call.due && (call.skips || tensorSteps.counts)) tensorSteps.advance(stepsBefore, call.windowPresent);
  window.commit(call);
}
