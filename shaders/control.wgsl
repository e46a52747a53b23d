// The GPU-resident control block of a step (src/training.ts writes the settings, the finalize
// pass of shaders/grad-stats.wgsl writes the rest), read by the update kernels when GRAD_CONTROL
// is on. Keeping it on the GPU means clipping, loss scaling and non-finite skips need no readback.

struct GroupControl {
  multiplier: f32,  // clip-by-norm coefficient min(1, maxNorm / (norm + 1e-6)), else 1
  norm: f32,        // this group's gradient norm (after unscaling and value clipping)
  stepA: f32,       // step-dependent scalars of the device step (family-specific, from the table)
  stepB: f32,
}

struct Control {
  skip: u32,            // 1: non-finite gradients found and skipping is on: leave everything
  step: u32,            // optimizer steps taken (skipped steps do not count)
  lossScale: f32,
  growthTracker: u32,
  totalNorm: f32,       // norm over all tensors
  foundInf: u32,
  preMultiplier: f32,   // what gradients were multiplied by this step (1/scale · average factor)
  _pad0: u32,
  // Settings, written by the host.
  growthFactor: f32,
  backoffFactor: f32,
  growthInterval: u32,
  flags: u32,           // 1 dynamic scale, 2 skip non-finite, 4 per-group norm, 8 inf-norm, 16 loss scaling, 32 clip by norm
  averageFactor: f32,   // 1, or 1/k when averaging k accumulated micro-batches
  maxNorm: f32,
  clipValue: f32,       // +inf when off
  groupCount: u32,
  groups: array<GroupControl>,
}

// Unscaling and averaging factor of the current step, from the scale before this step's update.
fn preMultiplierOf(scale: f32, flags: u32, averageFactor: f32) -> f32 {
  return select(1.0, 1.0 / scale, (flags & 16u) != 0u) * averageFactor;
}

// torch.clamp: NaN stays NaN (WGSL's clamp may return a bound for NaN).
fn clampNan(g: vec4<f32>, bound: f32) -> vec4<f32> {
  return select(clamp(g, vec4<f32>(-bound), vec4<f32>(bound)), g, isNan4(g));
}

// NaN test on the bits, so a compiler that assumes finite math cannot fold it away.
fn isNan4(x: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(x) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
}

// NaN or ±Inf.
fn isNonFinite4(x: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(x) & vec4<u32>(0x7fffffffu)) >= vec4<u32>(0x7f800000u);
}
