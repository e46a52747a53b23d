// The optimizer's partials() of vector i, with its group's scalars and gradient.
fn vectorPartials(i: u32) -> vec4<f32> {
  let group = groupAt(i);
  return partials(i, hyperOf(group), controlledGradient(grad[i], group), validLanes(i));
}
