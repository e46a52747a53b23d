// Adam with L2 weight decay (torch.optim.Adam) or decoupled weight decay (torch.optim.AdamW,
// flag DECOUPLED), and AMSGrad. Spec: torch-optim-semantics.md § Adam, § AdamW.

struct Hyper {
  beta1: f32,          // f(beta1)
  oneMinusBeta1: f32,  // f(1 - beta1)
  beta2: f32,          // f(beta2)
  oneMinusBeta2: f32,  // f(1 - beta2)
  negStepSize: f32,    // f(-lr / (1 - beta1^t)); with GRAD_CONTROL f(-lr), divided here
  bc2Sqrt: f32,        // f(sqrt(1 - beta2^t))
  eps: f32,            // f(eps), added outside the sqrt, after the bias correction
  weightDecay: f32,    // Adam: f(weight_decay), coupled into the gradient
  decayFactor: f32,    // AdamW: f(1 - lr * weight_decay), applied to the old parameter
}

@group(0) @binding(4) var<storage, read_write> expAvg: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> expAvgSq: array<vec4<f32>>;
#if AMSGRAD
@group(0) @binding(6) var<storage, read_write> maxExpAvgSq: array<vec4<f32>>;
#endif

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = vectorIndex(wid, nwg, lid);
  if (i >= arrayLength(&param) || stepSkipped()) {
    return;
  }
  let group = groupAt(i);
  var h = hyper[group];
#if GRAD_CONTROL
  // Bias corrections of the device step (skipped steps do not count): f(1-β₁ˢ), f(√(1-β₂ˢ)).
  h.negStepSize = h.negStepSize / control.groups[group].stepA;
  h.bc2Sqrt = control.groups[group].stepB;
#endif
#if DECOUPLED
  // AdamW always multiplies (by exactly 1 when weight_decay == 0), before the moments.
  let p = param[i] * h.decayFactor;
  let d = workingGradient(controlledGradient(grad[i], group), p, 0.0);
#else
  let p = param[i];
  let d = workingGradient(controlledGradient(grad[i], group), p, h.weightDecay);
#endif
  let m = expAvg[i] * h.beta1 + h.oneMinusBeta1 * d;
  let v = expAvgSq[i] * h.beta2 + (h.oneMinusBeta2 * d) * d;
  expAvg[i] = m;
  expAvgSq[i] = v;
#if AMSGRAD
  let w = maximumNan(maxExpAvgSq[i], v);
  maxExpAvgSq[i] = w;
#else
  let w = v;
#endif
  // sqrt(w) / sqrt(bc2), not sqrt(w / bc2): the latter overflows for |g| ~ 1e20.
  let denom = sqrt(w) / h.bc2Sqrt + h.eps;
  param[i] = p + (h.negStepSize * m) / denom;
}
