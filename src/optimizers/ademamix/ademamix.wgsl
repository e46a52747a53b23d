// AdEMAMix (apple/ml-ademamix, pytorch/ademamix.py). Recipe: docs/semantics.md § AdEMAMix.
// `struct Hyper` (the scalars, β₃ₜ and αₜ with their warmups) and the state bindings (the fast EMA
// when some group has β₁ ≠ 0, the slow EMA, the second moment) are generated from definition.ts;
// `main` (shaders/common.wgsl) calls update() per vec4.

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let p = param[i];
#if FAST_EMA
  // A group with β₁ = 0 keeps no fast EMA (the authors' exp_avg_fast is None): the gradient itself.
  let hasFast = h.beta1 != 0.0;
  let previous = expAvgFastLoad(i);
  let ema = previous * h.beta1 + h.oneMinusBeta1 * g;
  expAvgFastStore(i, select(previous, ema, hasFast));
  let fast = select(g, ema, hasFast);
#else
  let fast = g;
#endif
  let slow = expAvgSlowLoad(i) * h.beta3 + h.oneMinusBeta3 * g;
  let v = expAvgSqLoad(i) * h.beta2 + (h.oneMinusBeta2 * g) * g;
  expAvgSlowStore(i, slow);
  expAvgSqStore(i, v);
  // sqrt(v) / sqrt(bc2), not sqrt(v / bc2): the latter overflows for |g| ~ 1e20.
  let denom = sqrt(v) / h.bc2Sqrt + h.eps;
  let u = (fast / h.bc1 + h.alpha * slow) / denom + h.weightDecay * p;
  param[i] = p + h.negLr * u;
}
