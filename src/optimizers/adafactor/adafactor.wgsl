// Adafactor (Shazeer & Stern 2018) with the semantics of torch.optim.Adafactor (PyTorch 2.5+).
// Recipe: docs/semantics.md § Adafactor. Besides the layer-wise bindings it reads `factors` (the
// factored state: row_var and col_var, or variance, per tensor) and `factorTable`
// (src/passes/factored.ts). The passes of one step, in order:
//   factorSums (per segment): per row and column entry, Σg² over its elements in element order,
//       carried from one segment to the next, so a split set sums exactly as an unsplit one;
//   factorUpdate: each row_var / col_var entry = lerp(old, (√Σ)² / count, 1 − β̂₂);
//   rowMeans: per batch, max(mean of its row_var, eps1);
//   tensorPartials (layerwise.wgsl): vectors' variance = lerp(old, g², 1 − β̂₂); Σp² and Σu²;
//   tensorSums, then main: p = p·(1 − lr·wd) − α/denom · u.

const FACTOR_WORKGROUP = 64u;

fn factorHeader() -> vec4<u32> {
  return factorTable[0];
}

// The invocation's index in a 2-D grid of FACTOR_WORKGROUP-wide workgroups.
fn factorIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * FACTOR_WORKGROUP + lid;
}

// Row or column entry k: (first element, stride, count, state index), and its group.
fn factorEntry(k: u32) -> vec4<u32> {
  return factorTable[1u + 2u * factorHeader().x + 2u * k];
}
fn factorEntryGroup(k: u32) -> u32 {
  return factorTable[2u + 2u * factorHeader().x + 2u * k].x;
}

// Element j of the segment's gradients, as the optimizer sees it (before maximize's sign).
fn gradientAt(j: u32, group: u32) -> f32 {
  return controlledGradient(vec4<f32>(grad[j / 4u][j % 4u]), group).x;
}

@compute @workgroup_size(FACTOR_WORKGROUP)
fn factorSums(@builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let head = factorHeader();
  let k = factorIndex(wid, nwg, lid);
  if (stepSkipped() || k >= head.y) {
    return;
  }
  let entry = factorEntry(k);
  let group = factorEntryGroup(k);
  // This segment's elements: the chunk table names each chunk's global index (scratch entry − T).
  let segmentFirst = (chunkTensor[0].y - head.x) * 64u;
  let segmentEnd = segmentFirst + arrayLength(&param) * 4u;
  if (entry.x >= segmentEnd) {
    return; // the entry starts in a later segment
  }
  var j = 0u;
  var acc = 0.0;
  if (entry.x < segmentFirst) {
    // Carried over from the earlier segments, in element order.
    j = (segmentFirst - entry.x + entry.y - 1u) / entry.y;
    acc = factors[head.w + k];
  }
  for (; j < entry.z; j++) {
    let e = entry.x + j * entry.y;
    if (e >= segmentEnd) {
      break;
    }
    let g = gradientAt(e - segmentFirst, group);
    acc = acc + g * g;
  }
  factors[head.w + k] = acc;
}

@compute @workgroup_size(FACTOR_WORKGROUP)
fn factorUpdate(@builtin(workgroup_id) wid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let head = factorHeader();
  let k = factorIndex(wid, nwg, lid);
  if (stepSkipped() || k >= head.y) {
    return;
  }
  let entry = factorEntry(k);
  let h = hyperOf(factorEntryGroup(k));
#if PER_TENSOR
  // The per-tensor pass's table names the entry's tensor (its own row): a tensor without gradient
  // keeps its row_var and col_var (factorSums and rowMeans write scratch only). The torch comment
  // shares the closing directive's line: the plain kernel's text stays as it was, byte for byte.
  if (h.gradientAbsent != 0.0) {
    return;
  }
#endif  // torch: vector_norm(g, dim).square_().div_(count)
  let norm = sqrt(factors[head.w + k]);
  let mean = (norm * norm) / f32(entry.z);
  factors[entry.w] = lerpTorch(vec4<f32>(factors[entry.w]), vec4<f32>(mean), h.beta2Weight).x;
}

@compute @workgroup_size(FACTOR_WORKGROUP)
fn rowMeans(@builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let head = factorHeader();
  let b = factorIndex(wid, nwg, lid);
  if (stepSkipped() || b >= head.z) {
    return;
  }
  let batch = factorTable[1u + 2u * head.x + 2u * head.y + b];
  var sum = 0.0;
  for (var r = 0u; r < batch.y; r++) {
    sum = sum + factors[batch.x + r];
  }
  let h = hyperOf(batch.w);
  // torch: row_var.mean(dim=-2).clamp_(min=eps1), NaN kept.
  factors[batch.z] = maximumNan(vec4<f32>(sum / f32(batch.y)), vec4<f32>(h.eps1)).x;
}

// Vector i's tensor rows of the table: (offset, length, R, C), (slot 0, slot 1, mean base, factored).
fn factorTensor(i: u32) -> array<vec4<u32>, 2> {
  let t = chunkInfo(i).x;
  return array<vec4<u32>, 2>(factorTable[1u + 2u * t], factorTable[2u + 2u * t]);
}

// Index in its tensor of the first element of vector i.
fn elementInTensor(i: u32, offset: u32) -> u32 {
  return (chunkInfo(i).y - factorHeader().x) * 64u + (i % 16u) * 4u - offset;
}

// A vector tensor's variance = lerp(variance, d², 1 − β̂₂) (tensorPartials, before any estimate).
fn updateVariance(i: u32, h: Hyper, d: vec4<f32>) {
  let rows = factorTensor(i);
  if (rows[1].w != 0u) {
    return;
  }
  let k = elementInTensor(i, rows[0].x);
  for (var lane = 0u; lane < 4u; lane++) {
    if (k + lane < rows[0].y) {
      let at = rows[1].x + k + lane;
      factors[at] = lerpTorch(vec4<f32>(factors[at]), vec4<f32>(d[lane] * d[lane]), h.beta2Weight).x;
    }
  }
}

// The second-moment estimate of vector i's elements: the variance, or row_var·col_var / row mean.
// Padding elements give 0.
fn varianceEstimate(i: u32) -> vec4<f32> {
  let rows = factorTensor(i);
  let k = elementInTensor(i, rows[0].x);
  var estimate = vec4<f32>(0.0);
  for (var lane = 0u; lane < 4u; lane++) {
    let e = k + lane;
    if (e < rows[0].y) {
      if (rows[1].w == 0u) {
        estimate[lane] = factors[rows[1].x + e];
      } else {
        let row = e / rows[0].w; // b·R + r
        let batch = row / rows[0].z;
        let column = batch * rows[0].w + e % rows[0].w;
        estimate[lane] = (factors[rows[1].x + row] * factors[rows[1].y + column]) / factors[rows[1].z + batch];
      }
    }
  }
  return estimate;
}

// u = rsqrt(max(estimate, eps1²)) · d
fn adafactorDirection(i: u32, h: Hyper, d: vec4<f32>) -> vec4<f32> {
  return (1.0 / sqrt(maximumNan(varianceEstimate(i), vec4<f32>(h.eps1Sq)))) * d;
}

fn partials(i: u32, h: Hyper, g: vec4<f32>, valid: vec4<bool>) -> vec4<f32> {
  let p = param[i];
  let d = workingGradient(g, p, 0.0);
  updateVariance(i, h, d);
  return vec4<f32>(squaredSum(p, valid), squaredSum(adafactorDirection(i, h, d), valid), 0.0, 0.0);
}

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let p = param[i];
  let d = workingGradient(g, p, 0.0);
  let sums = tensorSumsAt(i);
  let rootN = sqrt(f32(factorTensor(i)[0].y));
  // α = max(eps2, RMS(p))·ρ and denom = max(1, RMS(u)/d), as Python's max (a NaN RMS gives eps2 / 1).
  let rms = sqrt(sums.x) / rootN;
  let alpha = select(h.eps2, rms, rms > h.eps2) * h.rho;
  let ratio = sqrt(sums.y) / (rootN * h.d);
  let denom = select(1.0, ratio, ratio > 1.0);
  param[i] = p * h.decayFactor + (-alpha / denom) * adafactorDirection(i, h, d);
}
