// Muon (torch.optim.Muon's recipe), around the Newton–Schulz pass (shaders/newton-schulz.wgsl):
// muonGather updates the momentum and writes U into the output region before the pass; update() applies O.

// B ← lerp(B, g, 1 − μ); U = nesterov ? lerp(g, B, μ) : B, written in X's layout (transposed when the
// matrix has more rows than columns). Run per segment with the update's bindings; the first
// invocation zeroes the Newton–Schulz steps taken (the pass's batch and step counter).
@compute @workgroup_size(WORKGROUP_SIZE)
fn muonGather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = vectorIndex(wid, nwg, lid);
  if (i == 0u && muonSegment.x == 0u) {
    nsStore(0u, 0.0);
  }
  if (stepSkipped()) {
    return;
  }
  if (i >= arrayLength(&param)) {
    return;
  }
  let group = groupAt(i);
  let h = hyperOf(group);
#if HYBRID
  // AdamW's tensors have no momentum buffer and no matrix.
  if (h.adamw != 0.0) {
    return;
  }
#endif
#if PER_TENSOR
  // The per-tensor step (PyTorch's rule): the pass's table names each element's tensor (its own
  // row). A matrix without gradient keeps its momentum; its slot of the output region keeps stale
  // values, which the pass iterates over and the update (passing the tensor by) never applies. The
  // next line shares the closing directive's: the plain kernel's text stays as it was, byte for byte.
  if (h.gradientAbsent != 0.0) {
    return;
  }
#endif  let g = controlledGradient(grad[i], group);
  let b = lerpTorch(momentumBufferLoad(i), g, h.oneMinusMomentum);
  momentumBufferStore(i, b);
#if NESTEROV
  let u = lerpTorch(g, b, h.momentum);
#else
  let u = b;
#endif
  let first = muonSegment.x + 4u * i;
  for (var l = 0u; l < 4u; l++) {
    let t = nsMatrixOfElement(first + l);
    if (t == NS_NONE) {
      continue;
    }
    let mat = nsMatrix(t);
    let local = first + l - mat.offset;
    if (local < mat.rows * mat.cols) {
      nsStore(mat.o + nsXIndex(mat, local), u[l]);
    }
  }
}

#if HYBRID
// AdamW beside Muon (groups of role 'adamw'): adam.wgsl's DECOUPLED update without AMSGrad,
// maximize or cautious, on the scalars prefixed `adamw`.
fn adamwUpdate(i: u32, h: Hyper, g: vec4<f32>) {
  let p = param[i] * h.adamwDecay;
  let d = workingGradient(g, p, 0.0);
  let m = expAvgLoad(i) * h.adamwBeta1 + h.adamwOneMinusBeta1 * d;
  let v = expAvgSqLoad(i) * h.adamwBeta2 + (h.adamwOneMinusBeta2 * d) * d;
  expAvgStore(i, m);
  expAvgSqStore(i, v);
  let denom = sqrt(v) / h.adamwBc2Sqrt + h.adamwEps;
  param[i] = p + (h.adamwNegStepSize * m) / denom;
}
#endif

// θ ← θ·(1 − lr·wd) + f(−lr·s)·O (padding: O = 0); AdamW's update in groups of role 'adamw'.
fn update(i: u32, h: Hyper, g: vec4<f32>) {
#if HYBRID
  if (h.adamw != 0.0) {
    adamwUpdate(i, h, g);
    return;
  }
#endif
  let first = muonSegment.x + 4u * i;
  var o = vec4<f32>(0.0);
  var s = vec4<f32>(0.0);
  for (var l = 0u; l < 4u; l++) {
    let os = nsOutput(first + l, h.matchRmsAdamw != 0.0);
    o[l] = os.x;
    s[l] = os.y;
  }
  param[i] = param[i] * h.decay + (h.negLr * s) * o;
}
