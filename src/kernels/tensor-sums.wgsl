// Per-tensor sums of the chunk partials that tensorPartials (layerwise.wgsl) wrote: one workgroup
// of 64 lanes per tensor; lane l adds chunks l, l + 64, … in order, then the lanes add in a tree.
// tensorSumsInRegisters does the same additions in one invocation per tensor, without barriers
// (for CPU adapters, as tensorPartialsInRegisters).
// The fixed order is what lets the CPU twin (src/tensor-reduction.ts) match bit for bit.
// Scratch layout: [0, T) the tensors' sums (written here), [T, T + chunks) the chunk partials.

const LANES = 64u;

// Per tensor: (scratch entry of its first chunk's partial, chunk count, 0, 0).
@group(0) @binding(0) var<storage, read> tensorChunks: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> scratch: array<vec4<f32>>;

var<workgroup> lanes: array<vec4<f32>, LANES>;

@compute @workgroup_size(LANES)
fn tensorSums(@builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let t = wid.y * nwg.x + wid.x;
  let inside = t < arrayLength(&tensorChunks);
  var s = vec4<f32>(0.0);
  if (inside) {
    let range = tensorChunks[t];
    for (var c = lid; c < range.y; c = c + LANES) {
      s = s + scratch[range.x + c];
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
    scratch[t] = lanes[0];
  }
}

@compute @workgroup_size(LANES)
fn tensorSumsInRegisters(@builtin(workgroup_id) wid: vec3<u32>,
                         @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * LANES + lid;
  if (t >= arrayLength(&tensorChunks)) {
    return;
  }
  let range = tensorChunks[t];
  var own: array<vec4<f32>, LANES>; // zero-initialized
  for (var c = 0u; c < range.y; c++) {
    own[c % LANES] = own[c % LANES] + scratch[range.x + c];
  }
  for (var stride = LANES / 2u; stride > 0u; stride = stride / 2u) {
    for (var l = 0u; l < stride; l++) {
      own[l] = own[l] + own[l + stride];
    }
  }
  scratch[t] = own[0];
}
