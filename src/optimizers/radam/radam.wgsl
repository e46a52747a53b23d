// RAdam (torch.optim.RAdam, and PyTorch 2.x's decoupled weight decay with DECOUPLED).
// Recipe: docs/semantics.md § RAdam. `struct Hyper` and the bindings expAvg, expAvgSq are
// generated from definition.ts; the host sets h.rect to 0 on the steps that are not rectified.

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
  let mhat = m / h.bc1;
  // (1 / (√v + eps)) · √bc₂: a Python scalar over a tensor is a reciprocal, then a product.
  let adaptive = (1.0 / (sqrt(v) + h.eps)) * h.bc2Sqrt;
  let rectified = p - ((mhat * h.lr) * adaptive) * h.rect;
  let plain = p - mhat * h.lr;
  param[i] = select(plain, rectified, h.rect > 0.0);
}
