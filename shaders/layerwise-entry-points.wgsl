// A skipped step touches nothing in either entry point (partials() may write state, as LAMB's moments).
@compute @workgroup_size(PARTIALS_WORKGROUP)
fn tensorPartials(@builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  if (stepSkipped()) {
    return;
  }
  let i = (wid.y * nwg.x + wid.x) * PARTIALS_WORKGROUP + lid;
  let inside = i < arrayLength(&param);
  var s = vec4<f32>(0.0);
  if (inside) {
    s = vectorPartials(i);
  }
  chunkLanes[lid] = s;
  workgroupBarrier();
  for (var stride = 8u; stride > 0u; stride = stride / 2u) {
    if ((lid & 15u) < stride) {
      chunkLanes[lid] = chunkLanes[lid] + chunkLanes[lid + stride];
    }
    workgroupBarrier();
  }
  if (inside && (lid & 15u) == 0u) {
    tensorScratch[chunkInfo(i).y] = chunkLanes[lid];
  }
}

@compute @workgroup_size(PARTIALS_WORKGROUP)
fn tensorPartialsInRegisters(@builtin(workgroup_id) wid: vec3<u32>,
                             @builtin(num_workgroups) nwg: vec3<u32>,
                             @builtin(local_invocation_index) lid: u32) {
  let first = ((wid.y * nwg.x + wid.x) * PARTIALS_WORKGROUP + lid) * 16u;
  if (stepSkipped() || first >= arrayLength(&param)) {
    return;
  }
  var lanes: array<vec4<f32>, 16>;
  for (var l = 0u; l < 16u; l++) {
    lanes[l] = vectorPartials(first + l);
  }
  for (var stride = 8u; stride > 0u; stride = stride / 2u) {
    for (var l = 0u; l < stride; l++) {
      lanes[l] = lanes[l] + lanes[l + stride];
    }
  }
  tensorScratch[chunkInfo(first).y] = lanes[0];
}
