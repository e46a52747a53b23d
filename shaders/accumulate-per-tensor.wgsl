// Gradient accumulation under PyTorch's step rule: acc += grad over one segment, for the tensors
// this micro-batch wrote only. `chunkRow` gives each 64-element chunk's (16 vec4) tensor, `marks`
// (this call's slot of a ring) whether that tensor was written; an unmarked tensor's accumulator is
// left as it is (its gradient buffer region may hold anything: stale values, NaN).
// The bindings (accumulated, grad, chunkRow, marks) are generated from their list in
// src/control/per-tensor-accumulation.ts.

override WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= arrayLength(&accumulated)) {
    return;
  }
  // Uniform per chunk: a tensor starts on a chunk boundary (layout.ts).
  if (marks[chunkRow[i / 16u]] == 0u) {
    return;
  }
  accumulated[i] = accumulated[i] + grad[i];
}
