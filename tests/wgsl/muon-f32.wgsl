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
  nsBf16: f32, // 1: Newton–Schulz values rounded to bfloat16 (nsPrecision 'bf16'); 0: f32
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
@group(0) @binding(4) var<storage, read_write> muonScratch: array<vec4<f32>>;
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

const NS_SPLIT_K: u32 = 1024u;
const NS_SPLIT_MAX_M: u32 = 32u;


// The Newton–Schulz pass (src/passes/newton-schulz.ts), in the update module of an optimizer that
// declares it (Muon): every matrix of the set orthogonalized together, batch after batch (one
// batch unless the scratch budget is exceeded), each step three tiled matrix products over all
// matrices of the batch (one dispatch each, over a table of tiles; the GEMMs are generated by
// src/passes/newton-schulz-gemm.ts) and one dispatch that counts the step. The tables and the
// scratch layout are built by src/passes/newton-schulz-plan.ts:
//
// muonTable (vec4<u32>):
//   [0] (matrices, batches, first chunk entry, first batch entry)
//   [1] (output floats of the whole set, 0, 0, 0)
//   [2 + 3t …] matrix t: (first element in the packed set, rows, cols, output offset),
//              (X₀ offset, X₁ offset, A offset, B' offset) in its batch's region,
//              (group, f32 bits of s 'original', of s 'match_rms_adamw', compact-slot shift or 0xffffffff)
//   batches, four entries each: (first matrix, matrices, first split tile entry, split tiles), then
//              per tile class (16², 32², 64²)
//              (first m × m tile entry, m × m tiles, first m × n tile entry, m × n tiles)
//   tiles: (matrix, tile row << 16 | tile column, n, m), the m × m ones upper-triangle only;
//   split tiles (X·Xᵀ of long, thin matrices, nsSplitChunks): (matrix, 16² tile row << 16 | column,
//              chunk of k, its length), upper-triangle only;
//   chunks: a matrix index per 64-element chunk of the set, four per entry (NS_NONE: no matrix).
// muonScratch (f32 elements, bound as vec4s: nsLoad, nsStore, nsLoad4): [0] the Newton–Schulz steps taken this update over all batches (batch =
//   steps / nsSteps, step = steps % nsSteps; zeroed by the gather); the output region (X's layout:
//   U, then O); the batch region (per matrix X₀, X₁, A, B', and for a split matrix its chunks'
//   partial sums of X·Xᵀ, m² each, after B').
//
// Split-K (long, thin matrices: m ≤ NS_SPLIT_MAX_M, n > NS_SPLIT_K): X·Xᵀ is summed per chunk of
// NS_SPLIT_K columns in a workgroup per chunk and tile (muonGramSplit), each chunk in increasing k,
// then muonGramReduce adds the chunks in chunk order; muonGram skips these matrices.
// muonSegment: (first element of the segment, 0, 0, 0).
//
// Sums over k run in increasing k, one product rounded at a time; ‖X‖² in NS_NORM_LANES strided
// partial sums added in lane order; so that the CPU twin (src/optimizers/muon/newton-schulz-twin.ts)
// follows them operation by operation. h.nsBf16: every product's output (and X, ‖X‖) rounded to
// bfloat16 as torch.optim.Muon computes them.

const NS_NONE: u32 = 0xffffffffu;
const NS_NORM_LANES: u32 = 64u;

struct NsMatrix {
  offset: u32,
  rows: u32,
  cols: u32,
  o: u32,
  x0: u32,
  x1: u32,
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
  return NsMatrix(p.x, p.y, p.z, p.w, q.x, q.y, q.z, q.w, r.x, min(p.y, p.z), max(p.y, p.z), bitcast<f32>(r.y), bitcast<f32>(r.z));
}

// The scratch is bound as vec4s, so that the GEMMs' slab loads read 16 bytes at a time where
// aligned (nsAligned): element i is component i % 4 of vec4 i / 4.
fn nsLoad(i: u32) -> f32 {
  return muonScratch[i >> 2u][i & 3u];
}

fn nsStore(i: u32, v: f32) {
  muonScratch[i >> 2u][i & 3u] = v;
}

// Elements i … i + 3 (i a multiple of 4).
fn nsLoad4(i: u32) -> vec4<f32> {
  return muonScratch[i >> 2u];
}

// x rounded to bfloat16 (to nearest, ties to even; NaN kept) when `bf16`, else x.
fn nsRound(x: f32, bf16: bool) -> f32 {
  let u = bitcast<u32>(x);
  if (!bf16 || (u & 0x7fffffffu) > 0x7f800000u) {
    return x;
  }
  return bitcast<f32>((u + 0x7fffu + ((u >> 16u) & 1u)) & 0xffff0000u);
}

// Whether a matrix's products stage their slabs by vec4 loads: m and n multiples of 4 (every row of
// X, A and B' then starts on a 16-byte boundary: the plan aligns each region to 4 floats).
fn nsAligned(mat: NsMatrix) -> bool {
  return (mat.m & 3u) == 0u && (mat.n & 3u) == 0u;
}

// (batch, step within it) of the dispatch being run.
fn nsStep() -> vec2<u32> {
  let steps = u32(hyperOf(0u).nsSteps);
  let taken = u32(nsLoad(0u));
  return vec2<u32>(taken / steps, taken % steps);
}

// The matrix holding element e of the packed set (NS_NONE: padding chunks).
fn nsMatrixOfElement(e: u32) -> u32 {
  let chunk = e / 64u;
  return muonTable[muonTable[0].z + chunk / 4u][chunk % 4u];
}

// Where element `local` (row-major in the tensor) of matrix `mat` sits in X (m × n, row-major).
fn nsXIndex(mat: NsMatrix, local: u32) -> u32 {
  if (mat.rows > mat.cols) {
    return (local % mat.cols) * mat.rows + local / mat.cols;
  }
  return local;
}

// X's region holding the current iterate at `step`: by its parity.
fn nsCurrentX(mat: NsMatrix, step: u32) -> u32 {
  return select(mat.x0, mat.x1, (step & 1u) == 1u);
}

// Where step `step` writes: the other X region, or the output region after the last step.
fn nsNextX(mat: NsMatrix, step: u32) -> u32 {
  if (step + 1u == u32(hyperOf(0u).nsSteps)) {
    return mat.o;
  }
  return select(mat.x1, mat.x0, (step & 1u) == 1u);
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
  let o = nsLoad(mat.o + nsXIndex(mat, local));
  return vec2<f32>(o, select(mat.scaleOriginal, mat.scaleMatch, matchRmsAdamw));
}

var<workgroup> nsHeader: vec4<u32>;
var<workgroup> nsNorm: f32;
var<workgroup> nsPartials: array<f32, NS_NORM_LANES>;

// One workgroup per matrix of the batch: ‖X‖² as NS_NORM_LANES partial sums (lane l: the elements
// e ≡ l mod NS_NORM_LANES in increasing e) added in lane order, then X₀ ← U / max(‖U‖, eps).
@compute @workgroup_size(NS_NORM_LANES)
fn muonNorm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) {
    nsHeader = muonTable[muonTable[0].w + 4u * nsStep().x];
  }
  let header = workgroupUniformLoad(&nsHeader);
  let flat = wid.y * nwg.x + wid.x;
  if (flat >= header.y) {
    return;
  }
  let mat = nsMatrix(header.x + flat);
  let h = hyperOf(mat.group);
  let bf16 = h.nsBf16 != 0.0;
  let size = mat.m * mat.n;
  var acc = 0.0;
  for (var e = lid; e < size; e += NS_NORM_LANES) {
    let v = nsRound(nsLoad(mat.o + e), bf16);
    acc = acc + v * v;
  }
  nsPartials[lid] = acc;
  workgroupBarrier();
  if (lid == 0u) {
    var total = 0.0;
    for (var l = 0u; l < NS_NORM_LANES; l++) {
      total = total + nsPartials[l];
    }
    nsNorm = nsRound(maximumNan(vec4<f32>(nsRound(sqrt(total), bf16)), vec4<f32>(h.eps)).x, bf16);
  }
  let norm = workgroupUniformLoad(&nsNorm);
  for (var e = lid; e < size; e += NS_NORM_LANES) {
    nsStore(mat.x0 + e, nsRound(nsRound(nsLoad(mat.o + e), bf16) / norm, bf16));
  }
}

var<workgroup> nsTileEntry: vec4<u32>;

// The tile of this workgroup in this batch's list `which` (0: m × m, 1: m × n of tile class `cls`;
// 2: the split tiles): the entry, its matrix NS_NONE past the list.
fn nsTileOf(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, which: u32, cls: u32) -> vec4<u32> {
  if (lid == 0u) {
    let flat = wid.y * nwg.x + wid.x;
    let lists = muonTable[muonTable[0].w + 4u * nsStep().x + select(1u + cls, 0u, which == 2u)];
    let list = select(lists.xy, lists.zw, which >= 1u);
    nsTileEntry = select(vec4<u32>(NS_NONE, 0u, 0u, 0u), muonTable[list.x + min(flat, list.y - 1u)], flat < list.y);
  }
  return workgroupUniformLoad(&nsTileEntry);
}

// The chunks of X·Xᵀ's sum over k (1: not split), a rule of the shape the plan and the twin share.
fn nsSplitChunks(mat: NsMatrix) -> u32 {
  if (mat.m == 0u || mat.m > NS_SPLIT_MAX_M || mat.n <= NS_SPLIT_K) {
    return 1u;
  }
  return (mat.n + NS_SPLIT_K - 1u) / NS_SPLIT_K;
}

// A split matrix's X·Xᵀ: its chunks' partial sums added in chunk order, rounded as muonGram rounds.
// One workgroup per matrix of the batch (the others return).
@compute @workgroup_size(NS_NORM_LANES)
fn muonGramReduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) {
    nsHeader = muonTable[muonTable[0].w + 4u * nsStep().x];
  }
  let header = workgroupUniformLoad(&nsHeader);
  let flat = wid.y * nwg.x + wid.x;
  if (flat >= header.y) {
    return;
  }
  let mat = nsMatrix(header.x + flat);
  let chunks = nsSplitChunks(mat);
  if (chunks == 1u) {
    return;
  }
  let bf16 = hyperOf(mat.group).nsBf16 != 0.0;
  let mm = mat.m * mat.m;
  for (var e = lid; e < mm; e += NS_NORM_LANES) {
    var total = 0.0;
    for (var c = 0u; c < chunks; c++) {
      total = total + nsLoad(mat.b + mm * (1u + c) + e);
    }
    nsStore(mat.a + e, nsRound(total, bf16));
  }
}

// One step taken: the next products read the next X region, coefficients and batch.
@compute @workgroup_size(1)
fn muonAdvance() {
  nsStore(0u, nsLoad(0u) + 1.0);
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
  if (t == NS_NONE) {
    return 0xffffffffu;
  }
  let shift = muonTable[2u + 3u * t + 2u].w;
  if (shift == 0xffffffffu) {
    return 0xffffffffu;
  }
  return (e + shift - muonSegment.y) / 4u;
}

var<workgroup> nsL16: array<f32, 256>;
var<workgroup> nsR16: array<f32, 256>;

fn nsStageScalar16(l: u32, ldl: u32, r: u32, rk: u32, rj: u32, K: u32, k0: u32, i0: u32, j0: u32, rowsHere: u32, colsHere: u32, lid: u32) {
  for (var e = lid; e < rowsHere * 16u; e += 16u) {
    let k = e % 16u;
    let i = e / 16u;
    var left = 0.0;
    if (k0 + k < K) {
      left = nsLoad(l + (i0 + i) * ldl + k0 + k);
    }
    nsL16[k * 16u + i] = left;
  }
  for (var e = lid; e < colsHere * 16u; e += 16u) {
    // Consecutive invocations read consecutive addresses: along j where R's rows are contiguous.
    let k = select(e % 16u, e / colsHere, rj == 1u);
    let j = select(e / 16u, e % colsHere, rj == 1u);
    var right = 0.0;
    if (k0 + k < K) {
      right = nsLoad(r + (k0 + k) * rk + (j0 + j) * rj);
    }
    nsR16[k * 16u + j] = right;
  }
}

fn nsStageVec16(l: u32, ldl: u32, r: u32, rk: u32, rj: u32, K: u32, k0: u32, i0: u32, j0: u32, rowsHere: u32, colsHere: u32, lid: u32) {
  for (var e = lid; e < rowsHere * 4u; e += 16u) {
    let q = e % 4u;
    let i = e / 4u;
    var left = vec4<f32>(0.0);
    if (k0 + 4u * q < K) {
      left = nsLoad4(l + (i0 + i) * ldl + k0 + 4u * q);
    }
      nsL16[(4u * q + 0u) * 16u + i] = left[0];
      nsL16[(4u * q + 1u) * 16u + i] = left[1];
      nsL16[(4u * q + 2u) * 16u + i] = left[2];
      nsL16[(4u * q + 3u) * 16u + i] = left[3];
  }
  if (rj == 1u) {
    // R's rows contiguous (B'·X, A·A): quads along j (colsHere is a multiple of 4).
    let quads = colsHere / 4u;
    for (var e = lid; e < quads * 16u; e += 16u) {
      let k = e / quads;
      let q = e % quads;
      var right = vec4<f32>(0.0);
      if (k0 + k < K) {
        right = nsLoad4(r + (k0 + k) * rk + j0 + 4u * q);
      }
      nsR16[k * 16u + 4u * q + 0u] = right[0];
      nsR16[k * 16u + 4u * q + 1u] = right[1];
      nsR16[k * 16u + 4u * q + 2u] = right[2];
      nsR16[k * 16u + 4u * q + 3u] = right[3];
    }
  } else {
    // R = Xᵀ (X·Xᵀ): quads along k (rk = 1).
    for (var e = lid; e < colsHere * 4u; e += 16u) {
      let q = e % 4u;
      let j = e / 4u;
      var right = vec4<f32>(0.0);
      if (k0 + 4u * q < K) {
        right = nsLoad4(r + (k0 + 4u * q) * rk + (j0 + j) * rj);
      }
      nsR16[(4u * q + 0u) * 16u + j] = right[0];
      nsR16[(4u * q + 1u) * 16u + j] = right[1];
      nsR16[(4u * q + 2u) * 16u + j] = right[2];
      nsR16[(4u * q + 3u) * 16u + j] = right[3];
    }
  }
}

// Σ_k L(i, k)·R(k, j) over k < K in increasing k for this invocation's 4 × 4 outputs of the tile at
// (i0, j0): L(i, k) = S[l + i·ldl + k], R(k, j) = S[r + k·rk + j·rj] (outputs outside rows × cols:
// garbage, not to be written). K
// must be uniform (the barriers). vec: the slabs are loaded as vec4s (nsAligned). Slabs are staged k-major: nsL16[k·T + i], nsR16[k·T + j].
fn nsProduct16(l: u32, ldl: u32, r: u32, rk: u32, rj: u32, rows: u32, cols: u32, K: u32, i0: u32, j0: u32, lid: u32, vec: bool) -> array<vec4<f32>, 4> {
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let ty = lid / 4u;
  let tx = lid % 4u;
  let inside = i0 + ty < rows && j0 + tx < cols;
  let rowsHere = min(16u, rows - i0);
  let colsHere = min(16u, cols - j0);
  for (var k0 = 0u; k0 < K; k0 += 16u) {
    let kk = min(16u, K - k0);
    // Staged: the rows and columns of the tile inside the matrix (the others are never read).
    if (vec) {
      nsStageVec16(l, ldl, r, rk, rj, K, k0, i0, j0, rowsHere, colsHere, lid);
    } else {
      nsStageScalar16(l, ldl, r, rk, rj, K, k0, i0, j0, rowsHere, colsHere, lid);
    }
    workgroupBarrier();
    // An invocation all of whose outputs are outside (a small matrix in a large tile) only stages
    // (in the subgroup variant it computes garbage, never written: every lane must broadcast).
    if (inside) {
      for (var q = 0u; q < kk; q++) {
        let rv = vec4<f32>(nsR16[q * 16u + tx], nsR16[q * 16u + tx + 4u], nsR16[q * 16u + tx + 8u], nsR16[q * 16u + tx + 12u]);
        acc0 = acc0 + nsL16[q * 16u + ty + 0u] * rv;
        acc1 = acc1 + nsL16[q * 16u + ty + 4u] * rv;
        acc2 = acc2 + nsL16[q * 16u + ty + 8u] * rv;
        acc3 = acc3 + nsL16[q * 16u + ty + 12u] * rv;
      }
    }
    workgroupBarrier();
  }
  return array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
}

// A = X·Xᵀ (m × m), upper-triangle tiles, mirrored; a split matrix's is muonGramSplit's.
@compute @workgroup_size(4, 4)
fn muonGram16(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = nsTileOf(wid, nwg, lid, 0u, 0u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let step = nsStep();
  let r0 = (tile.y >> 16u) * 16u;
  let c0 = (tile.y & 0xffffu) * 16u;
  let ty = lid / 4u;
  let tx = lid % 4u;
  let x = nsCurrentX(mat, step.y);
  if (nsSplitChunks(mat) > 1u) {
    return;
  }
  let acc = nsProduct16(x, mat.n, x, 1u, mat.n, mat.m, mat.m, tile.z, r0, c0, lid, nsAligned(mat));
  let bf16 = hyperOf(mat.group).nsBf16 != 0.0;
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 0u;
    let sum = acc[0][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 4u;
    let sum = acc[0][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 8u;
    let sum = acc[0][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 12u;
    let sum = acc[0][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 0u;
    let sum = acc[1][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 4u;
    let sum = acc[1][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 8u;
    let sum = acc[1][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 12u;
    let sum = acc[1][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 0u;
    let sum = acc[2][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 4u;
    let sum = acc[2][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 8u;
    let sum = acc[2][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 12u;
    let sum = acc[2][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 0u;
    let sum = acc[3][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 4u;
    let sum = acc[3][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 8u;
    let sum = acc[3][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 12u;
    let sum = acc[3][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
}

// B' = b·A + c·(A·A) (m × m), upper-triangle tiles, mirrored.
@compute @workgroup_size(4, 4)
fn muonPoly16(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = nsTileOf(wid, nwg, lid, 0u, 0u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let step = nsStep();
  let r0 = (tile.y >> 16u) * 16u;
  let c0 = (tile.y & 0xffffu) * 16u;
  let ty = lid / 4u;
  let tx = lid % 4u;
  let x = nsCurrentX(mat, step.y);
  let acc = nsProduct16(mat.a, mat.m, mat.a, mat.m, 1u, mat.m, mat.m, tile.w, r0, c0, lid, nsAligned(mat));
  let h = hyperOf(mat.group);
  let abc = nsCoefficients(h, step.y);
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 0u;
    let sum = acc[0][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 4u;
    let sum = acc[0][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 8u;
    let sum = acc[0][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 12u;
    let sum = acc[0][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 0u;
    let sum = acc[1][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 4u;
    let sum = acc[1][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 8u;
    let sum = acc[1][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 12u;
    let sum = acc[1][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 0u;
    let sum = acc[2][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 4u;
    let sum = acc[2][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 8u;
    let sum = acc[2][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 12u;
    let sum = acc[2][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 0u;
    let sum = acc[3][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 4u;
    let sum = acc[3][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 8u;
    let sum = acc[3][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 12u;
    let sum = acc[3][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
}

// X' = a·X + B'·X (m × n): into the batch's other X region, or the output region after the last step.
@compute @workgroup_size(4, 4)
fn muonCombine16(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = nsTileOf(wid, nwg, lid, 1u, 0u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let step = nsStep();
  let r0 = (tile.y >> 16u) * 16u;
  let c0 = (tile.y & 0xffffu) * 16u;
  let ty = lid / 4u;
  let tx = lid % 4u;
  let x = nsCurrentX(mat, step.y);
  let acc = nsProduct16(mat.b, mat.m, x, mat.n, 1u, mat.m, mat.n, tile.w, r0, c0, lid, nsAligned(mat));
  let h = hyperOf(mat.group);
  let abc = nsCoefficients(h, step.y);
  let next = nsNextX(mat, step.y);
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 0u;
    let sum = acc[0][0];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 4u;
    let sum = acc[0][1];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 8u;
    let sum = acc[0][2];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 12u;
    let sum = acc[0][3];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 0u;
    let sum = acc[1][0];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 4u;
    let sum = acc[1][1];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 8u;
    let sum = acc[1][2];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 12u;
    let sum = acc[1][3];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 0u;
    let sum = acc[2][0];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 4u;
    let sum = acc[2][1];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 8u;
    let sum = acc[2][2];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 12u;
    let sum = acc[2][3];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 0u;
    let sum = acc[3][0];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 4u;
    let sum = acc[3][1];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 8u;
    let sum = acc[3][2];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 12u;
    let sum = acc[3][3];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
}

// X·Xᵀ's partial sums of long, thin matrices: per chunk of NS_SPLIT_K columns and upper 16² tile.
@compute @workgroup_size(4, 4)
fn muonGramSplit(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = nsTileOf(wid, nwg, lid, 2u, 0u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let r0 = (tile.y >> 16u) * 16u;
  let c0 = (tile.y & 0xffffu) * 16u;
  let ty = lid / 4u;
  let tx = lid % 4u;
  let x = nsCurrentX(mat, nsStep().y) + tile.z * NS_SPLIT_K;
  let acc = nsProduct16(x, mat.n, x, 1u, mat.n, mat.m, mat.m, tile.w, r0, c0, lid, nsAligned(mat));
  let p = mat.b + mat.m * mat.m * (1u + tile.z);
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 0u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[0][0]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[0][0]);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 4u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[0][1]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[0][1]);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 8u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[0][2]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[0][2]);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 12u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[0][3]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[0][3]);
      }
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 0u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[1][0]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[1][0]);
      }
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 4u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[1][1]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[1][1]);
      }
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 8u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[1][2]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[1][2]);
      }
    }
  }
  {
    let i = r0 + ty + 4u;
    let j = c0 + tx + 12u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[1][3]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[1][3]);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 0u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[2][0]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[2][0]);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 4u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[2][1]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[2][1]);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 8u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[2][2]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[2][2]);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 12u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[2][3]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[2][3]);
      }
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 0u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[3][0]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[3][0]);
      }
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 4u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[3][1]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[3][1]);
      }
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 8u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[3][2]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[3][2]);
      }
    }
  }
  {
    let i = r0 + ty + 12u;
    let j = c0 + tx + 12u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[3][3]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[3][3]);
      }
    }
  }
}

var<workgroup> nsL32: array<f32, 512>;
var<workgroup> nsR32: array<f32, 512>;

fn nsStageScalar32(l: u32, ldl: u32, r: u32, rk: u32, rj: u32, K: u32, k0: u32, i0: u32, j0: u32, rowsHere: u32, colsHere: u32, lid: u32) {
  for (var e = lid; e < rowsHere * 16u; e += 64u) {
    let k = e % 16u;
    let i = e / 16u;
    var left = 0.0;
    if (k0 + k < K) {
      left = nsLoad(l + (i0 + i) * ldl + k0 + k);
    }
    nsL32[k * 32u + i] = left;
  }
  for (var e = lid; e < colsHere * 16u; e += 64u) {
    // Consecutive invocations read consecutive addresses: along j where R's rows are contiguous.
    let k = select(e % 16u, e / colsHere, rj == 1u);
    let j = select(e / 16u, e % colsHere, rj == 1u);
    var right = 0.0;
    if (k0 + k < K) {
      right = nsLoad(r + (k0 + k) * rk + (j0 + j) * rj);
    }
    nsR32[k * 32u + j] = right;
  }
}

fn nsStageVec32(l: u32, ldl: u32, r: u32, rk: u32, rj: u32, K: u32, k0: u32, i0: u32, j0: u32, rowsHere: u32, colsHere: u32, lid: u32) {
  for (var e = lid; e < rowsHere * 4u; e += 64u) {
    let q = e % 4u;
    let i = e / 4u;
    var left = vec4<f32>(0.0);
    if (k0 + 4u * q < K) {
      left = nsLoad4(l + (i0 + i) * ldl + k0 + 4u * q);
    }
      nsL32[(4u * q + 0u) * 32u + i] = left[0];
      nsL32[(4u * q + 1u) * 32u + i] = left[1];
      nsL32[(4u * q + 2u) * 32u + i] = left[2];
      nsL32[(4u * q + 3u) * 32u + i] = left[3];
  }
  if (rj == 1u) {
    // R's rows contiguous (B'·X, A·A): quads along j (colsHere is a multiple of 4).
    let quads = colsHere / 4u;
    for (var e = lid; e < quads * 16u; e += 64u) {
      let k = e / quads;
      let q = e % quads;
      var right = vec4<f32>(0.0);
      if (k0 + k < K) {
        right = nsLoad4(r + (k0 + k) * rk + j0 + 4u * q);
      }
      nsR32[k * 32u + 4u * q + 0u] = right[0];
      nsR32[k * 32u + 4u * q + 1u] = right[1];
      nsR32[k * 32u + 4u * q + 2u] = right[2];
      nsR32[k * 32u + 4u * q + 3u] = right[3];
    }
  } else {
    // R = Xᵀ (X·Xᵀ): quads along k (rk = 1).
    for (var e = lid; e < colsHere * 4u; e += 64u) {
      let q = e % 4u;
      let j = e / 4u;
      var right = vec4<f32>(0.0);
      if (k0 + 4u * q < K) {
        right = nsLoad4(r + (k0 + 4u * q) * rk + (j0 + j) * rj);
      }
      nsR32[(4u * q + 0u) * 32u + j] = right[0];
      nsR32[(4u * q + 1u) * 32u + j] = right[1];
      nsR32[(4u * q + 2u) * 32u + j] = right[2];
      nsR32[(4u * q + 3u) * 32u + j] = right[3];
    }
  }
}

// Σ_k L(i, k)·R(k, j) over k < K in increasing k for this invocation's 4 × 4 outputs of the tile at
// (i0, j0): L(i, k) = S[l + i·ldl + k], R(k, j) = S[r + k·rk + j·rj] (outputs outside rows × cols:
// garbage, not to be written). K
// must be uniform (the barriers). vec: the slabs are loaded as vec4s (nsAligned). Slabs are staged k-major: nsL32[k·T + i], nsR32[k·T + j].
fn nsProduct32(l: u32, ldl: u32, r: u32, rk: u32, rj: u32, rows: u32, cols: u32, K: u32, i0: u32, j0: u32, lid: u32, vec: bool) -> array<vec4<f32>, 4> {
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let ty = lid / 8u;
  let tx = lid % 8u;
  let inside = i0 + ty < rows && j0 + tx < cols;
  let rowsHere = min(32u, rows - i0);
  let colsHere = min(32u, cols - j0);
  for (var k0 = 0u; k0 < K; k0 += 16u) {
    let kk = min(16u, K - k0);
    // Staged: the rows and columns of the tile inside the matrix (the others are never read).
    if (vec) {
      nsStageVec32(l, ldl, r, rk, rj, K, k0, i0, j0, rowsHere, colsHere, lid);
    } else {
      nsStageScalar32(l, ldl, r, rk, rj, K, k0, i0, j0, rowsHere, colsHere, lid);
    }
    workgroupBarrier();
    // An invocation all of whose outputs are outside (a small matrix in a large tile) only stages
    // (in the subgroup variant it computes garbage, never written: every lane must broadcast).
    if (inside) {
      for (var q = 0u; q < kk; q++) {
        let rv = vec4<f32>(nsR32[q * 32u + tx], nsR32[q * 32u + tx + 8u], nsR32[q * 32u + tx + 16u], nsR32[q * 32u + tx + 24u]);
        acc0 = acc0 + nsL32[q * 32u + ty + 0u] * rv;
        acc1 = acc1 + nsL32[q * 32u + ty + 8u] * rv;
        acc2 = acc2 + nsL32[q * 32u + ty + 16u] * rv;
        acc3 = acc3 + nsL32[q * 32u + ty + 24u] * rv;
      }
    }
    workgroupBarrier();
  }
  return array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
}

// A = X·Xᵀ (m × m), upper-triangle tiles, mirrored; a split matrix's is muonGramSplit's.
@compute @workgroup_size(8, 8)
fn muonGram32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = nsTileOf(wid, nwg, lid, 0u, 1u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let step = nsStep();
  let r0 = (tile.y >> 16u) * 32u;
  let c0 = (tile.y & 0xffffu) * 32u;
  let ty = lid / 8u;
  let tx = lid % 8u;
  let x = nsCurrentX(mat, step.y);
  if (nsSplitChunks(mat) > 1u) {
    return;
  }
  let acc = nsProduct32(x, mat.n, x, 1u, mat.n, mat.m, mat.m, tile.z, r0, c0, lid, nsAligned(mat));
  let bf16 = hyperOf(mat.group).nsBf16 != 0.0;
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 0u;
    let sum = acc[0][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 8u;
    let sum = acc[0][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 16u;
    let sum = acc[0][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 24u;
    let sum = acc[0][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 0u;
    let sum = acc[1][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 8u;
    let sum = acc[1][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 16u;
    let sum = acc[1][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 24u;
    let sum = acc[1][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 0u;
    let sum = acc[2][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 8u;
    let sum = acc[2][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 16u;
    let sum = acc[2][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 24u;
    let sum = acc[2][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 24u;
    let j = c0 + tx + 0u;
    let sum = acc[3][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 24u;
    let j = c0 + tx + 8u;
    let sum = acc[3][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 24u;
    let j = c0 + tx + 16u;
    let sum = acc[3][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 24u;
    let j = c0 + tx + 24u;
    let sum = acc[3][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
}

// B' = b·A + c·(A·A) (m × m), upper-triangle tiles, mirrored.
@compute @workgroup_size(8, 8)
fn muonPoly32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = nsTileOf(wid, nwg, lid, 0u, 1u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let step = nsStep();
  let r0 = (tile.y >> 16u) * 32u;
  let c0 = (tile.y & 0xffffu) * 32u;
  let ty = lid / 8u;
  let tx = lid % 8u;
  let x = nsCurrentX(mat, step.y);
  let acc = nsProduct32(mat.a, mat.m, mat.a, mat.m, 1u, mat.m, mat.m, tile.w, r0, c0, lid, nsAligned(mat));
  let h = hyperOf(mat.group);
  let abc = nsCoefficients(h, step.y);
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 0u;
    let sum = acc[0][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 8u;
    let sum = acc[0][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 16u;
    let sum = acc[0][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 24u;
    let sum = acc[0][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 0u;
    let sum = acc[1][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 8u;
    let sum = acc[1][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 16u;
    let sum = acc[1][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 24u;
    let sum = acc[1][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 0u;
    let sum = acc[2][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 8u;
    let sum = acc[2][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 16u;
    let sum = acc[2][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 24u;
    let sum = acc[2][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 24u;
    let j = c0 + tx + 0u;
    let sum = acc[3][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 24u;
    let j = c0 + tx + 8u;
    let sum = acc[3][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 24u;
    let j = c0 + tx + 16u;
    let sum = acc[3][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 24u;
    let j = c0 + tx + 24u;
    let sum = acc[3][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
}

// X' = a·X + B'·X (m × n): into the batch's other X region, or the output region after the last step.
@compute @workgroup_size(8, 8)
fn muonCombine32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = nsTileOf(wid, nwg, lid, 1u, 1u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let step = nsStep();
  let r0 = (tile.y >> 16u) * 32u;
  let c0 = (tile.y & 0xffffu) * 32u;
  let ty = lid / 8u;
  let tx = lid % 8u;
  let x = nsCurrentX(mat, step.y);
  let acc = nsProduct32(mat.b, mat.m, x, mat.n, 1u, mat.m, mat.n, tile.w, r0, c0, lid, nsAligned(mat));
  let h = hyperOf(mat.group);
  let abc = nsCoefficients(h, step.y);
  let next = nsNextX(mat, step.y);
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 0u;
    let sum = acc[0][0];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 8u;
    let sum = acc[0][1];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 16u;
    let sum = acc[0][2];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 24u;
    let sum = acc[0][3];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 0u;
    let sum = acc[1][0];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 8u;
    let sum = acc[1][1];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 16u;
    let sum = acc[1][2];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 8u;
    let j = c0 + tx + 24u;
    let sum = acc[1][3];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 0u;
    let sum = acc[2][0];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 8u;
    let sum = acc[2][1];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 16u;
    let sum = acc[2][2];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 24u;
    let sum = acc[2][3];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 24u;
    let j = c0 + tx + 0u;
    let sum = acc[3][0];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 24u;
    let j = c0 + tx + 8u;
    let sum = acc[3][1];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 24u;
    let j = c0 + tx + 16u;
    let sum = acc[3][2];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 24u;
    let j = c0 + tx + 24u;
    let sum = acc[3][3];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
}

var<workgroup> nsL64: array<f32, 1024>;
var<workgroup> nsR64: array<f32, 1024>;

fn nsStageScalar64(l: u32, ldl: u32, r: u32, rk: u32, rj: u32, K: u32, k0: u32, i0: u32, j0: u32, rowsHere: u32, colsHere: u32, lid: u32) {
  for (var e = lid; e < rowsHere * 16u; e += 256u) {
    let k = e % 16u;
    let i = e / 16u;
    var left = 0.0;
    if (k0 + k < K) {
      left = nsLoad(l + (i0 + i) * ldl + k0 + k);
    }
    nsL64[k * 64u + i] = left;
  }
  for (var e = lid; e < colsHere * 16u; e += 256u) {
    // Consecutive invocations read consecutive addresses: along j where R's rows are contiguous.
    let k = select(e % 16u, e / colsHere, rj == 1u);
    let j = select(e / 16u, e % colsHere, rj == 1u);
    var right = 0.0;
    if (k0 + k < K) {
      right = nsLoad(r + (k0 + k) * rk + (j0 + j) * rj);
    }
    nsR64[k * 64u + j] = right;
  }
}

fn nsStageVec64(l: u32, ldl: u32, r: u32, rk: u32, rj: u32, K: u32, k0: u32, i0: u32, j0: u32, rowsHere: u32, colsHere: u32, lid: u32) {
  for (var e = lid; e < rowsHere * 4u; e += 256u) {
    let q = e % 4u;
    let i = e / 4u;
    var left = vec4<f32>(0.0);
    if (k0 + 4u * q < K) {
      left = nsLoad4(l + (i0 + i) * ldl + k0 + 4u * q);
    }
      nsL64[(4u * q + 0u) * 64u + i] = left[0];
      nsL64[(4u * q + 1u) * 64u + i] = left[1];
      nsL64[(4u * q + 2u) * 64u + i] = left[2];
      nsL64[(4u * q + 3u) * 64u + i] = left[3];
  }
  if (rj == 1u) {
    // R's rows contiguous (B'·X, A·A): quads along j (colsHere is a multiple of 4).
    let quads = colsHere / 4u;
    for (var e = lid; e < quads * 16u; e += 256u) {
      let k = e / quads;
      let q = e % quads;
      var right = vec4<f32>(0.0);
      if (k0 + k < K) {
        right = nsLoad4(r + (k0 + k) * rk + j0 + 4u * q);
      }
      nsR64[k * 64u + 4u * q + 0u] = right[0];
      nsR64[k * 64u + 4u * q + 1u] = right[1];
      nsR64[k * 64u + 4u * q + 2u] = right[2];
      nsR64[k * 64u + 4u * q + 3u] = right[3];
    }
  } else {
    // R = Xᵀ (X·Xᵀ): quads along k (rk = 1).
    for (var e = lid; e < colsHere * 4u; e += 256u) {
      let q = e % 4u;
      let j = e / 4u;
      var right = vec4<f32>(0.0);
      if (k0 + 4u * q < K) {
        right = nsLoad4(r + (k0 + 4u * q) * rk + (j0 + j) * rj);
      }
      nsR64[(4u * q + 0u) * 64u + j] = right[0];
      nsR64[(4u * q + 1u) * 64u + j] = right[1];
      nsR64[(4u * q + 2u) * 64u + j] = right[2];
      nsR64[(4u * q + 3u) * 64u + j] = right[3];
    }
  }
}

// Σ_k L(i, k)·R(k, j) over k < K in increasing k for this invocation's 4 × 4 outputs of the tile at
// (i0, j0): L(i, k) = S[l + i·ldl + k], R(k, j) = S[r + k·rk + j·rj] (outputs outside rows × cols:
// garbage, not to be written). K
// must be uniform (the barriers). vec: the slabs are loaded as vec4s (nsAligned). Slabs are staged k-major: nsL64[k·T + i], nsR64[k·T + j].
fn nsProduct64(l: u32, ldl: u32, r: u32, rk: u32, rj: u32, rows: u32, cols: u32, K: u32, i0: u32, j0: u32, lid: u32, vec: bool) -> array<vec4<f32>, 4> {
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let ty = lid / 16u;
  let tx = lid % 16u;
  let inside = i0 + ty < rows && j0 + tx < cols;
  let rowsHere = min(64u, rows - i0);
  let colsHere = min(64u, cols - j0);
  for (var k0 = 0u; k0 < K; k0 += 16u) {
    let kk = min(16u, K - k0);
    // Staged: the rows and columns of the tile inside the matrix (the others are never read).
    if (vec) {
      nsStageVec64(l, ldl, r, rk, rj, K, k0, i0, j0, rowsHere, colsHere, lid);
    } else {
      nsStageScalar64(l, ldl, r, rk, rj, K, k0, i0, j0, rowsHere, colsHere, lid);
    }
    workgroupBarrier();
    // An invocation all of whose outputs are outside (a small matrix in a large tile) only stages
    // (in the subgroup variant it computes garbage, never written: every lane must broadcast).
    if (inside) {
      for (var q = 0u; q < kk; q++) {
        let rv = vec4<f32>(nsR64[q * 64u + tx], nsR64[q * 64u + tx + 16u], nsR64[q * 64u + tx + 32u], nsR64[q * 64u + tx + 48u]);
        acc0 = acc0 + nsL64[q * 64u + ty + 0u] * rv;
        acc1 = acc1 + nsL64[q * 64u + ty + 16u] * rv;
        acc2 = acc2 + nsL64[q * 64u + ty + 32u] * rv;
        acc3 = acc3 + nsL64[q * 64u + ty + 48u] * rv;
      }
    }
    workgroupBarrier();
  }
  return array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
}

// A = X·Xᵀ (m × m), upper-triangle tiles, mirrored; a split matrix's is muonGramSplit's.
@compute @workgroup_size(16, 16)
fn muonGram64(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = nsTileOf(wid, nwg, lid, 0u, 2u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let step = nsStep();
  let r0 = (tile.y >> 16u) * 64u;
  let c0 = (tile.y & 0xffffu) * 64u;
  let ty = lid / 16u;
  let tx = lid % 16u;
  let x = nsCurrentX(mat, step.y);
  if (nsSplitChunks(mat) > 1u) {
    return;
  }
  let acc = nsProduct64(x, mat.n, x, 1u, mat.n, mat.m, mat.m, tile.z, r0, c0, lid, nsAligned(mat));
  let bf16 = hyperOf(mat.group).nsBf16 != 0.0;
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 0u;
    let sum = acc[0][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 16u;
    let sum = acc[0][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 32u;
    let sum = acc[0][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 48u;
    let sum = acc[0][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 0u;
    let sum = acc[1][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 16u;
    let sum = acc[1][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 32u;
    let sum = acc[1][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 48u;
    let sum = acc[1][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 32u;
    let j = c0 + tx + 0u;
    let sum = acc[2][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 32u;
    let j = c0 + tx + 16u;
    let sum = acc[2][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 32u;
    let j = c0 + tx + 32u;
    let sum = acc[2][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 32u;
    let j = c0 + tx + 48u;
    let sum = acc[2][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 48u;
    let j = c0 + tx + 0u;
    let sum = acc[3][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 48u;
    let j = c0 + tx + 16u;
    let sum = acc[3][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 48u;
    let j = c0 + tx + 32u;
    let sum = acc[3][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 48u;
    let j = c0 + tx + 48u;
    let sum = acc[3][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(sum, bf16);
      nsStore(mat.a + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.a + j * mat.m + i, v);
      }
    }
  }
}

// B' = b·A + c·(A·A) (m × m), upper-triangle tiles, mirrored.
@compute @workgroup_size(16, 16)
fn muonPoly64(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = nsTileOf(wid, nwg, lid, 0u, 2u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let step = nsStep();
  let r0 = (tile.y >> 16u) * 64u;
  let c0 = (tile.y & 0xffffu) * 64u;
  let ty = lid / 16u;
  let tx = lid % 16u;
  let x = nsCurrentX(mat, step.y);
  let acc = nsProduct64(mat.a, mat.m, mat.a, mat.m, 1u, mat.m, mat.m, tile.w, r0, c0, lid, nsAligned(mat));
  let h = hyperOf(mat.group);
  let abc = nsCoefficients(h, step.y);
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 0u;
    let sum = acc[0][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 16u;
    let sum = acc[0][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 32u;
    let sum = acc[0][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 48u;
    let sum = acc[0][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 0u;
    let sum = acc[1][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 16u;
    let sum = acc[1][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 32u;
    let sum = acc[1][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 48u;
    let sum = acc[1][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 32u;
    let j = c0 + tx + 0u;
    let sum = acc[2][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 32u;
    let j = c0 + tx + 16u;
    let sum = acc[2][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 32u;
    let j = c0 + tx + 32u;
    let sum = acc[2][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 32u;
    let j = c0 + tx + 48u;
    let sum = acc[2][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 48u;
    let j = c0 + tx + 0u;
    let sum = acc[3][0];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 48u;
    let j = c0 + tx + 16u;
    let sum = acc[3][1];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 48u;
    let j = c0 + tx + 32u;
    let sum = acc[3][2];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
  {
    let i = r0 + ty + 48u;
    let j = c0 + tx + 48u;
    let sum = acc[3][3];
    if (i < mat.m && j < mat.m) {
      let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
      nsStore(mat.b + i * mat.m + j, v);
      if (r0 != c0) {
        nsStore(mat.b + j * mat.m + i, v);
      }
    }
  }
}

// X' = a·X + B'·X (m × n): into the batch's other X region, or the output region after the last step.
@compute @workgroup_size(16, 16)
fn muonCombine64(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = nsTileOf(wid, nwg, lid, 1u, 2u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let step = nsStep();
  let r0 = (tile.y >> 16u) * 64u;
  let c0 = (tile.y & 0xffffu) * 64u;
  let ty = lid / 16u;
  let tx = lid % 16u;
  let x = nsCurrentX(mat, step.y);
  let acc = nsProduct64(mat.b, mat.m, x, mat.n, 1u, mat.m, mat.n, tile.w, r0, c0, lid, nsAligned(mat));
  let h = hyperOf(mat.group);
  let abc = nsCoefficients(h, step.y);
  let next = nsNextX(mat, step.y);
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 0u;
    let sum = acc[0][0];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 16u;
    let sum = acc[0][1];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 32u;
    let sum = acc[0][2];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 0u;
    let j = c0 + tx + 48u;
    let sum = acc[0][3];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 0u;
    let sum = acc[1][0];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 16u;
    let sum = acc[1][1];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 32u;
    let sum = acc[1][2];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 16u;
    let j = c0 + tx + 48u;
    let sum = acc[1][3];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 32u;
    let j = c0 + tx + 0u;
    let sum = acc[2][0];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 32u;
    let j = c0 + tx + 16u;
    let sum = acc[2][1];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 32u;
    let j = c0 + tx + 32u;
    let sum = acc[2][2];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 32u;
    let j = c0 + tx + 48u;
    let sum = acc[2][3];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 48u;
    let j = c0 + tx + 0u;
    let sum = acc[3][0];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 48u;
    let j = c0 + tx + 16u;
    let sum = acc[3][1];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 48u;
    let j = c0 + tx + 32u;
    let sum = acc[3][2];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
  {
    let i = r0 + ty + 48u;
    let j = c0 + tx + 48u;
    let sum = acc[3][3];
    if (i < mat.m && j < mat.n) {
      nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
    }
  }
}

const NO_COMPACT_SLOT: u32 = 0xffffffffu;
fn momentumBufferLoad(i: u32) -> vec4<f32> { return momentumBuffer[i]; }
fn momentumBufferStore(i: u32, x: vec4<f32>) { momentumBuffer[i] = x; }
fn expAvgLoad(i: u32) -> vec4<f32> { return momentumBuffer[i]; }
fn expAvgStore(i: u32, x: vec4<f32>) { momentumBuffer[i] = x; }
fn expAvgSqLoad(i: u32) -> vec4<f32> { let k = compactSlotIndex(i); if (k == NO_COMPACT_SLOT) { return vec4<f32>(0.0); } return expAvgSq[k]; }
fn expAvgSqStore(i: u32, x: vec4<f32>) { let k = compactSlotIndex(i); if (k == NO_COMPACT_SLOT) { return; } expAvgSq[k] = x; }
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
      nsStore(mat.o + nsXIndex(mat, local), u[l]);
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
