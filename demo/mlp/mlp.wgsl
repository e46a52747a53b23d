// A small MLP trained on the GPU: every kernel is one invocation per output element, guarded.
// Shapes are row-major: X [B × I], W [I × O] (element i·O + o), b [O], Z/A [B × O].

struct Dims {
  batch: u32,     // B
  inputs: u32,    // I
  outputs: u32,   // O
  relu: u32,      // 1: this layer's output goes through ReLU
}

@group(0) @binding(0) var<uniform> dims: Dims;

override WORKGROUP_SIZE: u32 = 64u;

fn flatIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
}

// ---- gather: X[b, :] = data[index[b], :], labels[b] = dataLabels[index[b]]
@group(0) @binding(1) var<storage, read> data: array<f32>;
@group(0) @binding(2) var<storage, read> dataLabels: array<u32>;
@group(0) @binding(3) var<storage, read> batchIndex: array<u32>;
@group(0) @binding(4) var<storage, read_write> gathered: array<f32>;
@group(0) @binding(5) var<storage, read_write> labels: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = flatIndex(wid, nwg, lid);
  if (t >= dims.batch * dims.inputs) {
    return;
  }
  let b = t / dims.inputs;
  let i = t % dims.inputs;
  let row = batchIndex[b];
  gathered[t] = data[row * dims.inputs + i];
  if (i == 0u) {
    labels[b] = dataLabels[row];
  }
}

// ---- dense forward: Z = X·W + b; A = relu(Z) or Z
@group(0) @binding(6) var<storage, read> x: array<f32>;
@group(0) @binding(7) var<storage, read> weights: array<f32>;
@group(0) @binding(8) var<storage, read> bias: array<f32>;
@group(0) @binding(9) var<storage, read_write> z: array<f32>;
@group(0) @binding(10) var<storage, read_write> a: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn denseForward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = flatIndex(wid, nwg, lid);
  if (t >= dims.batch * dims.outputs) {
    return;
  }
  let b = t / dims.outputs;
  let o = t % dims.outputs;
  var sum = bias[o];
  for (var i = 0u; i < dims.inputs; i = i + 1u) {
    sum = sum + x[b * dims.inputs + i] * weights[i * dims.outputs + o];
  }
  z[t] = sum;
  a[t] = select(sum, max(sum, 0.0), dims.relu != 0u);
}

// ---- softmax cross-entropy over logits Z [B × O]: per-sample loss and correctness, and
//      dZ = (softmax − onehot) / B.
@group(0) @binding(11) var<storage, read> logits: array<f32>;
@group(0) @binding(12) var<storage, read> targets: array<u32>;
@group(0) @binding(13) var<storage, read_write> dLogits: array<f32>;
@group(0) @binding(14) var<storage, read_write> sampleLoss: array<f32>;
@group(0) @binding(15) var<storage, read_write> sampleCorrect: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn softmaxCrossEntropy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = flatIndex(wid, nwg, lid);
  if (b >= dims.batch) {
    return;
  }
  let row = b * dims.outputs;
  var best = logits[row];
  var arg = 0u;
  for (var o = 1u; o < dims.outputs; o = o + 1u) {
    if (logits[row + o] > best) {
      best = logits[row + o];
      arg = o;
    }
  }
  var total = 0.0;
  for (var o = 0u; o < dims.outputs; o = o + 1u) {
    total = total + exp(logits[row + o] - best);
  }
  let y = targets[b];
  sampleLoss[b] = log(total) - (logits[row + y] - best);
  sampleCorrect[b] = select(0u, 1u, arg == y);
  let scale = 1.0 / f32(dims.batch);
  for (var o = 0u; o < dims.outputs; o = o + 1u) {
    let p = exp(logits[row + o] - best) / total;
    dLogits[row + o] = (p - select(0.0, 1.0, o == y)) * scale;
  }
}

// ---- backward: dW = Xᵀ·dZ, db = Σ_b dZ, dX = (dZ·Wᵀ) ⊙ relu'(Z_prev)
@group(0) @binding(16) var<storage, read> dz: array<f32>;
@group(0) @binding(17) var<storage, read_write> dWeights: array<f32>;
@group(0) @binding(18) var<storage, read_write> dBias: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn denseBackwardParams(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = flatIndex(wid, nwg, lid);
  if (t >= (dims.inputs + 1u) * dims.outputs) {
    return;
  }
  let i = t / dims.outputs;
  let o = t % dims.outputs;
  var sum = 0.0;
  if (i < dims.inputs) {
    for (var b = 0u; b < dims.batch; b = b + 1u) {
      sum = sum + x[b * dims.inputs + i] * dz[b * dims.outputs + o];
    }
    dWeights[t] = sum;
  } else {
    for (var b = 0u; b < dims.batch; b = b + 1u) {
      sum = sum + dz[b * dims.outputs + o];
    }
    dBias[o] = sum;
  }
}

@group(0) @binding(19) var<storage, read> zPrev: array<f32>;
@group(0) @binding(20) var<storage, read_write> dzPrev: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn denseBackwardInput(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = flatIndex(wid, nwg, lid);
  if (t >= dims.batch * dims.inputs) {
    return;
  }
  let b = t / dims.inputs;
  let i = t % dims.inputs;
  var sum = 0.0;
  for (var o = 0u; o < dims.outputs; o = o + 1u) {
    sum = sum + dz[b * dims.outputs + o] * weights[i * dims.outputs + o];
  }
  // The previous layer's ReLU: its derivative is 1 where its pre-activation was positive.
  dzPrev[t] = select(0.0, sum, zPrev[t] > 0.0);
}
