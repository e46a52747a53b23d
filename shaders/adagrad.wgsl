// Adagrad (torch.optim.Adagrad). Spec: torch-optim-semantics.md § Adagrad.

struct Hyper {
  negClr: f32,       // f(-lr / (1 + (step - 1) * lr_decay)); with GRAD_CONTROL f(-lr), divided here
  weightDecay: f32,  // f(weight_decay)
  eps: f32,          // f(eps), added outside the sqrt
}

@group(0) @binding(4) var<storage, read_write> sum: array<vec4<f32>>;

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
  h.negClr = h.negClr / control.groups[group].stepA; // -lr / f(1 + (s-1)·lr_decay), s = device step
#endif
  let p = param[i];
  let d = workingGradient(controlledGradient(grad[i], group), p, h.weightDecay);
  let s = sum[i] + d * d;
  let denom = sqrt(s) + h.eps;
  sum[i] = s;
  param[i] = p + (h.negClr * d) / denom;
}
