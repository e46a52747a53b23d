// Adadelta (torch.optim.Adadelta). Recipe: docs/semantics.md § Adadelta.
// `struct Hyper` and the bindings squareAvg, accDelta are generated from definition.ts.

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let p = param[i];
  let d = workingGradient(g, p, h.weightDecay);
  let sq = squareAvgLoad(i) * h.rho + (h.oneMinusRho * d) * d;
  let denom = sqrt(sq + h.eps);
  let acc = accDeltaLoad(i);
  let delta = (sqrt(acc + h.eps) / denom) * d;
  squareAvgStore(i, sq);
  accDeltaStore(i, acc * h.rho + (h.oneMinusRho * delta) * delta);
  param[i] = p + h.negLr * delta;
}
