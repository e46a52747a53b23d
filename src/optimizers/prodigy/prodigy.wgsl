// Prodigy (Mishchenko & Defazio 2023) with the authors' prodigyopt semantics (prodigy.py @ 3efb213).
// Recipe: docs/semantics.md § Prodigy. d is one estimate for the whole set, kept with its companions
// in the last 4 entries of the per-tensor sums' scratch, after each tensor's group
// (src/optimizers/prodigy/scalars-pass.ts; the word indices below).
// A step is three dispatches in the step's compute pass, no readback:
//   tensorPartials (layerwise.wgsl) runs partials(): the working gradient, the moments and s with
//       the old d, and per vec4 (g·(p0 − p), |s|), summed per tensor by tensorSums;
//   prodigyFold (one invocation): the tensors' sums folded in tensor order into d's numerator and
//       Σ|s|, then d̂, d, d_max, k (or, when Σ|s| = 0, the authors' early return: no update);
//   main: update() with the old dlr and the new d.

const PRODIGY_D = 0u;
const PRODIGY_NUMERATOR = 1u;
const PRODIGY_D_MAX = 2u;
const PRODIGY_D_HAT = 3u;
const PRODIGY_K = 4u;
// β₁ᵏ and β₂ᵏ, multiplied in f32 as the steps are taken (the bias correction's powers).
const PRODIGY_BETA1_POWER = 5u;
const PRODIGY_BETA2_POWER = 6u;
// dlr of the step's first half (the old d), for update().
const PRODIGY_DLR = 7u;
// 1: the fold moved d and the parameters are updated; 0: Σ|s| was 0 (or no step yet).
const PRODIGY_APPLIED = 8u;
// The tensor count (a u32's bits).
const PRODIGY_TENSORS = 9u;

// The scalars' first entry: the scratch's last 4.
fn prodigyBase() -> u32 {
  return arrayLength(&tensorScratch) - 4u;
}
fn prodigyWord(j: u32) -> f32 {
  return tensorScratch[prodigyBase() + j / 4u][j % 4u];
}
fn prodigySetWord(j: u32, x: f32) {
  tensorScratch[prodigyBase() + j / 4u][j % 4u] = x;
}
// Tensor t's group, from the entries before the scalars.
fn prodigyTensorGroup(t: u32, tensors: u32) -> u32 {
  let first = prodigyBase() - (tensors + 3u) / 4u;
  return bitcast<u32>(tensorScratch[first + t / 4u][t % 4u]);
}
// Tensor t's first element in the packed buffers, from the entries before the groups.
fn prodigyTensorOffset(t: u32, tensors: u32) -> u32 {
  let first = prodigyBase() - 2u * ((tensors + 3u) / 4u);
  return bitcast<u32>(tensorScratch[first + t / 4u][t % 4u]);
}

// The authors' slice_p: which elements of vector i s and d's numerator take, those whose index in
// their (flattened) tensor sliceP divides. The chunk's partial entry is the tensor count plus its
// chunk in the packed buffers (src/passes/tensor-reduction.ts).
fn prodigySliced(i: u32, h: Hyper) -> vec4<bool> {
  let info = chunkInfo(i);
  let tensors = bitcast<u32>(prodigyWord(PRODIGY_TENSORS));
  let e = (info.y - tensors) * 64u + (i % 16u) * 4u - prodigyTensorOffset(info.x, tensors);
  let slice = u32(h.sliceP);
  return vec4<u32>(e, e + 1u, e + 2u, e + 3u) % vec4<u32>(slice) == vec4<u32>(0u);
}

// d·lr·bc with d and the powers as they are before the fold (β^(k+1): this step's power).
fn prodigyDlr(h: Hyper) -> f32 {
  let d = prodigyWord(PRODIGY_D);
  var bias = 1.0;
  if (h.biasCorrection != 0.0) {
    let q1 = prodigyWord(PRODIGY_BETA1_POWER) * h.beta1;
    let q2 = prodigyWord(PRODIGY_BETA2_POWER) * h.beta2;
    bias = sqrt(1.0 - q2) / (1.0 - q1);
  }
  return (d * h.lr) * bias;
}

// The authors' gradient after the coupled (L2) decay, which they add to p.grad in place.
fn prodigyGradient(g: vec4<f32>, p: vec4<f32>, h: Hyper) -> vec4<f32> {
#if DECOUPLED
  return g;
#else
  return select(g, g + h.weightDecay * p, h.weightDecay != 0.0);
#endif
}

fn sumOf(a: vec4<f32>, valid: vec4<bool>) -> f32 {
  let s = select(vec4<f32>(0.0), a, valid);
  return ((s.x + s.y) + s.z) + s.w;
}

fn partials(i: u32, h: Hyper, g: vec4<f32>, valid: vec4<bool>) -> vec4<f32> {
  let p = param[i];
  let w = prodigyGradient(g, p, h);
  let d = prodigyWord(PRODIGY_D);
  let ratio = d / h.d0;
  let numeratorFactor = ratio * prodigyDlr(h);
  let sFactor = select(numeratorFactor, ratio * d, h.safeguardWarmup != 0.0);
#if FIRST_MOMENT
  expAvgStore(i, expAvgLoad(i) * h.beta1 + (d * h.oneMinusBeta1) * w);
#endif
  expAvgSqStore(i, expAvgSqLoad(i) * h.beta2 + (((d * d) * h.oneMinusBeta2) * w) * w);
  let sliced = valid & prodigySliced(i, h);
  let s = prodigySLoad(i);
  prodigySStore(i, select(s, s * h.beta3 + sFactor * w, sliced));
  return vec4<f32>(sumOf(w * (prodigyP0Load(i) - p), sliced), sumOf(abs(prodigySLoad(i)), sliced), 0.0, 0.0);
}

// Python's max(a, b) and min(a, b): a unless b compares greater (smaller), so a NaN b keeps a.
fn pythonMax(a: f32, b: f32) -> f32 {
  return select(a, b, b > a);
}
fn pythonMin(a: f32, b: f32) -> f32 {
  return select(a, b, b < a);
}

@compute @workgroup_size(1)
fn prodigyFold() {
  if (stepSkipped()) {
    return;
  }
  let h0 = hyperOf(0u);
  let d = prodigyWord(PRODIGY_D);
  let dlr = prodigyDlr(h0);
  var numerator = 0.0;
  var denominator = 0.0;
  let tensors = bitcast<u32>(prodigyWord(PRODIGY_TENSORS));
  for (var t = 0u; t < tensors; t++) {
#if PER_TENSOR
    // The per-tensor step (PyTorch's rule): tensor t's own row; one without gradient adds nothing,
    // as the authors' loops pass it by (its sums were not computed). Global scalars are equal in
    // every row (their options are equal in every group).
    let h = hyper[t];
    if (h.gradientAbsent != 0.0) {
      continue;
    }
    // The plain kernel's lines share the directives' lines: its text stays as it was, byte for byte.
#else    let h = hyperOf(prodigyTensorGroup(t, tensors));
#endif    let sums = tensorScratch[t];
    numerator = numerator + ((d / h.d0) * dlr) * sums.x;
    denominator = denominator + sums.y;
  }
  if (denominator == 0.0) {
    prodigySetWord(PRODIGY_APPLIED, 0.0);
    return;
  }
  let total = prodigyWord(PRODIGY_NUMERATOR) * h0.beta3 + numerator;
  let dHat = (h0.dCoef * total) / denominator;
  var next = d;
  if (d == h0.d0) {
    next = pythonMax(d, dHat);
  }
  let dMax = pythonMax(prodigyWord(PRODIGY_D_MAX), dHat);
  prodigySetWord(PRODIGY_D, pythonMin(dMax, next * h0.growthRate));
  prodigySetWord(PRODIGY_NUMERATOR, total);
  prodigySetWord(PRODIGY_D_MAX, dMax);
  prodigySetWord(PRODIGY_D_HAT, dHat);
  prodigySetWord(PRODIGY_K, prodigyWord(PRODIGY_K) + 1.0);
  prodigySetWord(PRODIGY_BETA1_POWER, prodigyWord(PRODIGY_BETA1_POWER) * h0.beta1);
  prodigySetWord(PRODIGY_BETA2_POWER, prodigyWord(PRODIGY_BETA2_POWER) * h0.beta2);
  prodigySetWord(PRODIGY_DLR, dlr);
  prodigySetWord(PRODIGY_APPLIED, 1.0);
}

fn update(i: u32, h: Hyper, g: vec4<f32>) {
  if (prodigyWord(PRODIGY_APPLIED) == 0.0) {
    return;
  }
  let d = prodigyWord(PRODIGY_D);
  let dlr = prodigyWord(PRODIGY_DLR);
  let denom = sqrt(expAvgSqLoad(i)) + d * h.eps;
  let old = param[i];
  var p = old;
#if DECOUPLED
  if (h.weightDecay != 0.0) {
    p = p + (-h.weightDecay * dlr) * p;
  }
#endif
#if FIRST_MOMENT
  param[i] = p + ((-dlr) * expAvgLoad(i)) / denom;
#else
  param[i] = p + (((-dlr) * d) * prodigyGradient(g, old, h)) / denom;
#endif
}
