/**
 * AdEMAMix's α and β₃ warmup schedulers, as apple/ml-ademamix writes them (pytorch/ademamix.py,
 * `linear_warmup_scheduler` and `linear_hl_warmup_scheduler`), in float64 with the same operation
 * order, so that the one rounding to f32 lands where PyTorch's does.
 */

/** α linearly from `start` to `end` over `warmup` steps (t is 1-based; from t = warmup on, `end`). */
export function linearWarmup(t: number, end: number, start: number, warmup: number): number {
  if (t < warmup) {
    const a = t / warmup;
    return (1 - a) * start + a * end;
  }
  return end;
}

/** The half-life (in steps) of an EMA with rate β, less one: ln ½ / ln(β + 1e-8) − 1. */
const halfLife = (beta: number) => Math.log(0.5) / Math.log(beta + 1e-8) - 1;
/** The rate whose `halfLife` is h: ½^(1/(h + 1)). */
const rateOfHalfLife = (h: number) => Math.pow(0.5, 1 / (h + 1));

/**
 * β₃ from `start` to `end` over `warmup` steps, linear in the EMA's half-life (not in β, which
 * would keep the slow EMA short-lived for most of the warmup); from t = warmup on, `end`.
 */
export function halfLifeWarmup(t: number, end: number, start: number, warmup: number): number {
  if (t < warmup) {
    const a = t / warmup;
    return rateOfHalfLife((1 - a) * halfLife(start) + a * halfLife(end));
  }
  return end;
}
