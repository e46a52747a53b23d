// Adagrad (torch.optim.Adagrad). Recipe: docs/semantics.md § Adagrad.
// `struct Hyper` and the binding `sum` are generated from definition.ts.

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let p = param[i];
  let d = workingGradient(g, p, h.weightDecay);
  let s = sumLoad(i) + d * d;
  let denom = sqrt(s) + h.eps;
  sumStore(i, s);
  param[i] = p + (h.negClr * d) / denom;
}
