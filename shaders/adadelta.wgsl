// Adadelta (torch.optim.Adadelta). Spec: torch-optim-semantics.md § Adadelta.

struct Hyper {
  negLr: f32,        // f(-lr)
  weightDecay: f32,  // f(weight_decay)
  rho: f32,          // f(rho)
  oneMinusRho: f32,  // f(1 - rho)
  eps: f32,          // f(eps), added inside both square roots
}

@group(0) @binding(4) var<storage, read_write> squareAvg: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> accDelta: array<vec4<f32>>;

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
  let sq = squareAvg[i] * h.rho + (h.oneMinusRho * d) * d;
  let denom = sqrt(sq + h.eps);
  let acc = accDelta[i];
  let delta = (sqrt(acc + h.eps) / denom) * d;
  squareAvg[i] = sq;
  accDelta[i] = acc * h.rho + (h.oneMinusRho * delta) * delta;
  param[i] = p + h.negLr * delta;
}
