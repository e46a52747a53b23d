// Lion (Chen et al. 2023, Algorithm 2). Recipe: docs/semantics.md § Lion. `struct Hyper` and the
// binding expAvg are generated from definition.ts.

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let m = expAvgLoad(i);
  let c = m * h.beta1 + h.oneMinusBeta1 * g;
  param[i] = param[i] * h.decayFactor + h.negLr * signOf(c);
  expAvgStore(i, m * h.beta2 + h.oneMinusBeta2 * g);
}
