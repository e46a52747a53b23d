// Adam with L2 weight decay (torch.optim.Adam) or decoupled weight decay (torch.optim.AdamW,
// flag DECOUPLED), AMSGrad, and cautious updates (flag CAUTIOUS). Recipe: docs/semantics.md § Adam,
// § AdamW, § Cautious updates.
// `struct Hyper` (the scalars) and the state bindings (two moments, and the AMSGrad maximum) are
// generated from definition.ts; `main` (shaders/common.wgsl) calls update() per vec4.

// The parameter after the decoupled decay and the working gradient d the moments take.
struct AdamInput {
  p: vec4<f32>,
  d: vec4<f32>,
}

fn adamInput(i: u32, h: Hyper, g: vec4<f32>) -> AdamInput {
#if DECOUPLED
  // AdamW always multiplies (by exactly 1 when weight_decay == 0), before the moments.
  let p = param[i] * h.decayFactor;
  return AdamInput(p, workingGradient(g, p, 0.0));
#else
  let p = param[i];
  return AdamInput(p, workingGradient(g, p, h.weightDecay));
#endif
}

#if CAUTIOUS
// Cautious (Liang et al. 2024): the elements whose new first moment agrees in sign with d
// (m·d > 0, agreeInSign in layerwise.wgsl), counted per tensor before the update, with the tensor's element count. m is computed
// here exactly as update() computes it, and not stored.
fn partials(i: u32, h: Hyper, g: vec4<f32>, valid: vec4<bool>) -> vec4<f32> {
  let x = adamInput(i, h, g);
  let m = expAvgLoad(i) * h.beta1 + h.oneMinusBeta1 * x.d;
  return vec4<f32>(countOf(agreeInSign(m, x.d), valid), countOf(vec4<bool>(true), valid), 0.0, 0.0);
}
#endif

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let x = adamInput(i, h, g);
  let p = x.p;
  let d = x.d;
  let m = expAvgLoad(i) * h.beta1 + h.oneMinusBeta1 * d;
  let v = expAvgSqLoad(i) * h.beta2 + (h.oneMinusBeta2 * d) * d;
  expAvgStore(i, m);
  expAvgSqStore(i, v);
#if AMSGRAD
  let w = maximumNan(maxExpAvgSqLoad(i), v);
  maxExpAvgSqStore(i, w);
#else
  let w = v;
#endif
  // sqrt(w) / sqrt(bc2), not sqrt(w / bc2): the latter overflows for |g| ~ 1e20.
  let denom = sqrt(w) / h.bc2Sqrt + h.eps;
#if CAUTIOUS
  // m·mask, the mask 1 / max(agreeing / elements, 1e-3) where m·d > 0 and 0 elsewhere (the authors'
  // c_adamw.py: mask.div_(mask.mean().clamp_(min=1e-3))).
  let sums = tensorSumsAt(i);
  let scale = 1.0 / max(sums.x / sums.y, 1e-3);
  let u = m * select(vec4<f32>(0.0), vec4<f32>(scale), agreeInSign(m, d));
#else
  let u = m;
#endif
  param[i] = p + (h.negStepSize * u) / denom;
}
