// 16-bit optimizer state (bf16 or f16): each vec4 of a state slot is stored as two u32 holding
// four 16-bit values, element 4k in the low half of the first word. Arithmetic stays in f32; only
// the stored moments are rounded. The rounding is done on the f32 bits with integer operations,
// the same as src/state/state-format.ts, so every device stores the same bits: nearest, ties to even,
// overflow to ±Inf, every NaN to one canonical quiet NaN (a NaN moment stays NaN, never 0).
// Included only when the state is 16-bit; the slot accessors are generated
// (src/engine/slot-accessors.ts).
// Stochastic rounding (flag STOCHASTIC) adds noise below the kept bits before truncating: up with
// probability (dropped part) / (one step), so the stored value is x on average.

#if STATE_BF16
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
#else
// IEEE binary16 (the WGSL conversions round and overflow as the implementation likes).
fn stateBits(x: vec4<f32>) -> vec4<u32> {
  let u = bitcast<vec4<u32>>(x);
  let sign = (u >> vec4<u32>(16u)) & vec4<u32>(0x8000u);
  let a = u & vec4<u32>(0x7fffffffu);
  // Normal: rebias the exponent (127 → 15) and round the 13 dropped mantissa bits (wraps for small
  // a, which the selects below replace).
  let v = a - vec4<u32>(0x38000000u);
  let normal = (v + vec4<u32>(0xfffu) + ((v >> vec4<u32>(13u)) & vec4<u32>(1u))) >> vec4<u32>(13u);
  // Subnormal: the mantissa with its implicit bit in units of 2^-24, rounded (shift 14 … 24).
  let shift = min(vec4<u32>(126u) - min(a >> vec4<u32>(23u), vec4<u32>(112u)), vec4<u32>(24u));
  let m = (a & vec4<u32>(0x7fffffu)) | vec4<u32>(0x800000u);
  let q = m >> shift;
  let rem = m & ((vec4<u32>(1u) << shift) - vec4<u32>(1u));
  let half = vec4<u32>(1u) << (shift - vec4<u32>(1u));
  let up = (rem > half) | ((rem == half) & ((q & vec4<u32>(1u)) == vec4<u32>(1u)));
  var r = select(q + select(vec4<u32>(0u), vec4<u32>(1u), up), normal, a >= vec4<u32>(0x38800000u));
  r = select(r, vec4<u32>(0u), a <= vec4<u32>(0x33000000u)); // ≤ 2^-25: ties to 0
  r = select(r, vec4<u32>(0x7c00u), a >= vec4<u32>(0x477ff000u)); // ≥ 65520: Inf
  return select(r | sign, vec4<u32>(0x7e00u), a > vec4<u32>(0x7f800000u));
}

// Below 2^-25: ±0; from 65 536 up: ±Inf; in between, noise on the dropped bits (13 for normal values).
fn stateBitsStochastic(x: vec4<f32>, r: vec4<u32>) -> vec4<u32> {
  let u = bitcast<vec4<u32>>(x);
  let sign = (u >> vec4<u32>(16u)) & vec4<u32>(0x8000u);
  let a = u & vec4<u32>(0x7fffffffu);
  let normal = ((a - vec4<u32>(0x38000000u)) + (r & vec4<u32>(0x1fffu))) >> vec4<u32>(13u);
  let shift = min(vec4<u32>(126u) - min(a >> vec4<u32>(23u), vec4<u32>(112u)), vec4<u32>(24u));
  let m = (a & vec4<u32>(0x7fffffu)) | vec4<u32>(0x800000u);
  let subnormal = (m + (r & ((vec4<u32>(1u) << shift) - vec4<u32>(1u)))) >> shift;
  var out = select(subnormal, normal, a >= vec4<u32>(0x38800000u));
  out = select(out, vec4<u32>(0u), a < vec4<u32>(0x33000000u));
  out = select(out, vec4<u32>(0x7c00u), a >= vec4<u32>(0x47800000u));
  return select(out | sign, vec4<u32>(0x7e00u), a > vec4<u32>(0x7f800000u));
}

fn fromStateBits(h: vec4<u32>) -> vec4<f32> {
  let sign = (h & vec4<u32>(0x8000u)) << vec4<u32>(16u);
  let e = (h >> vec4<u32>(10u)) & vec4<u32>(0x1fu);
  let m = h & vec4<u32>(0x3ffu);
  let normal = sign | ((e + vec4<u32>(112u)) << vec4<u32>(23u)) | (m << vec4<u32>(13u));
  let special = sign | vec4<u32>(0x7f800000u) | (m << vec4<u32>(13u));
  // Subnormal halves are normal f32 values: m·2^-24 is exact.
  let subnormal = sign | bitcast<vec4<u32>>(vec4<f32>(m) * 0x1p-24f);
  let bits = select(select(normal, special, e == vec4<u32>(0x1fu)), subnormal, e == vec4<u32>(0u));
  return bitcast<vec4<f32>>(bits);
}
#endif

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

#if STOCHASTIC
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
#endif
