// Gradient accumulation: acc += grad over one segment (micro-batches between optimizer updates).
// The bindings (accumulated, grad) are generated from their list in src/control/accumulator.ts.

override WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= arrayLength(&accumulated)) {
    return;
  }
  accumulated[i] = accumulated[i] + grad[i];
}
