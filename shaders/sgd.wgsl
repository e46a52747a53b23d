// SGD with momentum, dampening, Nesterov (torch.optim.SGD), and the EMA ("course") momentum
// v = βv + (1−β)g from v = 0 (same arithmetic with dampening = β and no first-step copy).
// Spec: torch-optim-semantics.md § SGD. Host scalars are float64 expressions rounded once to f32.

struct Hyper {
  negLr: f32,              // f(-lr)
  weightDecay: f32,        // f(weight_decay)
  momentum: f32,           // f(momentum); 0 means this group has no momentum
  oneMinusDampening: f32,  // f(1 - dampening)
  first: f32,              // 1 on the step that creates the buffer (buf = d, undampened), else 0
}

#if MOMENTUM
@group(0) @binding(4) var<storage, read_write> momentumBuffer: array<vec4<f32>>;
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
  h.first = control.groups[group].stepA; // 1 on the first step the device actually takes
#endif
  let p = param[i];
  var d = workingGradient(controlledGradient(grad[i], group), p, h.weightDecay);
#if MOMENTUM
  let hasMomentum = h.momentum != 0.0;
  let previous = momentumBuffer[i];
  let decayed = previous * h.momentum;
  let buf = select(decayed + h.oneMinusDampening * d, d, h.first != 0.0);
#if NESTEROV
  let direction = d + h.momentum * buf;
#else
  let direction = buf;
#endif
  // A group with momentum 0 keeps no buffer in torch: leave ours untouched.
  momentumBuffer[i] = select(previous, buf, hasMomentum);
  d = select(d, direction, hasMomentum);
#endif
  param[i] = p + h.negLr * d;
}
