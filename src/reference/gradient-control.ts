/**
 * CPU twin of the control path (shaders/grad-stats.wgsl finalize + controlledGradient in
 * shaders/common.wgsl): unscale, clip by value, norms, clip by norm, non-finite skip,
 * loss-scaler update and the device step counter, with the same f32 operations. Norm sums are
 * accumulated in float64 here (the GPU sums in f32 trees), so norms agree to a few ULP, not bit
 * for bit. NaN propagates as in torch: a NaN gradient gives a NaN norm and a NaN clip coefficient.
 */
import type { ControlSnapshot } from '../control/control-block.js';
import type { ResolvedTraining } from '../control/training.js';

const fr = Math.fround;
const EPS = fr(1e-6);
/** The smallest normal f32: the loss scale never backs off below it (a scale of 0 would skip every later step). */
const MIN_SCALE = 2 ** -126;

export type ControlState = ControlSnapshot;

export function initialControlState(training: ResolvedTraining, groups: number): ControlState {
  return {
    step: 0,
    calls: 0,
    lossScale: fr(training.scaling?.initScale ?? 1),
    growthTracker: 0,
    totalNorm: 0,
    groupNorms: Array(groups).fill(0),
    foundInf: false,
    skipped: false,
  };
}

/** torch.max: NaN-propagating. */
const maxNan = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));

function updateScaler(training: ResolvedTraining, state: ControlState): void {
  if (!training.scaling?.dynamic) return;
  if (state.foundInf) {
    state.lossScale = Math.max(fr(state.lossScale * fr(training.scaling.backoffFactor)), MIN_SCALE);
    state.growthTracker = 0;
  } else if (state.growthTracker + 1 >= training.scaling.growthInterval) {
    const grown = fr(state.lossScale * fr(training.scaling.growthFactor));
    if (Number.isFinite(grown)) state.lossScale = grown;
    state.growthTracker = 0;
  } else {
    state.growthTracker++;
  }
}

/**
 * Runs the control step on `grads` (tensor order) and returns the gradients the optimizer sees
 * (new arrays), or undefined when the step is skipped. Updates `state` in place. `present` (the
 * per-tensor step): a tensor without gradient adds nothing to the norms and the non-finite check,
 * as torch's clip_grad_norm_ and GradScaler leave out a grad that is None.
 */
export function controlStep(
  training: ResolvedTraining,
  state: ControlState,
  grads: readonly Float32Array[],
  tensorGroup: readonly number[],
  groupCount: number,
  present?: readonly boolean[],
): Float32Array[] | undefined {
  const pre = fr((training.scaling ? fr(1 / state.lossScale) : 1) * fr(training.average ? 1 / training.accumulationSteps : 1));
  const clip = fr(training.clipValue);
  const sums = new Array<number>(groupCount).fill(0);
  const maxima = new Array<number>(groupCount).fill(0);
  let foundInf = false;
  const clipped = grads.map((g, t) => {
    const group = tensorGroup[t]!;
    const out = new Float32Array(g.length);
    if (present && !present[t]) return out;
    for (let i = 0; i < g.length; i++) {
      const unscaled = fr(g[i]! * pre);
      const v = Number.isNaN(unscaled) ? unscaled : Math.min(Math.max(unscaled, -clip), clip);
      out[i] = v;
      sums[group]! += fr(v * v);
      maxima[group] = maxNan(maxima[group]!, Math.abs(v));
      if (!Number.isFinite(unscaled)) foundInf = true;
    }
    return out;
  });
  const normInf = training.normInf;
  const totalSum = sums.reduce((a, b) => a + b, 0);
  const totalMax = maxima.reduce(maxNan, 0);
  // Sums of squares are f32 on the GPU: one that passes the largest f32 is +Inf there, so here too.
  state.totalNorm = fr(normInf ? totalMax : Math.sqrt(fr(totalSum)));
  state.groupNorms = sums.map((s, g) => fr(normInf ? maxima[g]! : Math.sqrt(fr(s))));
  state.foundInf = foundInf;
  const clipByNorm = Number.isFinite(training.maxNorm);
  // clip_grad_norm_: clamp(maxNorm / (norm + 1e-6), max = 1); Math.min keeps NaN, as torch.clamp.
  const multipliers = state.groupNorms.map((norm) => {
    if (!clipByNorm) return 1;
    const basis = training.perGroup ? norm : state.totalNorm;
    return Math.min(fr(fr(training.maxNorm) / fr(basis + EPS)), 1);
  });
  state.calls++;
  state.skipped = foundInf && training.skipNonFinite;
  updateScaler(training, state);
  if (state.skipped) return undefined;
  state.step++;
  return clipped.map((g, t) => {
    const m = multipliers[tensorGroup[t]!]!;
    if (m === 1) return g;
    for (let i = 0; i < g.length; i++) g[i] = fr(g[i]! * m);
    return g;
  });
}
