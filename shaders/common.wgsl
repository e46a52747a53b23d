// Shared by every optimizer kernel; prepended to shaders/<family>.wgsl by src/shaders.ts.
//
// Each invocation updates one vec4 (4 consecutive f32) of one segment. A segment is a 256-byte
// aligned range of the packed buffers that fits one storage binding and one 2-D dispatch, so the
// array indices below are relative to the segment. The "if NAME" directives are resolved when the pipeline
// is created (wgsl-preprocessor), never by branching on per-element data.

override WORKGROUP_SIZE: u32 = 256u;

// The per-step scalars of every parameter group (struct Hyper is the family's). The binding has a
// dynamic offset: each recorded step reads its own slot of a ring, so several steps recorded into
// one command encoder each see their own learning rate and bias corrections.
@group(0) @binding(0) var<storage, read> hyper: array<Hyper>;
@group(0) @binding(1) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> grad: array<vec4<f32>>;
#if MULTI_GROUP
// Group index of every 64-element chunk (16 vec4) of the segment.
@group(0) @binding(3) var<storage, read> chunkGroup: array<u32>;
#endif

#if GRAD_CONTROL
@group(0) @binding(7) var<storage, read> control: Control;
#endif

fn vectorIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
}

fn groupAt(i: u32) -> u32 {
#if MULTI_GROUP
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
