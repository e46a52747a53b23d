/**
 * History state that follows from the steps taken (NAdam's mu_product, Schedule-Free's weight
 * sum): a fold over steps 1…t, in step order so that every rounding matches a step-by-step run.
 * Memoized per option set at every 1024th step and at the last step asked for, so the host's
 * sequential queries cost O(1) and any other step at most 1024 iterations.
 *
 * A step far ahead of what was folded (a state dict or checkpoint of step 2^40, say) would cost
 * one iteration per step: hours, and a checkpoint per 1024 steps in memory. Two bounds:
 * - `settled(state, options, t)`, where given, says the state can no longer change after step t
 *   (NAdam's product once it is a fixed point); later steps then cost nothing.
 * - otherwise at most {@link MAX_FOLD_STEPS} iterations per query (a few seconds on a slow core),
 *   over that the query is refused with an Error naming the step, before anything is changed.
 */
const CHECKPOINT = 1024;

/** The most steps one query folds at once (2^24): a load of a later step is refused, stepping one by one is not. */
export const MAX_FOLD_STEPS = 2 ** 24;

export interface StepFold<O, S> {
  (options: O, t: number): S;
}

export function stepFold<O, S>(
  what: string,
  keyOf: (options: O) => string,
  initial: S,
  next: (state: S, options: O, t: number) => S,
  settled?: (state: S, options: O, t: number) => boolean,
): StepFold<O, S> {
  type Entry = { checkpoints: S[]; lastStep: number; last: S; settled?: { step: number; state: S } };
  const memo = new Map<string, Entry>();
  /** Folds steps from…to from `state`, stopping where the state settles (recorded in the entry). */
  const fold = (entry: Entry, state: S, options: O, from: number, to: number) => {
    for (let t = from; t <= to; t++) {
      state = next(state, options, t);
      if (!entry.settled && settled?.(state, options, t)) entry.settled = { step: t, state };
      if (entry.settled && t >= entry.settled.step) return entry.settled.state;
    }
    return state;
  };
  return (options, t) => {
    const key = keyOf(options);
    let entry = memo.get(key);
    if (!entry) memo.set(key, (entry = { checkpoints: [initial], lastStep: 0, last: initial }));
    const { checkpoints } = entry;
    const k = Math.floor(t / CHECKPOINT);
    const limit = Math.max(entry.lastStep, (checkpoints.length - 1) * CHECKPOINT) + MAX_FOLD_STEPS;
    while (checkpoints.length <= k && !(entry.settled && t >= entry.settled.step)) {
      const c = checkpoints.length - 1;
      if ((c + 1) * CHECKPOINT > limit) {
        throw new Error(`webgpu-optim: ${what} at step ${t} follows from every step before it; it is refused (folding over ${MAX_FOLD_STEPS} steps ahead of the last one computed would take minutes to hours)`);
      }
      checkpoints.push(fold(entry, checkpoints[c]!, options, c * CHECKPOINT + 1, (c + 1) * CHECKPOINT));
    }
    if (entry.settled && t >= entry.settled.step) return entry.settled.state;
    const fromLast = entry.lastStep <= t && entry.lastStep >= k * CHECKPOINT;
    const state = fromLast ? fold(entry, entry.last, options, entry.lastStep + 1, t) : fold(entry, checkpoints[k]!, options, k * CHECKPOINT + 1, t);
    entry.lastStep = t;
    entry.last = state;
    return state;
  };
}
