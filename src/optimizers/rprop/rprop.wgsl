// Rprop (torch.optim.Rprop). Recipe: docs/semantics.md § Rprop. `struct Hyper` and the bindings
// prev, stepSize are generated from definition.ts.

fn update(i: u32, h: Hyper, g: vec4<f32>) {
#if MAXIMIZE
  let d = -g;
#else
  let d = g;
#endif
  let s = signOf(d * prevLoad(i));
  let same = s > vec4<f32>(0.0);
  let flipped = s < vec4<f32>(0.0);
  // η₊ on the same sign, η₋ on a flip, 1 on a zero product; NaN stays NaN (torch).
  let factor = select(select(select(vec4<f32>(1.0), vec4<f32>(h.etaMinus), flipped), vec4<f32>(h.etaPlus), same), s, isNan4(s));
  let scaled = stepSizeLoad(i) * factor;
  let step = select(clamp(scaled, vec4<f32>(h.stepSizeMin), vec4<f32>(h.stepSizeMax)), scaled, isNan4(scaled));
  stepSizeStore(i, step);
  // A flipped sign moves nothing this step and is forgotten.
  let kept = select(d, vec4<f32>(0.0), flipped);
  param[i] = param[i] - signOf(kept) * step;
  prevStore(i, kept);
}
