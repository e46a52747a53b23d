// The per-tensor step (PyTorch's rule for a parameter whose grad is None): appended to a kernel
// variant with PER_TENSOR only, so the kernels of a step where every tensor has its gradient and
// its step count equal to the others' stay exactly as they are. Each tensor has its own `Hyper`
// row in the ring slot (its group's scalars at its own step count); `chunkRow` gives the row of
// every 64-element chunk (16 vec4) of the segment, and a row with `gradientAbsent` set leaves the
// tensor's parameters and state untouched.

@compute @workgroup_size(WORKGROUP_SIZE)
fn mainPerTensor(@builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
#if GRAD_CONTROL
  // Gradient control (clipping, loss scaling without skipping): its statistics left out the
  // tensors without gradient; a step it skipped (a missing step-table row) touches nothing.
  if (stepSkipped()) {
    return;
  }
#endif  let first = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE * VECTORS_PER_INVOCATION + lid;
  for (var k = 0u; k < VECTORS_PER_INVOCATION; k++) {
    let i = first + k * WORKGROUP_SIZE;
    // The guard: the last workgroup may reach past the segment.
    if (i >= arrayLength(&param)) {
      return;
    }
#if CHUNKS_IN_SCRATCH
    // The chunk's tensor from the chunk table in the per-tensor sums' scratch (Prodigy's): no
    // `chunkRow` binding, so that the variant binds as many storage buffers as the plain kernel.
    let h = hyper[chunkInfo(i).x];
#elif NS_GROUPS
    // Muon's: the chunk's tensor from the per-tensor Newton–Schulz table (its matrices name their
    // tensor): no `chunkRow` binding either, so the variant binds as many storage buffers as `main`.
    let h = hyper[nsGroupAt(i)];
#else    let h = hyper[chunkRow[i / 16u]];
#endif    // Uniform per chunk: a tensor starts on a chunk boundary (layout.ts), so a chunk has one row.
    if (h.gradientAbsent != 0.0) {
      continue;
    }
#if GRAD_CONTROL
    // The row's scalars are at the tensor's own count (not the device step's); the gradient is
    // unscaled and clipped as the plain kernel's, by its group's coefficient.
    update(i, h, controlledGradient(grad[i], groupAt(i)));
#else    update(i, h, grad[i]);
#endif  }
}
