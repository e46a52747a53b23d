// Schedule-Free AdamW as published (Defazio et al. 2024; facebookresearch/schedule_free
// AdamWScheduleFreePaper). Recipe: docs/semantics.md § Schedule-Free AdamW (paper form). `struct Hyper` and the bindings zSeq, expAvgSq
// are generated from definition.ts. The parameters hold y while training and x in eval mode;
// toEval / toTrain switch them with one dispatch each.

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let y = param[i];
  let v = expAvgSqLoad(i) * h.beta2 + (h.oneMinusBeta2 * g) * g;
  expAvgSqStore(i, v);
  let normalized = g / (sqrt(v) + h.eps);
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
