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
#if LAYERWISE
  // Layer-wise kernels read the group from their chunk → tensor table (one binding fewer).
  return chunkInfo(i).w;
#elif Q8
  // So do 8-bit kernels, from their chunk table (shaders/q8.wgsl).
  return q8GroupAt(i);
#elif NS_GROUPS
  // So does Muon, from its Newton–Schulz table (every tensor, its group; src/passes/newton-schulz.ts).
  return nsGroupAt(i);
#elif MULTI_GROUP
  return chunkGroup[i / 16u];
#else
  return 0u;
#endif
}

// True when the control pass decided to skip this step (uniform: every invocation reads the same).
fn stepSkipped() -> bool {
#if GRAD_CONTROL
  return control.skip != 0u;
#else
  return false;
#endif
}

// The group's scalars; on the control path the step-dependent ones come from the device step.
fn hyperOf(group: u32) -> Hyper {
#if GRAD_CONTROL
  return withDeviceStep(hyper[group], control.groups[group].stepValues);
#else
  return hyper[group];
#endif
}

// The gradient the optimizer sees: unscaled (loss scale, accumulation average), clamped by value,
// scaled by the group's clip-by-norm coefficient. Identity (exactly) without GRAD_CONTROL.
fn controlledGradient(g: vec4<f32>, group: u32) -> vec4<f32> {
#if GRAD_CONTROL
  let unscaled = g * control.preMultiplier;
  return clampNan(unscaled, control.clipValue) * control.groups[group].multiplier;
#else
  return g;
#endif
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
#if MAXIMIZE
  let d = -g;
#else
  let d = g;
#endif
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
