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
#if CHUNKS_IN_SCRATCH
  // The table kept in the scratch (u32 bits), from the segment's first chunk there.
  return bitcast<vec4<u32>>(tensorScratch[chunkSegment.x + i / 16u]);
#else
  return chunkTensor[i / 16u];
#endif
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
