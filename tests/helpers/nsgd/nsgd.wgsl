// Normalized SGD (test-only): p = p − lr · g / max(‖g‖, eps), ‖g‖ over each tensor. Its pass
// (tensor-grad-squares.ts) sums g² per tensor into `nsgdSums` before the update; `nsgdChunks`
// names each chunk's tensor, `nsgdTensors` each tensor's (first element, length, group) and
// `nsgdSegment` the segment's (first element, elements).

@compute @workgroup_size(64)
fn tensorGradSquares(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  if (stepSkipped() || t >= arrayLength(&nsgdTensors)) {
    return;
  }
  let tensor = nsgdTensors[t];
  let first = nsgdSegment.x;
  let end = first + nsgdSegment.y;
  let tensorEnd = tensor.x + tensor.y;
  if (tensorEnd <= first || tensor.x >= end) {
    return; // not in this segment
  }
  // In element order, carried from the earlier segments: a split set sums as an unsplit one.
  var acc = 0.0;
  if (tensor.x < first) {
    acc = nsgdSums[t];
  }
  for (var e = max(tensor.x, first); e < min(tensorEnd, end); e++) {
    let j = e - first;
    let g = controlledGradient(vec4<f32>(grad[j / 4u][j % 4u]), tensor.z).x;
    acc = acc + g * g;
  }
  nsgdSums[t] = acc;
}

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let norm = maximumNan(vec4<f32>(sqrt(nsgdSums[nsgdChunks[i / 16u]])), vec4<f32>(h.eps));
  param[i] = param[i] + h.negLr * (g / norm);
}
