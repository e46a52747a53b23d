// Generated from src/control/control-block.ts.
struct GroupControl {
  multiplier: f32, // clip-by-norm coefficient min(1, maxNorm / (norm + 1e-6)), else 1
  norm: f32,       // this group's gradient norm (after unscaling and value clipping)
  _pad0: f32,
  _pad1: f32,
  stepValues: vec4<f32>, // step-table entry of the device step (see withDeviceStep)
}

struct Control {
  skip: u32, // 1: this step is skipped (non-finite gradients with skipping on, or no step-table entry)
  stepLo: u32, // optimizer steps taken (skipped steps do not count), low 32 bits
  stepHi: u32, // … high bits: the count is exact to 2^53
  callsLo: u32, // updates executed, skipped ones included, low 32 bits
  callsHi: u32, // … high bits
  tableMiss: u32, // sticky: a step found no step-table entry (an engine bug; the host refuses to go on)
  lossScale: f32, // the loss scale (GradScaler scale)
  growthTracker: u32, // clean steps since the scale last changed
  totalNorm: f32, // norm over all tensors of the last step
  foundInf: u32, // 1: the last step had a NaN or ±Inf gradient
  preMultiplier: f32, // what gradients were multiplied by this step (1/scale · average factor)
  growthFactor: f32, // setting
  backoffFactor: f32, // setting
  growthInterval: u32, // setting
  flags: u32, // setting: CONTROL_FLAGS
  averageFactor: f32, // setting: 1, or 1/k when averaging k accumulated micro-batches
  maxNorm: f32, // setting: +Inf when off
  clipValue: f32, // setting: +Inf when off
  groupCount: u32, // setting
  _pad0: u32, // keeps the per-group entries 16-byte aligned
  groups: array<GroupControl>,
}

const FLAG_DYNAMIC_SCALE = 1u;
const FLAG_SKIP_NON_FINITE = 2u;
const FLAG_PER_GROUP_NORM = 4u;
const FLAG_INF_NORM = 8u;
const FLAG_LOSS_SCALING = 16u;
const FLAG_CLIP_BY_NORM = 32u;

// Helpers of the control path, shared by the update kernels and the gradient statistics. The
// structs they read (Control, GroupControl) and the FLAG_* constants are generated from
// src/control/control-block.ts and come first.

// Unscaling and averaging factor of the current step, from the scale before this step's update.
fn preMultiplierOf(scale: f32, flags: u32, averageFactor: f32) -> f32 {
  return select(1.0, 1.0 / scale, (flags & FLAG_LOSS_SCALING) != 0u) * averageFactor;
}

// NaN test on the bits, so a compiler that assumes finite math cannot fold it away.
fn isNan4(x: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(x) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
}

fn isNan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

// NaN or ±Inf.
fn isNonFinite4(x: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(x) & vec4<u32>(0x7fffffffu)) >= vec4<u32>(0x7f800000u);
}

// torch.clamp: NaN stays NaN (WGSL's clamp may return a bound for NaN).
fn clampNan(g: vec4<f32>, bound: f32) -> vec4<f32> {
  return select(clamp(g, vec4<f32>(-bound), vec4<f32>(bound)), g, isNan4(g));
}

// torch.max / torch.clamp(max=…) on scalars, NaN-propagating.
fn maxNan(a: f32, b: f32) -> f32 {
  return select(max(a, b), a + b, isNan(a) || isNan(b));
}

fn minNan(a: f32, b: f32) -> f32 {
  return select(min(a, b), a + b, isNan(a) || isNan(b));
}

// Generated from muon's scalar schema (src/core/scalars.ts).
struct Hyper {
  decay: f32, // f(1 − lr·weight_decay), applied to the old parameter
  negLr: f32, // f(−lr), times each matrix's f(s)
  momentum: f32, // f(μ), the Nesterov lerp weight
  oneMinusMomentum: f32, // f(1 − μ), the momentum lerp weight
  eps: f32, // f(eps), the floor of ‖X‖_F
  matchRmsAdamw: f32, // 1: s = 0.2·√max(rows, cols) ('match_rms_adamw'); 0: s = √max(1, rows/cols)
  nsSteps: f32, // nsSteps (the pass records that many steps; the twin reads it here)
  ns0a: f32, // f(a) of Newton–Schulz step 1 (0 past nsSteps)
  ns0b: f32, // f(b) of Newton–Schulz step 1 (0 past nsSteps)
  ns0c: f32, // f(c) of Newton–Schulz step 1 (0 past nsSteps)
  ns1a: f32, // f(a) of Newton–Schulz step 2 (0 past nsSteps)
  ns1b: f32, // f(b) of Newton–Schulz step 2 (0 past nsSteps)
  ns1c: f32, // f(c) of Newton–Schulz step 2 (0 past nsSteps)
  ns2a: f32, // f(a) of Newton–Schulz step 3 (0 past nsSteps)
  ns2b: f32, // f(b) of Newton–Schulz step 3 (0 past nsSteps)
  ns2c: f32, // f(c) of Newton–Schulz step 3 (0 past nsSteps)
  ns3a: f32, // f(a) of Newton–Schulz step 4 (0 past nsSteps)
  ns3b: f32, // f(b) of Newton–Schulz step 4 (0 past nsSteps)
  ns3c: f32, // f(c) of Newton–Schulz step 4 (0 past nsSteps)
  ns4a: f32, // f(a) of Newton–Schulz step 5 (0 past nsSteps)
  ns4b: f32, // f(b) of Newton–Schulz step 5 (0 past nsSteps)
  ns4c: f32, // f(c) of Newton–Schulz step 5 (0 past nsSteps)
  ns5a: f32, // f(a) of Newton–Schulz step 6 (0 past nsSteps)
  ns5b: f32, // f(b) of Newton–Schulz step 6 (0 past nsSteps)
  ns5c: f32, // f(c) of Newton–Schulz step 6 (0 past nsSteps)
  ns6a: f32, // f(a) of Newton–Schulz step 7 (0 past nsSteps)
  ns6b: f32, // f(b) of Newton–Schulz step 7 (0 past nsSteps)
  ns6c: f32, // f(c) of Newton–Schulz step 7 (0 past nsSteps)
  ns7a: f32, // f(a) of Newton–Schulz step 8 (0 past nsSteps)
  ns7b: f32, // f(b) of Newton–Schulz step 8 (0 past nsSteps)
  ns7c: f32, // f(c) of Newton–Schulz step 8 (0 past nsSteps)
  ns8a: f32, // f(a) of Newton–Schulz step 9 (0 past nsSteps)
  ns8b: f32, // f(b) of Newton–Schulz step 9 (0 past nsSteps)
  ns8c: f32, // f(c) of Newton–Schulz step 9 (0 past nsSteps)
  ns9a: f32, // f(a) of Newton–Schulz step 10 (0 past nsSteps)
  ns9b: f32, // f(b) of Newton–Schulz step 10 (0 past nsSteps)
  ns9c: f32, // f(c) of Newton–Schulz step 10 (0 past nsSteps)
  adamw: f32, // 1 in a group of role 'adamw' (its tensors take AdamW's update), else 0
  adamwBeta1: f32, // f(β₁) of AdamW
  adamwOneMinusBeta1: f32, // f(1 − β₁) of AdamW, rounded once from float64
  adamwBeta2: f32, // f(β₂) of AdamW
  adamwOneMinusBeta2: f32, // f(1 − β₂) of AdamW
  adamwNegStepSize: f32, // f(−lr / (1 − β₁ᵗ)) of AdamW
  adamwBc2Sqrt: f32, // f(√(1 − β₂ᵗ)) of AdamW
  adamwEps: f32, // f(eps) of AdamW
  adamwDecay: f32, // f(1 − lr·weight_decay) of AdamW
  roundingStep: f32, // the host update count mod 2^24 (stochastic rounding)
}

// The step-dependent scalars of the step the GPU takes (control path): bases combined with the
// step table's entry s, in f32.
fn withDeviceStep(h0: Hyper, s: vec4<f32>) -> Hyper {
  var h = h0;
  h.adamwNegStepSize = h.adamwNegStepSize / s.x;
  h.adamwBc2Sqrt = s.y;
  return h;
}

@group(0) @binding(0) var<storage, read> hyper: array<Hyper>;
@group(0) @binding(1) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> muonTable: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> muonScratch: array<f32>;
@group(0) @binding(5) var<uniform> muonSegment: vec4<u32>;
@group(0) @binding(6) var<storage, read_write> momentumBuffer: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> expAvgSq: array<vec4<f32>>;
// Shared by every optimizer kernel. src/engine/wgsl.ts assembles one kernel variant as
//   generated Control structs + control.wgsl + generated `struct Hyper` + generated bindings
//   + this file + the state slots' generated accessors + the optimizer's .wgsl (which defines
//   `fn update(i, h, g)` and reads and writes each slot only through its accessors,
//   `expAvgLoad(i)` and `expAvgStore(i, x)`).
//
// Each invocation updates VECTORS_PER_INVOCATION vec4s (4 consecutive f32 each) of one segment,
// WORKGROUP_SIZE vectors apart so that neighbouring invocations touch neighbouring memory. A
// segment is a 256-byte aligned range of the packed buffers that fits one storage binding and one
// 2-D dispatch, so the array indices are relative to the segment. Preprocessor flags (if/else
// lines) are resolved when the pipeline is created (wgsl-preprocessor), never by branching on
// per-element data.

override WORKGROUP_SIZE: u32 = 256u;
// More than one vector per invocation gives a GPU more loads in flight per thread (memory-level
// parallelism) and fewer invocations to schedule; the same arithmetic runs on every element.
override VECTORS_PER_INVOCATION: u32 = 1u;

fn vectorIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
}

fn groupAt(i: u32) -> u32 {

  // So does Muon, from its Newton–Schulz table (every tensor, its group; src/passes/newton-schulz.ts).
  return nsGroupAt(i);

}

// True when the control pass decided to skip this step (uniform: every invocation reads the same).
fn stepSkipped() -> bool {

  return false;

}

// The group's scalars; on the control path the step-dependent ones come from the device step.
fn hyperOf(group: u32) -> Hyper {

  return hyper[group];

}

// The gradient the optimizer sees: unscaled (loss scale, accumulation average), clamped by value,
// scaled by the group's clip-by-norm coefficient. Identity (exactly) without GRAD_CONTROL.
fn controlledGradient(g: vec4<f32>, group: u32) -> vec4<f32> {

  return g;

}

// torch.maximum: exact and NaN-propagating (WGSL's max may return either operand for NaN).
fn maximumNan(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return select(max(a, b), a + b, isNan4(a) | isNan4(b));
}

// torch.lerp with a scalar weight: a + w(b − a) for |w| < ½, else b − (b − a)(1 − w).
fn lerpTorch(a: vec4<f32>, b: vec4<f32>, w: f32) -> vec4<f32> {
  return select(b - (b - a) * (1.0 - w), a + w * (b - a), abs(w) < 0.5);
}

// torch.sign with NaN kept (WGSL's sign of NaN is not specified), and subnormal values counted
// as 0: GPUs may flush them (WGSL allows it), and a sign must not depend on the device.
fn signOf(x: vec4<f32>) -> vec4<f32> {
  let zeroOrSubnormal = (bitcast<vec4<u32>>(x) & vec4<u32>(0x7f800000u)) == vec4<u32>(0u);
  return select(select(sign(x), x, isNan4(x)), vec4<f32>(0.0), zeroOrSubnormal);
}

// The working gradient d: -g when maximizing, then the coupled (L2) weight decay term, skipped
// when weight_decay == 0 as torch does (0 * inf would turn an infinite parameter into NaN).
fn workingGradient(g: vec4<f32>, p: vec4<f32>, weightDecay: f32) -> vec4<f32> {

  let d = g;

  return select(d, d + weightDecay * p, weightDecay != 0.0);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // A skipped step touches nothing.
  if (stepSkipped()) {
    return;
  }
  let first = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE * VECTORS_PER_INVOCATION + lid;
  for (var k = 0u; k < VECTORS_PER_INVOCATION; k++) {
    let i = first + k * WORKGROUP_SIZE;
    // The guard: the last workgroup may reach past the segment.
    if (i >= arrayLength(&param)) {
      return;
    }
    let group = groupAt(i);
    update(i, hyperOf(group), controlledGradient(grad[i], group));
  }
}

// The Newton–Schulz pass (src/passes/newton-schulz.ts), in the update module of an optimizer that
// declares it (Muon): every matrix of the set orthogonalized together, each step three tiled
// matrix products over all matrices at once (one dispatch each, over a table of tiles) and one
// dispatch that counts the step. The tables and the scratch layout are built by the pass:
//
// muonTable (vec4<u32>):
//   [0] (matrices, tiles of the m × m products, tiles of the m × n product, first chunk entry)
//   [1] (first m × m tile entry, first m × n tile entry, X floats of the whole set, 0)
//   [2 + 3t …] matrix t: (first element in the packed set, rows, cols, X offset),
//              (A offset, B' offset, group, 0), (f32 bits of s 'original', of s 'match_rms_adamw', 0, 0)
//   tiles: (matrix, tile row << 16 | tile column, n, m); chunks: a matrix index per 64-element
//   chunk of the set, four per entry (NS_NONE: no matrix there).
// muonScratch (f32): [0] the steps taken this update; then X (two regions of `X floats`, the
//   current one by the parity of the steps taken), A, B'.
// muonSegment: (first element of the segment, 0, 0, 0).
//
// Sums over k run in increasing k, one product rounded at a time, so that the CPU twin
// (src/optimizers/muon/newton-schulz-twin.ts) follows them operation by operation.

const NS_TILE: u32 = 16u;
const NS_NONE: u32 = 0xffffffffu;

struct NsMatrix {
  offset: u32,
  rows: u32,
  cols: u32,
  x: u32,
  a: u32,
  b: u32,
  group: u32,
  m: u32,
  n: u32,
  scaleOriginal: f32,
  scaleMatch: f32,
}

fn nsMatrix(t: u32) -> NsMatrix {
  let base = 2u + 3u * t;
  let p = muonTable[base];
  let q = muonTable[base + 1u];
  let r = muonTable[base + 2u];
  return NsMatrix(p.x, p.y, p.z, p.w, q.x, q.y, q.z, min(p.y, p.z), max(p.y, p.z), bitcast<f32>(r.x), bitcast<f32>(r.y));
}

// The matrix holding element e of the packed set (NS_NONE: padding chunks).
fn nsMatrixOfElement(e: u32) -> u32 {
  let chunk = e / 64u;
  return muonTable[muonTable[0].w + chunk / 4u][chunk % 4u];
}

// Where element `local` (row-major in the tensor) of matrix `mat` sits in X (m × n, row-major).
fn nsXIndex(mat: NsMatrix, local: u32) -> u32 {
  if (mat.rows > mat.cols) {
    return (local % mat.cols) * mat.rows + local / mat.cols;
  }
  return local;
}

// X's region holding the current iterate: by the parity of the steps taken.
fn nsCurrentX() -> u32 {
  return select(0u, muonTable[1].z, (u32(muonScratch[0]) & 1u) == 1u);
}

// (O, s) of element `e` of the packed set after the iteration: O its orthogonalized value, s its
// matrix's lr adjustment; (0, 0) where no matrix is (padding).
fn nsOutput(e: u32, matchRmsAdamw: bool) -> vec2<f32> {
  let t = nsMatrixOfElement(e);
  if (t == NS_NONE) {
    return vec2<f32>(0.0, 0.0);
  }
  let mat = nsMatrix(t);
  let local = e - mat.offset;
  if (local >= mat.rows * mat.cols) {
    return vec2<f32>(0.0, 0.0);
  }
  let o = muonScratch[1u + mat.x + nsCurrentX() + nsXIndex(mat, local)];
  return vec2<f32>(o, select(mat.scaleOriginal, mat.scaleMatch, matchRmsAdamw));
}

var<workgroup> nsHeader: vec4<u32>;
var<workgroup> nsNorm: f32;

// One workgroup per matrix: ‖X‖² summed by one invocation in element order (the twin's order),
// then X ← X / max(‖X‖, eps) by all. Matrix 0's workgroup also zeroes the steps taken.
@compute @workgroup_size(64)
fn muonNorm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) {
    nsHeader = muonTable[0];
  }
  let header = workgroupUniformLoad(&nsHeader);
  let t = wid.y * nwg.x + wid.x;
  if (t >= header.x) {
    return;
  }
  let mat = nsMatrix(t);
  let size = mat.m * mat.n;
  let x = 1u + mat.x;
  if (lid == 0u) {
    var acc = 0.0;
    for (var e = 0u; e < size; e++) {
      let v = muonScratch[x + e];
      acc = acc + v * v;
    }
    nsNorm = maximumNan(vec4<f32>(sqrt(acc)), vec4<f32>(hyperOf(mat.group).eps)).x;
    if (t == 0u) {
      muonScratch[0] = 0.0;
    }
  }
  let norm = workgroupUniformLoad(&nsNorm);
  for (var e = lid; e < size; e += 64u) {
    muonScratch[x + e] = muonScratch[x + e] / norm;
  }
}

var<workgroup> nsTileL: array<array<f32, 16>, 16>;
var<workgroup> nsTileR: array<array<f32, 16>, 16>;
var<workgroup> nsTileEntry: vec4<u32>;

// The tile of this workgroup in list `which` (0: m × m, 1: m × n): (matrix, packed tile, n, m),
// the matrix NS_NONE past the list.
fn nsTileOf(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, which: u32) -> vec4<u32> {
  if (lid == 0u) {
    let flat = wid.y * nwg.x + wid.x;
    let count = select(muonTable[0].y, muonTable[0].z, which == 1u);
    let base = select(muonTable[1].x, muonTable[1].y, which == 1u);
    nsTileEntry = select(vec4<u32>(NS_NONE, 0u, 0u, 0u), muonTable[base + min(flat, count - 1u)], flat < count);
  }
  return workgroupUniformLoad(&nsTileEntry);
}

// Σ_k L(i, k)·R(k, j) over k < K in increasing k, through 16 × 16 tiles in workgroup memory:
// L(i, k) = S[l + i·ldl + k], R(k, j) = S[r + k·rk + j·rj]; (i, j) is this invocation's output,
// inside when i < rows and j < cols. K must be uniform (the barriers).
fn nsProduct(l: u32, ldl: u32, r: u32, rk: u32, rj: u32, rows: u32, cols: u32, K: u32, i: u32, j: u32, ly: u32, lx: u32) -> f32 {
  var acc = 0.0;
  for (var k0 = 0u; k0 < K; k0 += NS_TILE) {
    var left = 0.0;
    if (i < rows && k0 + lx < K) {
      left = muonScratch[l + i * ldl + k0 + lx];
    }
    var right = 0.0;
    if (j < cols && k0 + ly < K) {
      right = muonScratch[r + (k0 + ly) * rk + j * rj];
    }
    nsTileL[ly][lx] = left;
    nsTileR[ly][lx] = right;
    workgroupBarrier();
    let kk = min(NS_TILE, K - k0);
    for (var q = 0u; q < kk; q++) {
      acc = acc + nsTileL[ly][q] * nsTileR[q][lx];
    }
    workgroupBarrier();
  }
  return acc;
}

// A = X·Xᵀ (m × m).
@compute @workgroup_size(16, 16)
fn muonGram(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = nsTileOf(wid, nwg, lid.y * 16u + lid.x, 0u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let i = (tile.y >> 16u) * NS_TILE + lid.y;
  let j = (tile.y & 0xffffu) * NS_TILE + lid.x;
  let x = 1u + mat.x + nsCurrentX();
  let sum = nsProduct(x, mat.n, x, 1u, mat.n, mat.m, mat.m, tile.z, i, j, lid.y, lid.x);
  if (i < mat.m && j < mat.m) {
    muonScratch[mat.a + i * mat.m + j] = sum;
  }
}

// B' = b·A + c·(A·A) (m × m).
@compute @workgroup_size(16, 16)
fn muonPoly(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = nsTileOf(wid, nwg, lid.y * 16u + lid.x, 0u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let i = (tile.y >> 16u) * NS_TILE + lid.y;
  let j = (tile.y & 0xffffu) * NS_TILE + lid.x;
  let sum = nsProduct(mat.a, mat.m, mat.a, mat.m, 1u, mat.m, mat.m, tile.w, i, j, lid.y, lid.x);
  if (i < mat.m && j < mat.m) {
    let abc = nsCoefficients(hyperOf(mat.group), u32(muonScratch[0]));
    muonScratch[mat.b + i * mat.m + j] = abc.y * muonScratch[mat.a + i * mat.m + j] + abc.z * sum;
  }
}

// X' = a·X + B'·X (m × n), into the other X region.
@compute @workgroup_size(16, 16)
fn muonCombine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = nsTileOf(wid, nwg, lid.y * 16u + lid.x, 1u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let i = (tile.y >> 16u) * NS_TILE + lid.y;
  let j = (tile.y & 0xffffu) * NS_TILE + lid.x;
  let current = nsCurrentX();
  let x = 1u + mat.x + current;
  let sum = nsProduct(mat.b, mat.m, x, mat.n, 1u, mat.m, mat.n, tile.w, i, j, lid.y, lid.x);
  if (i < mat.m && j < mat.n) {
    let abc = nsCoefficients(hyperOf(mat.group), u32(muonScratch[0]));
    let next = 1u + mat.x + (muonTable[1].z - current);
    muonScratch[next + i * mat.n + j] = abc.x * muonScratch[x + i * mat.n + j] + sum;
  }
}

// One step taken: the next products read the other X region and the next coefficients.
@compute @workgroup_size(1)
fn muonAdvance() {
  muonScratch[0] = muonScratch[0] + 1.0;
}

fn nsCoefficients(h: Hyper, k: u32) -> vec3<f32> {
  switch k {
    case 0u: { return vec3<f32>(h.ns0a, h.ns0b, h.ns0c); }
    case 1u: { return vec3<f32>(h.ns1a, h.ns1b, h.ns1c); }
    case 2u: { return vec3<f32>(h.ns2a, h.ns2b, h.ns2c); }
    case 3u: { return vec3<f32>(h.ns3a, h.ns3b, h.ns3c); }
    case 4u: { return vec3<f32>(h.ns4a, h.ns4b, h.ns4c); }
    case 5u: { return vec3<f32>(h.ns5a, h.ns5b, h.ns5c); }
    case 6u: { return vec3<f32>(h.ns6a, h.ns6b, h.ns6c); }
    case 7u: { return vec3<f32>(h.ns7a, h.ns7b, h.ns7c); }
    case 8u: { return vec3<f32>(h.ns8a, h.ns8b, h.ns8c); }
    case 9u: { return vec3<f32>(h.ns9a, h.ns9b, h.ns9c); }
    default: { return vec3<f32>(0.0); }
  }
}

fn nsGroupAt(i: u32) -> u32 {
  let t = nsMatrixOfElement(muonSegment.x + 4u * i);
  if (t == NS_NONE) {
    return 0u;
  }
  return nsMatrix(t).group;
}

fn compactSlotIndex(i: u32) -> u32 {
  let e = muonSegment.x + 4u * i;
  let t = nsMatrixOfElement(e);
  if (t == NS_NONE || muonTable[2u + 3u * t + 2u].z == 0u) {
    return 0xffffffffu;
  }
  return (e + muonTable[2u + 3u * t + 1u].w - muonSegment.y) / 4u;
}

const NO_COMPACT_SLOT: u32 = 0xffffffffu;
fn momentumBufferLoad(i: u32) -> vec4<f32> { return momentumBuffer[i]; }
fn momentumBufferStore(i: u32, x: vec4<f32>) { momentumBuffer[i] = x; }
fn expAvgLoad(i: u32) -> vec4<f32> { return momentumBuffer[i]; }
fn expAvgStore(i: u32, x: vec4<f32>) { momentumBuffer[i] = x; }
fn expAvgSqLoad(i: u32) -> vec4<f32> { let k = compactSlotIndex(i); if (k == NO_COMPACT_SLOT) { return vec4<f32>(0.0); } return expAvgSq[k]; }
fn expAvgSqStore(i: u32, x: vec4<f32>) { let k = compactSlotIndex(i); if (k == NO_COMPACT_SLOT) { return; } expAvgSq[k] = x; }
// Muon (torch.optim.Muon's recipe), around the Newton–Schulz pass (shaders/newton-schulz.wgsl):
// muonGather updates the momentum and writes U into X before the pass; update() applies O.

// B ← lerp(B, g, 1 − μ); U = nesterov ? lerp(g, B, μ) : B, written into X (transposed when the
// matrix has more rows than columns). Run per segment with the update's bindings.
@compute @workgroup_size(WORKGROUP_SIZE)
fn muonGather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (stepSkipped()) {
    return;
  }
  let i = vectorIndex(wid, nwg, lid);
  if (i >= arrayLength(&param)) {
    return;
  }
  let group = groupAt(i);
  let h = hyperOf(group);

  // AdamW's tensors have no momentum buffer and no matrix.
  if (h.adamw != 0.0) {
    return;
  }

  let g = controlledGradient(grad[i], group);
  let b = lerpTorch(momentumBufferLoad(i), g, h.oneMinusMomentum);
  momentumBufferStore(i, b);

  let u = lerpTorch(g, b, h.momentum);

  let first = muonSegment.x + 4u * i;
  for (var l = 0u; l < 4u; l++) {
    let t = nsMatrixOfElement(first + l);
    if (t == NS_NONE) {
      continue;
    }
    let mat = nsMatrix(t);
    let local = first + l - mat.offset;
    if (local < mat.rows * mat.cols) {
      muonScratch[1u + mat.x + nsXIndex(mat, local)] = u[l];
    }
  }
}


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


// θ ← θ·(1 − lr·wd) + f(−lr·s)·O (padding: O = 0); AdamW's update in groups of role 'adamw'.
fn update(i: u32, h: Hyper, g: vec4<f32>) {

  if (h.adamw != 0.0) {
    adamwUpdate(i, h, g);
    return;
  }

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
