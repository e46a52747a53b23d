// Signum (Bernstein et al. 2018, Algorithm 3), a test-only optimizer: see definition.ts.
// `struct Hyper`, the binding momentumBuffer and its accessors (momentumBufferLoad / Store) are
// generated from definition.ts.

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let p = param[i];
  let d = workingGradient(g, p, h.weightDecay);
  let m = momentumBufferLoad(i) * h.momentum + h.oneMinusMomentum * d;
  momentumBufferStore(i, m);
  param[i] = p + h.negLr * signOf(m);
}
