// Lion (Chen et al. 2023, Algorithm 2), and cautious updates (flag CAUTIOUS). Recipe:
// docs/semantics.md § Lion, § Cautious updates. `struct Hyper` and the binding expAvg are generated
// from definition.ts.

#if CAUTIOUS
// Cautious (Liang et al. 2024): the elements whose signed step sign(c) agrees with g
// (sign(c)·g > 0), counted per tensor before the update, with the tensor's element count.
fn partials(i: u32, h: Hyper, g: vec4<f32>, valid: vec4<bool>) -> vec4<f32> {
  let c = expAvgLoad(i) * h.beta1 + h.oneMinusBeta1 * g;
  return vec4<f32>(countOf(agreeInSign(signOf(c), g), valid), countOf(vec4<bool>(true), valid), 0.0, 0.0);
}
#endif

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let m = expAvgLoad(i);
  let c = m * h.beta1 + h.oneMinusBeta1 * g;
#if CAUTIOUS
  // sign(c)·mask, the mask elements / (agreeing + 1) where sign(c)·g > 0 and 0 elsewhere (the
  // authors' c_lion.py: mask * (mask.numel() / (mask.sum() + 1)), which torch takes as the
  // reciprocal times the number).
  let sums = tensorSumsAt(i);
  let scale = (1.0 / (sums.x + 1.0)) * sums.y;
  let s = signOf(c) * select(vec4<f32>(0.0), vec4<f32>(scale), agreeInSign(signOf(c), g));
#else
  let s = signOf(c);
#endif
  param[i] = param[i] * h.decayFactor + h.negLr * s;
  expAvgStore(i, m * h.beta2 + h.oneMinusBeta2 * g);
}
