// 8-bit state of a layer-wise optimizer whose partials() stores state (LAMB's moments), appended
// after q8.wgsl and layerwise.wgsl: `tensorPartialsBlockwise` replaces tensorPartials. Its sums
// must see the state as stored, and a stored 8-bit value is known only once its run's absmax is,
// so partials() runs twice per vec4:
//   1. its stores are kept (q8.wgsl); the runs' absmax are taken and the codes stored, as in
//      mainBlockwise;
//   2. "settled": its stores are dropped and its loads give the values just stored (decoded from
//      the codes); its sums are taken from this run.
// It runs with the format's largest tile (src/engine/optimizer-modules.ts): LANE_VECTORS = 4 under
// 'q8', 2 under 'q4' (shaders/q4.wgsl).
// Each chunk's 16 vec4 partials add up in tensorPartials' tree order (position p with p + 8, then
// p + 4, p + 2, p + 1). With 4 vec4s a lane holds positions q, q + 4, q + 8, q + 12 of its chunk,
// so the tree's first two levels are within the lane, ((s₀ + s₂) + (s₁ + s₃)), and the last two
// across the chunk's four lanes; with 2, positions q and q + 8: the first level within the lane,
// the last three across the chunk's eight lanes.
// The update pass (mainBlockwise) then only loads that state: slots update() does not store are
// not requantized.

var<workgroup> q8LanePartials: array<vec4<f32>, TILE_LANES>;

fn q8PartialsAt(i: u32, k: u32) -> vec4<f32> {
  q8K = k;
  return vectorPartials(i);
}

@compute @workgroup_size(TILE_LANES)
fn tensorPartialsBlockwise(@builtin(workgroup_id) wid: vec3<u32>,
                           @builtin(num_workgroups) nwg: vec3<u32>,
                           @builtin(local_invocation_index) lid: u32) {
  if (stepSkipped()) {
    return;
  }
  let lane = q8TileStart(wid.y * nwg.x + wid.x, lid);
  for (var k = 0u; lane.live && k < LANE_VECTORS; k++) {
    q8PartialsAt(lane.first + CHUNK_LANES * k, k);
  }
  q8Settle(lane);
  q8Settled = true;
  // 4, not LANE_VECTORS: this entry point is also in the update pass's module, made with 2.
  var sums: array<vec4<f32>, 4>;
  for (var k = 0u; lane.live && k < LANE_VECTORS; k++) {
    sums[k] = q8PartialsAt(lane.first + CHUNK_LANES * k, k);
  }
#if LANE_VECTORS_4
  q8LanePartials[lid] = (sums[0] + sums[2]) + (sums[1] + sums[3]);
#else
  q8LanePartials[lid] = sums[0] + sums[1];
#endif
  workgroupBarrier();
  if (lane.live && q8LaneInChunk() == 0u) {
#if LANE_VECTORS_4
    tensorScratch[chunkInfo(lane.first).y] = (q8LanePartials[lid] + q8LanePartials[lid + 2u]) + (q8LanePartials[lid + 1u] + q8LanePartials[lid + 3u]);
#else
    tensorScratch[chunkInfo(lane.first).y] = ((q8LanePartials[lid] + q8LanePartials[lid + 4u]) + (q8LanePartials[lid + 2u] + q8LanePartials[lid + 6u])) +
      ((q8LanePartials[lid + 1u] + q8LanePartials[lid + 5u]) + (q8LanePartials[lid + 3u] + q8LanePartials[lid + 7u]));
#endif
  }
}
