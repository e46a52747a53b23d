// One 8-bit state slot's functions (q8.wgsl says what they do), instantiated per quantized slot
// by src/engine/slot-accessors.ts with plain token substitution (src/core/wgsl-template.ts).
// Tokens, each with a leading dollar sign: SLOT, its WGSL name; INDEX, its index among the
// quantized slots; MAP, its map's first entry in q8MapTable (0u signed, 256u unsigned); ZERO, the
// code of 0 in that map (q8). Flag Q4_CODES: 4-bit codes (shaders/q4.wgsl).
var<private> $SLOTPending0: vec4<f32>;
#if LANE_VECTORS_AT_LEAST_2
var<private> $SLOTPending1: vec4<f32>;
#endif
#if LANE_VECTORS_4
var<private> $SLOTPending2: vec4<f32>;
var<private> $SLOTPending3: vec4<f32>;
#endif
var<private> $SLOTStored: bool;
var<private> $SLOTAbsmax: f32;

fn $SLOTLoad(i: u32) -> vec4<f32> {
  if (!q8IsQuantized()) {
    let w = q8SideWord(i);
    return bitcast<vec4<f32>>(vec4<u32>($SLOT[w], $SLOT[w + 1u], $SLOT[w + 2u], $SLOT[w + 3u]));
  }
  if (!q8HasRun()) {
    return vec4<f32>(0.0);
  }
  // Settled: the code this invocation just stored, with its run's absmax as the tile took it (the
  // absmax in memory is another invocation's store, not yet visible here).
  let settled = q8Settled && $SLOTStored;
#if Q4_CODES
  return q4Decode($MAP, $SLOT[q4CodeWord(i)] >> q4Shift(i), select(bitcast<f32>($SLOT[q8AbsmaxBase() + q8Entry.z]), $SLOTAbsmax, settled));
#else
  return q8Decode($MAP, $SLOT[q8CodeWord(i)], select(bitcast<f32>($SLOT[q8AbsmaxBase() + q8Entry.z]), $SLOTAbsmax, settled));
#endif
}

fn $SLOTStore(i: u32, x: vec4<f32>) {
  if (q8Settled) {
    return;
  }
  if (!q8IsQuantized()) {
    let w = q8SideWord(i);
    let b = bitcast<vec4<u32>>(x);
    $SLOT[w] = b.x;
    $SLOT[w + 1u] = b.y;
    $SLOT[w + 2u] = b.z;
    $SLOT[w + 3u] = b.w;
    return;
  }
  $SLOTStored = true;
  switch q8K {
    case 0u: { $SLOTPending0 = x; }
#if LANE_VECTORS_AT_LEAST_2
    case 1u: { $SLOTPending1 = x; }
#endif
#if LANE_VECTORS_4
    case 2u: { $SLOTPending2 = x; }
    case 3u: { $SLOTPending3 = x; }
#endif
    default: {}
  }
}

// The value stored for the lane's vec4 k.
fn $SLOTKept(k: u32) -> vec4<f32> {
  switch k {
    case 0u: { return $SLOTPending0; }
#if LANE_VECTORS_AT_LEAST_2
    case 1u: { return $SLOTPending1; }
#endif
#if LANE_VECTORS_4
    case 2u: { return $SLOTPending2; }
    case 3u: { return $SLOTPending3; }
#endif
    default: { return vec4<f32>(0.0); }
  }
}

// The tile's first phase (q8Settle): the bits of the lane's max |x| into its run's atomic. A slot
// the pass only loads (LAMB's moments in its update pass) is left as it is.
fn $SLOTRunMax() {
  if ($SLOTStored) {
    var bits = q8AbsBits($SLOTPending0, 0u);
#if LANE_VECTORS_AT_LEAST_2
    bits = max(bits, q8AbsBits($SLOTPending1, 1u));
#endif
#if LANE_VECTORS_4
    bits = max(bits, q8AbsBits($SLOTPending2, 2u));
    bits = max(bits, q8AbsBits($SLOTPending3, 3u));
#endif
    atomicMax(&q8RunMax[q8RunSlot($INDEX)], bits);
  }
}

// The second phase, after the barrier: the lane's codes, and the run's absmax from its first lane.
fn $SLOTStoreCodes(first: u32, storesAbsmax: bool) {
  if ($SLOTStored) {
#if Q4_CODES
    // 4 bits (q4.wgsl): the lane's two vec4s fill one word.
    let absmax = q8Absmax(max(atomicLoad(&q8RunMax[q8RunSlot($INDEX)]), Q4_ABSMAX_FLOOR_BITS));
    $SLOTAbsmax = absmax;
    var word = 0u;
    for (var k = 0u; k < LANE_VECTORS; k++) {
      word |= q4Encode($MAP, $SLOTKept(k), absmax) << q4Shift(first + CHUNK_LANES * k);
    }
    $SLOT[q4CodeWord(first)] = word;
#else
    let absmax = q8Absmax(atomicLoad(&q8RunMax[q8RunSlot($INDEX)]));
    $SLOTAbsmax = absmax;
    for (var k = 0u; k < LANE_VECTORS; k++) {
      $SLOT[q8CodeWord(first + CHUNK_LANES * k)] = q8Encode($MAP, $ZERO, $SLOTKept(k), absmax);
    }
#endif
    if (storesAbsmax) {
      $SLOT[q8AbsmaxBase() + q8Entry.z] = bitcast<u32>(absmax);
    }
  }
}
