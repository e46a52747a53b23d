// Adam with L2 weight decay (torch.optim.Adam) or decoupled weight decay (torch.optim.AdamW,
// flag DECOUPLED), and AMSGrad. Recipe: docs/semantics.md § Adam, § AdamW.
// `struct Hyper` (the scalars) and the state bindings (two moments, and the AMSGrad maximum) are
// generated from definition.ts; `main` (shaders/common.wgsl) calls update() per vec4.

fn update(i: u32, h: Hyper, g: vec4<f32>) {
#if DECOUPLED
  // AdamW always multiplies (by exactly 1 when weight_decay == 0), before the moments.
  let p = param[i] * h.decayFactor;
  let d = workingGradient(g, p, 0.0);
#else
  let p = param[i];
  let d = workingGradient(g, p, h.weightDecay);
#endif
  let m = expAvgLoad(i) * h.beta1 + h.oneMinusBeta1 * d;
  let v = expAvgSqLoad(i) * h.beta2 + (h.oneMinusBeta2 * d) * d;
  expAvgStore(i, m);
  expAvgSqStore(i, v);
#if AMSGRAD
  let w = maximumNan(maxExpAvgSqLoad(i), v);
  maxExpAvgSqStore(i, w);
#else
  let w = v;
#endif
  // sqrt(w) / sqrt(bc2), not sqrt(w / bc2): the latter overflows for |g| ~ 1e20.
  let denom = sqrt(w) / h.bc2Sqrt + h.eps;
  param[i] = p + (h.negStepSize * m) / denom;
}
