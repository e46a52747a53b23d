// Adamax (torch.optim.Adamax): Adam with the infinity norm. Recipe: docs/semantics.md § Adamax.
// `struct Hyper` and the bindings expAvg, expInf are generated from definition.ts.

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let p = param[i];
  let d = workingGradient(g, p, h.weightDecay);
  let m = expAvgLoad(i) * h.beta1 + h.oneMinusBeta1 * d;
  // eps is added to |d| before the maximum; the maximum propagates NaN (torch.amax).
  let u = maximumNan(expInfLoad(i) * h.beta2, abs(d) + h.eps);
  expAvgStore(i, m);
  expInfStore(i, u);
  param[i] = p + (h.negClr * m) / u;
}
