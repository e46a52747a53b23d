// LARS (You et al. 2017) with optax.lars's semantics. Recipe: docs/semantics.md § LARS.
// Layer-wise (layerwise.wgsl): partials() sums ‖p‖² and ‖u‖² of each tensor, u = g + wd·p;
// update() scales u by the tensor's trust ratio and the lr, then applies optax's trace (momentum).

fn larsDirection(g: vec4<f32>, p: vec4<f32>, h: Hyper) -> vec4<f32> {
  return g + h.weightDecay * p;
}

fn partials(i: u32, h: Hyper, g: vec4<f32>, valid: vec4<bool>) -> vec4<f32> {
  let p = param[i];
  return vec4<f32>(squaredSum(p, valid), squaredSum(larsDirection(g, p, h), valid), 0.0, 0.0);
}

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let p = param[i];
  // A group outside the trust-ratio mask (trustRatio: false) takes the plain step.
  let ratio = select(1.0, trustRatio(tensorSumsAt(i), h.trustCoefficient, h.eps), h.trustRatio != 0.0);
  let u = h.negLr * (ratio * larsDirection(g, p, h));
  let t = u + h.momentum * traceLoad(i);
  traceStore(i, t);
#if NESTEROV
  param[i] = p + (u + h.momentum * t);
#else
  param[i] = p + t;
#endif
}
