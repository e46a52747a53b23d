// SGD with momentum, dampening, Nesterov (torch.optim.SGD), and the EMA ("course") momentum
// v = βv + (1−β)g from v = 0 (same arithmetic with dampening = β and no first-step copy).
// Recipe: docs/semantics.md § SGD. `struct Hyper` and the binding momentumBuffer (MOMENTUM) are
// generated from definition.ts.

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let p = param[i];
  var d = workingGradient(g, p, h.weightDecay);
#if MOMENTUM
  let hasMomentum = h.momentum != 0.0;
  let previous = momentumBufferLoad(i);
  let decayed = previous * h.momentum;
  let buf = select(decayed + h.oneMinusDampening * d, d, h.first != 0.0);
#if NESTEROV
  let direction = d + h.momentum * buf;
#else
  let direction = buf;
#endif
  // A group with momentum 0 keeps no buffer in torch: leave ours untouched.
  momentumBufferStore(i, select(previous, buf, hasMomentum));
  d = select(d, direction, hasMomentum);
#endif
  param[i] = p + h.negLr * d;
}
