// Schedule-Free AdamW (Defazio et al. 2024; facebookresearch/schedule_free AdamWScheduleFree,
// release 1.3 on). Recipe: docs/semantics.md § Schedule-Free AdamW. `struct Hyper` and the
// bindings zSeq, expAvgSq (and expAvg with INNER_MOMENTUM) are generated from definition.ts. The
// parameters hold y while training and x in eval mode; toEval / toTrain switch them with one
// dispatch each.

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let y = param[i];
  let v = expAvgSqLoad(i) * h.beta2 + (h.oneMinusBeta2 * g) * g;
  expAvgSqStore(i, v);
  let denom = sqrt(v / h.bc2) + h.eps;
  var normalized = g / denom;
#if INNER_MOMENTUM
  // A group with innerMomentum 0 keeps no exp_avg: its step is the plain one above (the same
  // bits: with μ = 0, m = g and 1 − μᵗ = 1), without the load and store.
  if (h.innerMomentum != 0.0) {
    let m = expAvgLoad(i) * h.innerMomentum + h.oneMinusInnerMomentum * g;
    expAvgStore(i, m);
    normalized = (m / h.bc1) / denom;
  }
#endif
  let gn = select(normalized, normalized + h.weightDecay * y, h.weightDecay != 0.0);
  let z = zSeqLoad(i);
  param[i] = lerpTorch(y, z, h.ckp1) + h.yCoefficient * gn;
  zSeqStore(i, z + h.negLr * gn);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn toEval(@builtin(workgroup_id) wid: vec3<u32>,
          @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = vectorIndex(wid, nwg, lid);
  if (i >= arrayLength(&param)) {
    return;
  }
  param[i] = lerpTorch(param[i], zSeqLoad(i), hyper[groupAt(i)].toEvalWeight);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn toTrain(@builtin(workgroup_id) wid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = vectorIndex(wid, nwg, lid);
  if (i >= arrayLength(&param)) {
    return;
  }
  param[i] = lerpTorch(param[i], zSeqLoad(i), hyper[groupAt(i)].toTrainWeight);
}
