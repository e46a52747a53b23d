// NAdam (torch.optim.NAdam, and PyTorch 2.x's decoupled weight decay with DECOUPLED).
// Recipe: docs/semantics.md § NAdam. `struct Hyper` and the bindings expAvg, expAvgSq are
// generated from definition.ts.

fn update(i: u32, h: Hyper, g: vec4<f32>) {
#if DECOUPLED
  let p = param[i] * h.decayFactor;
#else
  let p = param[i];
#endif
  let d = workingGradient(g, p, h.weightDecay);
  let m = expAvgLoad(i) * h.beta1 + h.oneMinusBeta1 * d;
  let v = expAvgSqLoad(i) * h.beta2 + (h.oneMinusBeta2 * d) * d;
  expAvgStore(i, m);
  expAvgSqStore(i, v);
  let denom = sqrt(v / h.bc2) + h.eps; // the bias correction inside the square root
  // Two separate steps, as PyTorch's two addcdiv_ calls round them.
  let afterGrad = p + (h.gradCoefficient * d) / denom;
  param[i] = afterGrad + (h.momentumCoefficient * m) / denom;
}
