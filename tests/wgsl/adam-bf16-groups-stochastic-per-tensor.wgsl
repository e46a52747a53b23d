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

// Generated from adam's scalar schema (src/core/scalars.ts).
struct Hyper {
  beta1: f32, // f(β₁)
  oneMinusBeta1: f32, // f(1 − β₁), rounded once from float64
  beta2: f32, // f(β₂)
  oneMinusBeta2: f32, // f(1 − β₂)
  negStepSize: f32, // f(−lr / (1 − β₁ᵗ))
  bc2Sqrt: f32, // f(√(1 − β₂ᵗ))
  eps: f32, // f(eps), added outside the square root, after the bias correction
  weightDecay: f32, // Adam: f(weight_decay), coupled into the gradient (0 for AdamW)
  decayFactor: f32, // AdamW: f(1 − lr·weight_decay), applied to the old parameter (1 for Adam)
  roundingStep: f32, // the host update count mod 2^24 (stochastic rounding)
  gradientAbsent: f32, // 1: this tensor has no gradient this step (left untouched)
}

// The step-dependent scalars of the step the GPU takes (control path): bases combined with the
// step table's entry s, in f32.
fn withDeviceStep(h0: Hyper, s: vec4<f32>) -> Hyper {
  var h = h0;
  h.negStepSize = h.negStepSize / s.x;
  h.bc2Sqrt = s.y;
  return h;
}

@group(0) @binding(0) var<storage, read> hyper: array<Hyper>;
@group(0) @binding(1) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> chunkRow: array<u32>;
@group(0) @binding(4) var<uniform> segment: vec4<u32>;
@group(0) @binding(5) var<storage, read_write> expAvg: array<vec2<u32>>;
@group(0) @binding(6) var<storage, read_write> expAvgSq: array<vec2<u32>>;
@group(0) @binding(7) var<storage, read_write> maxExpAvgSq: array<vec2<u32>>;
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

  return 0u;

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

// 16-bit optimizer state (bf16 or f16): each vec4 of a state slot is stored as two u32 holding
// four 16-bit values, element 4k in the low half of the first word. Arithmetic stays in f32; only
// the stored moments are rounded. The rounding is done on the f32 bits with integer operations,
// the same as src/state/state-format.ts, so every device stores the same bits: nearest, ties to even,
// overflow to ±Inf, every NaN to one canonical quiet NaN (a NaN moment stays NaN, never 0).
// Included only when the state is 16-bit; the slot accessors are generated
// (src/engine/slot-accessors.ts).
// Stochastic rounding (flag STOCHASTIC) adds noise below the kept bits before truncating: up with
// probability (dropped part) / (one step), so the stored value is x on average.


// bfloat16: the top half of the f32 bits, rounded on the 16 dropped bits.
fn stateBits(x: vec4<f32>) -> vec4<u32> {
  let u = bitcast<vec4<u32>>(x);
  let rounded = (u + vec4<u32>(0x7fffu) + ((u >> vec4<u32>(16u)) & vec4<u32>(1u))) >> vec4<u32>(16u);
  return select(rounded, vec4<u32>(0x7fc0u), (u & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u));
}

fn fromStateBits(b: vec4<u32>) -> vec4<f32> {
  return bitcast<vec4<f32>>(b << vec4<u32>(16u));
}

fn stateBitsStochastic(x: vec4<f32>, r: vec4<u32>) -> vec4<u32> {
  let u = bitcast<vec4<u32>>(x);
  let rounded = (u + (r & vec4<u32>(0xffffu))) >> vec4<u32>(16u);
  return select(rounded, vec4<u32>(0x7fc0u), (u & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u));
}


fn packState(x: vec4<f32>) -> vec2<u32> {
  let b = stateBits(x);
  return vec2<u32>(b.x | (b.y << 16u), b.z | (b.w << 16u));
}

fn packStateStochastic(x: vec4<f32>, r: vec4<u32>) -> vec2<u32> {
  let b = stateBitsStochastic(x, r);
  return vec2<u32>(b.x | (b.y << 16u), b.z | (b.w << 16u));
}

fn unpackState(s: vec2<u32>) -> vec4<f32> {
  return fromStateBits(vec4<u32>(s.x & 0xffffu, s.x >> 16u, s.y & 0xffffu, s.y >> 16u));
}


// Wellons' lowbias32.
fn mix32(x0: u32) -> u32 {
  var x = x0;
  x = (x ^ (x >> 16u)) * 0x7feb352du;
  x = (x ^ (x >> 15u)) * 0x846ca68bu;
  return x ^ (x >> 16u);
}

// 32 noise bits for each element of vec4 i of the segment, for slot `slot`: a hash of the seed,
// the update count, the slot and the element's place in the packed buffers (src/state/state-format.ts).
fn roundingNoise(i: u32, slot: u32) -> vec4<u32> {
  let step = u32(hyper[0].roundingStep);
  let base = mix32(mix32(segment.y ^ (step * 0x9e3779b9u)) + slot);
  let e = segment.x + 4u * i;
  return vec4<u32>(mix32(base ^ e), mix32(base ^ (e + 1u)), mix32(base ^ (e + 2u)), mix32(base ^ (e + 3u)));
}


fn expAvgLoad(i: u32) -> vec4<f32> { return unpackState(expAvg[i]); }
fn expAvgStore(i: u32, x: vec4<f32>) { expAvg[i] = packStateStochastic(x, roundingNoise(i, 0u)); }
fn expAvgSqLoad(i: u32) -> vec4<f32> { return unpackState(expAvgSq[i]); }
fn expAvgSqStore(i: u32, x: vec4<f32>) { expAvgSq[i] = packStateStochastic(x, roundingNoise(i, 1u)); }
fn maxExpAvgSqLoad(i: u32) -> vec4<f32> { return unpackState(maxExpAvgSq[i]); }
fn maxExpAvgSqStore(i: u32, x: vec4<f32>) { maxExpAvgSq[i] = packStateStochastic(x, roundingNoise(i, 2u)); }
// Adam with L2 weight decay (torch.optim.Adam) or decoupled weight decay (torch.optim.AdamW,
// flag DECOUPLED), AMSGrad, and cautious updates (flag CAUTIOUS). Recipe: docs/semantics.md § Adam,
// § AdamW, § Cautious updates.
// `struct Hyper` (the scalars) and the state bindings (two moments, and the AMSGrad maximum) are
// generated from definition.ts; `main` (shaders/common.wgsl) calls update() per vec4.

// The parameter after the decoupled decay and the working gradient d the moments take.
struct AdamInput {
  p: vec4<f32>,
  d: vec4<f32>,
}

fn adamInput(i: u32, h: Hyper, g: vec4<f32>) -> AdamInput {

  let p = param[i];
  return AdamInput(p, workingGradient(g, p, h.weightDecay));

}



fn update(i: u32, h: Hyper, g: vec4<f32>) {
  let x = adamInput(i, h, g);
  let p = x.p;
  let d = x.d;
  let m = expAvgLoad(i) * h.beta1 + h.oneMinusBeta1 * d;
  let v = expAvgSqLoad(i) * h.beta2 + (h.oneMinusBeta2 * d) * d;
  expAvgStore(i, m);
  expAvgSqStore(i, v);

  let w = maximumNan(maxExpAvgSqLoad(i), v);
  maxExpAvgSqStore(i, w);

  // sqrt(w) / sqrt(bc2), not sqrt(w / bc2): the latter overflows for |g| ~ 1e20.
  let denom = sqrt(w) / h.bc2Sqrt + h.eps;

  let u = m;

  param[i] = p + (h.negStepSize * u) / denom;
}
