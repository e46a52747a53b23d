// The optimizer's partials() of vector i on the per-tensor step (PyTorch's rule for a grad that is
// None; the variant flag PER_TENSOR): its tensor's own `Hyper` row (chunkInfo's x). A tensor without
// gradient adds nothing to its sums, which its update (skipped) never reads, and partials() writes
// none of its state (LAMB's moments). With 8-bit or 4-bit state (q8-layerwise.wgsl's tiles) no slot
// of such a lane is then marked stored: it takes no part in its run's absmax and stores no codes,
// absmax or side value (runs never span tensors), so all of them stay bit for bit. With gradient
// control, the controlled gradient (its group's clip coefficient: chunkInfo's w), as the update reads it.
fn vectorPartials(i: u32) -> vec4<f32> {
  let h = hyper[chunkInfo(i).x];
  if (h.gradientAbsent != 0.0) {
    return vec4<f32>(0.0);
  }
#if GRAD_CONTROL
  return partials(i, h, controlledGradient(grad[i], groupAt(i)), validLanes(i));
#else  return partials(i, h, grad[i], validLanes(i));#endif
}
