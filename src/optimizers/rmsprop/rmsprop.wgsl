// RMSprop, plain / centered / with momentum (torch.optim.RMSprop). No bias correction.
// Recipe: docs/semantics.md § RMSprop. `struct Hyper` and the bindings squareAvg [, gradAvg]
// [, momentumBuffer] are generated from definition.ts.

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let p = param[i];
  let d = workingGradient(g, p, h.weightDecay);
  let sq = squareAvgLoad(i) * h.alpha + (h.oneMinusAlpha * d) * d;
  squareAvgStore(i, sq);
#if CENTERED
  let ga = gradAvgLoad(i) * h.alpha + h.oneMinusAlpha * d;
  gradAvgStore(i, ga);
  let avg = sqrt(sq - ga * ga) + h.eps;
#else
  let avg = sqrt(sq) + h.eps;
#endif
  let plain = p + (h.negLr * d) / avg;
#if MOMENTUM
  let hasMomentum = h.momentum > 0.0;
  let previous = momentumBufferLoad(i);
  let buf = previous * h.momentum + d / avg;
  momentumBufferStore(i, select(previous, buf, hasMomentum));
  param[i] = select(plain, p + h.negLr * buf, hasMomentum);
#else
  param[i] = plain;
#endif
}
