// Per-tensor sums of the chunk partials that tensorPartials (layerwise.wgsl) wrote, in two passes
// of this same code with two tables (src/passes/tensor-reduction.ts): first one row per span of up to 4096
// chunks of a tensor, then one row per tensor of several spans, over its span sums. Each row is
// one workgroup of 64 lanes: lane l adds inputs l, l + 64, … in order, then the lanes add in a tree.
// tensorSumsInRegisters does the same additions in one invocation per row, without barriers (for
// CPU adapters, as tensorPartialsInRegisters).
// The fixed order is what lets the CPU twin (src/passes/tensor-reduction.ts) match bit for bit.
// Scratch layout: [0, T) the tensors' sums, [T, T + chunks) the chunk partials, then span sums.
// The bindings (rows, scratch) are generated from their list in src/passes/tensor-sums.ts.

const LANES = 64u;

var<workgroup> lanes: array<vec4<f32>, LANES>;

@compute @workgroup_size(LANES)
fn tensorSums(@builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let r = wid.y * nwg.x + wid.x;
  let inside = r < arrayLength(&rows);
  var s = vec4<f32>(0.0);
  if (inside) {
    let row = rows[r];
    for (var c = lid; c < row.y; c = c + LANES) {
      s = s + scratch[row.x + c];
    }
  }
  lanes[lid] = s;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      lanes[lid] = lanes[lid] + lanes[lid + stride];
    }
    workgroupBarrier();
  }
  if (inside && lid == 0u) {
    scratch[rows[r].z] = lanes[0];
  }
}

@compute @workgroup_size(LANES)
fn tensorSumsInRegisters(@builtin(workgroup_id) wid: vec3<u32>,
                         @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let r = (wid.y * nwg.x + wid.x) * LANES + lid;
  if (r >= arrayLength(&rows)) {
    return;
  }
  let row = rows[r];
  var own: array<vec4<f32>, LANES>; // zero-initialized
  for (var c = 0u; c < row.y; c++) {
    own[c % LANES] = own[c % LANES] + scratch[row.x + c];
  }
  for (var stride = LANES / 2u; stride > 0u; stride = stride / 2u) {
    for (var l = 0u; l < stride; l++) {
      own[l] = own[l] + own[l + stride];
    }
  }
  scratch[row.z] = own[0];
}
