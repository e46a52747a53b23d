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

// Generated from adafactor's scalar schema (src/core/scalars.ts).
struct Hyper {
  beta2Weight: f32, // f(t^τ): the lerp weight 1 − β̂₂ₜ of the second moments
  rho: f32, // f(min(lr, 1/√t)): the relative step size
  eps1: f32, // f(eps1): the floor of the mean row factor
  eps1Sq: f32, // f(eps1²): the floor of the second-moment estimate
  eps2: f32, // f(eps2): the floor of RMS(p) in α
  d: f32, // f(d): the update-clipping threshold
  decayFactor: f32, // f(1 − lr·wd), applied first (exactly 1 when wd = 0)
  roundingStep: f32, // the host update count mod 2^24 (stochastic rounding)
  gradientAbsent: f32, // 1: this tensor has no gradient this step (left untouched)
}

// The step-dependent scalars of the step the GPU takes (control path): bases combined with the
// step table's entry s, in f32.
fn withDeviceStep(h0: Hyper, s: vec4<f32>) -> Hyper {
  var h = h0;
  h.beta2Weight = s.x;
  h.rho = s.y;
  return h;
}

@group(0) @binding(0) var<storage, read> hyper: array<Hyper>;
@group(0) @binding(1) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> chunkRow: array<u32>;
@group(0) @binding(4) var<storage, read_write> factors: array<f32>;
@group(0) @binding(5) var<storage, read> factorTable: array<vec4<u32>>;
@group(0) @binding(6) var<storage, read> chunkTensor: array<vec4<u32>>;
@group(0) @binding(7) var<storage, read_write> tensorScratch: array<vec4<f32>>;
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

  // Layer-wise kernels read the group from their chunk → tensor table (one binding fewer).
  return chunkInfo(i).w;

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

// Layer-wise optimizers (LAMB, LARS): the update of an element reads sums over its whole tensor
// (‖p‖², ‖u‖²), computed inside the packed buffers in the same encoder, without float atomics or
// a readback. Appended to the kernel of an optimizer whose definition has `tensorSums`:
//   tensorPartials (here, one dispatch per segment): per 64-element chunk, the sum of the
//       optimizer's partials() over the chunk's elements, masked past the tensor's end; 16
//       invocations per chunk and a workgroup tree (GPUs), or tensorPartialsInRegisters: one
//       invocation per chunk, the same tree in registers, no barriers (CPU adapters such as
//       SwiftShader, which emulate each barrier invocation by invocation). The same bits either way;
//   tensorSums (tensor-sums.wgsl, one dispatch): per tensor, the sum of its chunks' partials;
//   main (common.wgsl): update() reads its tensor's sums through tensorSumsAt().
// The order of every addition is fixed, and src/passes/tensor-reduction.ts reproduces it on the CPU.

// 4 chunks per workgroup, whatever the update kernel's workgroup size.
const PARTIALS_WORKGROUP = 64u;
var<workgroup> chunkLanes: array<vec4<f32>, PARTIALS_WORKGROUP>;

// Vector i's chunk: (tensor, scratch entry of the chunk's partial, tensor elements in the chunk, group).
fn chunkInfo(i: u32) -> vec4<u32> {

  return chunkTensor[i / 16u];

}

// Which elements of vector i belong to its tensor (the others are padding).
fn validLanes(i: u32) -> vec4<bool> {
  let first = (i % 16u) * 4u;
  return vec4<u32>(first, first + 1u, first + 2u, first + 3u) < vec4<u32>(chunkInfo(i).z);
}

// Σ a² over the valid elements of one vec4, in a fixed order: ((x² + y²) + z²) + w².
fn squaredSum(a: vec4<f32>, valid: vec4<bool>) -> f32 {
  let s = select(vec4<f32>(0.0), a * a, valid);
  return ((s.x + s.y) + s.z) + s.w;
}

// Cautious updates: where a·b > 0, decided the same on every device: a and b normal numbers or
// infinities (a subnormal one counts as 0, as GPUs may flush it on load or on arithmetic), and their
// product, read from its bits, a positive normal number or +Inf (NaN never agrees).
fn agreeInSign(a: vec4<f32>, b: vec4<f32>) -> vec4<bool> {
  let exponent = vec4<u32>(0x7f800000u);
  let normal = ((bitcast<vec4<u32>>(a) & exponent) != vec4<u32>(0u)) & ((bitcast<vec4<u32>>(b) & exponent) != vec4<u32>(0u));
  let bits = bitcast<vec4<u32>>(a * b);
  return normal & (bits >= vec4<u32>(0x00800000u)) & (bits <= exponent);
}

// How many of the valid elements of one vec4 are `true`, in the same order as squaredSum.
fn countOf(b: vec4<bool>, valid: vec4<bool>) -> f32 {
  let s = select(vec4<f32>(0.0), vec4<f32>(1.0), b & valid);
  return ((s.x + s.y) + s.z) + s.w;
}

// The sums over vector i's whole tensor (what its partials() added up).
fn tensorSumsAt(i: u32) -> vec4<f32> {
  return tensorScratch[chunkInfo(i).x];
}

// optax's scale_by_trust_ratio from ‖p‖² and ‖u‖²: coefficient·‖p‖ / (‖u‖ + eps), or 1 when either
// norm is 0. NaN norms give NaN, as optax does.
fn trustRatio(sums: vec4<f32>, coefficient: f32, eps: f32) -> f32 {
  let pn = sqrt(sums.x);
  let un = sqrt(sums.y);
  return select((coefficient * pn) / (un + eps), 1.0, pn == 0.0 || un == 0.0);
}

// The optimizer's partials() of vector i on the per-tensor step (PyTorch's rule for a grad that is
// None; the variant flag PER_TENSOR): its tensor's own `Hyper` row (chunkInfo's x). A tensor without
// gradient adds nothing to its sums, which its update (skipped) never reads, and partials() writes
// none of its state (LAMB's moments). With 8-bit or 4-bit state (q8-layerwise.wgsl's tiles) no slot
// of such a lane is then marked stored: it takes no part in its run's absmax and stores no codes,
// absmax or side value (runs never span tensors), so all of them stay bit for bit. With gradient
// control, the controlled gradient (its group's clip coefficient: chunkInfo's w), as the update reads it.
fn vectorPartials(i: u32) -> vec4<f32> {
  let h = hyper[chunkInfo(i).x];
  if (h.gradientAbsent != 0.0) {
    return vec4<f32>(0.0);
  }
  return partials(i, h, grad[i], validLanes(i));
}

// A skipped step touches nothing in either entry point (partials() may write state, as LAMB's moments).
@compute @workgroup_size(PARTIALS_WORKGROUP)
fn tensorPartials(@builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  if (stepSkipped()) {
    return;
  }
  let i = (wid.y * nwg.x + wid.x) * PARTIALS_WORKGROUP + lid;
  let inside = i < arrayLength(&param);
  var s = vec4<f32>(0.0);
  if (inside) {
    s = vectorPartials(i);
  }
  chunkLanes[lid] = s;
  workgroupBarrier();
  for (var stride = 8u; stride > 0u; stride = stride / 2u) {
    if ((lid & 15u) < stride) {
      chunkLanes[lid] = chunkLanes[lid] + chunkLanes[lid + stride];
    }
    workgroupBarrier();
  }
  if (inside && (lid & 15u) == 0u) {
    tensorScratch[chunkInfo(i).y] = chunkLanes[lid];
  }
}

@compute @workgroup_size(PARTIALS_WORKGROUP)
fn tensorPartialsInRegisters(@builtin(workgroup_id) wid: vec3<u32>,
                             @builtin(num_workgroups) nwg: vec3<u32>,
                             @builtin(local_invocation_index) lid: u32) {
  let first = ((wid.y * nwg.x + wid.x) * PARTIALS_WORKGROUP + lid) * 16u;
  if (stepSkipped() || first >= arrayLength(&param)) {
    return;
  }
  var lanes: array<vec4<f32>, 16>;
  for (var l = 0u; l < 16u; l++) {
    lanes[l] = vectorPartials(first + l);
  }
  for (var stride = 8u; stride > 0u; stride = stride / 2u) {
    for (var l = 0u; l < stride; l++) {
      lanes[l] = lanes[l] + lanes[l + stride];
    }
  }
  tensorScratch[chunkInfo(first).y] = lanes[0];
}

// The per-tensor step (PyTorch's rule for a parameter whose grad is None): appended to a kernel
// variant with PER_TENSOR only, so the kernels of a step where every tensor has its gradient and
// its step count equal to the others' stay exactly as they are. Each tensor has its own `Hyper`
// row in the ring slot (its group's scalars at its own step count); `chunkRow` gives the row of
// every 64-element chunk (16 vec4) of the segment, and a row with `gradientAbsent` set leaves the
// tensor's parameters and state untouched.

@compute @workgroup_size(WORKGROUP_SIZE)
fn mainPerTensor(@builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let first = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE * VECTORS_PER_INVOCATION + lid;
  for (var k = 0u; k < VECTORS_PER_INVOCATION; k++) {
    let i = first + k * WORKGROUP_SIZE;
    // The guard: the last workgroup may reach past the segment.
    if (i >= arrayLength(&param)) {
      return;
    }
    let h = hyper[chunkRow[i / 16u]];
    // Uniform per chunk: a tensor starts on a chunk boundary (layout.ts), so a chunk has one row.
    if (h.gradientAbsent != 0.0) {
      continue;
    }
    update(i, h, grad[i]);
  }
}


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

  // The per-tensor pass's table names the entry's tensor (its own row): a tensor without gradient
  // keeps its row_var and col_var (factorSums and rowMeans write scratch only). The torch comment
  // shares the closing directive's line: the plain kernel's text stays as it was, byte for byte.
  if (h.gradientAbsent != 0.0) {
    return;
  }
  // torch: vector_norm(g, dim).square_().div_(count)
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
