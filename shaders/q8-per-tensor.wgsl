// The per-tensor step (PyTorch's rule for a parameter whose grad is None) with 8-bit or 4-bit state,
// appended after q8.wgsl (and q4.wgsl) to a variant with PER_TENSOR only: the tiles of `mainBlockwise`,
// each lane's row of scalars the `Hyper` of its chunk's tensor (`chunkRow`, as in per-tensor.wgsl:
// the tensor's own step count). A lane of a tensor without gradient takes no part in the tile: it
// runs no update, so it stores no side value, and it neither takes part in its run's absmax nor
// stores codes or an absmax. Runs never span tensors (a block is split at each tensor's start), so
// every code, absmax and side value of such a tensor is left bit for bit, and a run of a tensor that
// has its gradient is settled as in `mainBlockwise`. With gradient control (GRAD_CONTROL) a lane
// reads the controlled gradient and a skipped step touches nothing, as in `mainBlockwise`.

@compute @workgroup_size(TILE_LANES)
fn mainBlockwisePerTensor(@builtin(workgroup_id) wid: vec3<u32>,
                          @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
#if GRAD_CONTROL
  // Uniform: every invocation reads the same flag.
  if (stepSkipped()) {
    return;
  }
#endif  var lane = q8TileStart(wid.y * nwg.x + wid.x, lid);
  if (lane.live) {
    let h = hyper[chunkRow[lane.chunk]];
    lane.live = h.gradientAbsent == 0.0;
    for (var k = 0u; lane.live && k < LANE_VECTORS; k++) {
      q8K = k;
      let i = lane.first + CHUNK_LANES * k;
#if GRAD_CONTROL
      update(i, h, controlledGradient(grad[i], q8Entry.x));
#else      update(i, h, grad[i]);
#endif    }
  }
  // Every lane reaches the barriers in q8Settle (uniform control flow); absent lanes store nothing.
  q8Settle(lane);
}
