// Adagrad (torch.optim.Adagrad). Spec: torch-optim-semantics.md § Adagrad.

struct Hyper {
  negClr: f32,       // f(-lr / (1 + (step - 1) * lr_decay))
  weightDecay: f32,  // f(weight_decay)
  eps: f32,          // f(eps), added outside the sqrt
}

@group(0) @binding(4) var<storage, read_write> sum: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = vectorIndex(wid, nwg, lid);
  if (i >= arrayLength(&param)) {
    return;
  }
  let h = hyperAt(i);
  let p = param[i];
  let d = workingGradient(grad[i], p, h.weightDecay);
  let s = sum[i] + d * d;
  let denom = sqrt(s) + h.eps;
  sum[i] = s;
  param[i] = p + (h.negClr * d) / denom;
}
