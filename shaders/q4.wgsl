// 4-bit block-wise state (stateFormat 'q4'), appended after q8.wgsl, whose tiles, chunk table, runs
// and absmax it shares (src/state/q8.ts is the CPU twin: encodeQ4, and chunkWords4 in
// src/state/q8-regions.ts for the words). torchao's 4-bit maps, 16 values each, sit where q8's
// maps do in q8MapTable (signed at 0, unsigned at 256).
// A chunk's 64 codes take 8 words: vec4 j of the chunk takes the 16 bits from 16·(j ÷ 8) of word
// j mod 8, its element e the nibble at 4e in them. A lane of a tile of two vec4s per lane (the
// only shape q4 runs with) holds vec4s j and j + 8 of its chunk: it writes one whole word, and no
// two lanes write the same word.

const Q4_CODE_WORDS = 8u;
// torchao's least scale (amax.clip(1e-12)) as the bits of f32(1e-12): an integer max with the
// run's max |x| keeps a NaN's bits, which order above it.
const Q4_ABSMAX_FLOOR_BITS = 0x2b8cbcccu;

// The u32 holding vec4 i's four codes (only chunks with a run have codes, as in q8CodeWord).
fn q4CodeWord(i: u32) -> u32 {
  return ((q8Entry.y >> 7u) & 0xffffffu) * Q4_CODE_WORDS + i % Q4_CODE_WORDS;
}

// Where vec4 i's 16 bits start in its word: 0 or 16.
fn q4Shift(i: u32) -> u32 {
  return ((i % CHUNK_VECTORS) / Q4_CODE_WORDS) * 16u;
}

// torchao's quantize_4bit_with_qmap: a branchless binary search for the largest map value ≤ n
// (index 0 below them all, and for NaN), then up one when the rest is at least half the gap (ties:
// the upper). ±Inf take the ends of the map (n = ±1).
fn q4Encode1(mapBase: u32, x: f32, absmax: f32) -> u32 {
  let n = select(x / absmax, sign(x), isInfBits(x));
  var k = select(0u, 8u, n >= q8MapValue(mapBase, 8u));
  k += select(0u, 4u, n >= q8MapValue(mapBase, k + 4u));
  k += select(0u, 2u, n >= q8MapValue(mapBase, k + 2u));
  k += select(0u, 1u, n >= q8MapValue(mapBase, k + 1u));
  let up = min(k + 1u, 15u);
  let down = q8MapValue(mapBase, k);
  return select(k, up, n - down >= (q8MapValue(mapBase, up) - down) * 0.5);
}

// A vec4's four codes in 16 bits, x in the lowest nibble.
fn q4Encode(mapBase: u32, x: vec4<f32>, absmax: f32) -> u32 {
  return q4Encode1(mapBase, x.x, absmax) | (q4Encode1(mapBase, x.y, absmax) << 4u) |
    (q4Encode1(mapBase, x.z, absmax) << 8u) | (q4Encode1(mapBase, x.w, absmax) << 12u);
}

// The values of a vec4's codes, its 16 bits in the low half of `half`.
fn q4Decode(mapBase: u32, half: u32, absmax: f32) -> vec4<f32> {
  return vec4<f32>(q8Decode1(mapBase, half & 0xfu, absmax), q8Decode1(mapBase, (half >> 4u) & 0xfu, absmax),
    q8Decode1(mapBase, (half >> 8u) & 0xfu, absmax), q8Decode1(mapBase, (half >> 12u) & 0xfu, absmax));
}
