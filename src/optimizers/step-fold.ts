/**
 * History state that follows from the steps taken (NAdam's mu_product, Schedule-Free's weight
 * sum): a fold over steps 1…t, in step order so that every rounding matches a step-by-step run.
 * Memoized per option set at every 1024th step and at the last step asked for, so the host's
 * sequential queries cost O(1) and any other step at most 1024 iterations.
 */
const CHECKPOINT = 1024;

export function stepFold<O, S>(keyOf: (options: O) => string, initial: S, next: (state: S, options: O, t: number) => S): (options: O, t: number) => S {
  const memo = new Map<string, { checkpoints: S[]; lastStep: number; last: S }>();
  const fold = (state: S, options: O, from: number, to: number) => {
    for (let t = from; t <= to; t++) state = next(state, options, t);
    return state;
  };
  return (options, t) => {
    const key = keyOf(options);
    let entry = memo.get(key);
    if (!entry) memo.set(key, (entry = { checkpoints: [initial], lastStep: 0, last: initial }));
    const { checkpoints } = entry;
    const k = Math.floor(t / CHECKPOINT);
    while (checkpoints.length <= k) {
      const c = checkpoints.length - 1;
      checkpoints.push(fold(checkpoints[c]!, options, c * CHECKPOINT + 1, (c + 1) * CHECKPOINT));
    }
    const fromLast = entry.lastStep <= t && entry.lastStep >= k * CHECKPOINT;
    const state = fromLast ? fold(entry.last, options, entry.lastStep + 1, t) : fold(checkpoints[k]!, options, k * CHECKPOINT + 1, t);
    entry.lastStep = t;
    entry.last = state;
    return state;
  };
}
