// LAMB (You et al. 2020, Algorithm 2) with optax.lamb's semantics. Recipe: docs/semantics.md § LAMB.
// Layer-wise (layerwise.wgsl): partials() runs first, over every element, to update the moments and
// sum ‖p‖² and ‖u‖² of each tensor; update() then recomputes u from the stored moments (the same
// operations, so the same bits) and takes the trust-ratio step.

// u = m̂ / (√v̂ + eps) + wd·p, with m̂ = m / (1 − β₁ᵗ) and v̂ = v / (1 − β₂ᵗ).
fn lambDirection(m: vec4<f32>, v: vec4<f32>, p: vec4<f32>, h: Hyper) -> vec4<f32> {
  return (m / h.bc1) / (sqrt(v / h.bc2) + h.eps) + h.weightDecay * p;
}

fn partials(i: u32, h: Hyper, g: vec4<f32>, valid: vec4<bool>) -> vec4<f32> {
  let m = h.oneMinusBeta1 * g + h.beta1 * expAvgLoad(i);
  let v = h.oneMinusBeta2 * (g * g) + h.beta2 * expAvgSqLoad(i);
  expAvgStore(i, m);
  expAvgSqStore(i, v);
  let p = param[i];
  // u from the moments as stored (rounded, in a 16-bit stateFormat), as update() will see them.
  return vec4<f32>(squaredSum(p, valid), squaredSum(lambDirection(expAvgLoad(i), expAvgSqLoad(i), p, h), valid), 0.0, 0.0);
}

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let p = param[i];
  let ratio = trustRatio(tensorSumsAt(i), 1.0, 0.0);
  param[i] = p + h.negLr * (ratio * lambDirection(expAvgLoad(i), expAvgSqLoad(i), p, h));
}
