// RMSprop, plain / centered / with momentum (torch.optim.RMSprop). No bias correction.
// Spec: torch-optim-semantics.md § RMSprop.

struct Hyper {
  negLr: f32,          // f(-lr)
  weightDecay: f32,    // f(weight_decay)
  alpha: f32,          // f(alpha)
  oneMinusAlpha: f32,  // f(1 - alpha)
  eps: f32,            // f(eps), added outside the sqrt, after centering
  momentum: f32,       // f(momentum); 0 means this group takes the plain step
}

@group(0) @binding(4) var<storage, read_write> squareAvg: array<vec4<f32>>;
#if CENTERED
@group(0) @binding(5) var<storage, read_write> gradAvg: array<vec4<f32>>;
#endif
#if MOMENTUM
@group(0) @binding(6) var<storage, read_write> momentumBuffer: array<vec4<f32>>;
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
  let p = param[i];
  let d = workingGradient(controlledGradient(grad[i], group), p, h.weightDecay);
  let sq = squareAvg[i] * h.alpha + (h.oneMinusAlpha * d) * d;
  squareAvg[i] = sq;
#if CENTERED
  let ga = gradAvg[i] * h.alpha + h.oneMinusAlpha * d;
  gradAvg[i] = ga;
  let avg = sqrt(sq - ga * ga) + h.eps;
#else
  let avg = sqrt(sq) + h.eps;
#endif
  let plain = p + (h.negLr * d) / avg;
#if MOMENTUM
  let hasMomentum = h.momentum > 0.0;
  let previous = momentumBuffer[i];
  let buf = previous * h.momentum + d / avg;
  momentumBuffer[i] = select(previous, buf, hasMomentum);
  param[i] = select(plain, p + h.negLr * buf, hasMomentum);
#else
  param[i] = plain;
#endif
}
