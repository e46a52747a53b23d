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
@group(0) @binding(4) var<storage, read> q8Chunks: array<u32>;
@group(0) @binding(5) var<uniform> q8Maps: array<vec4<f32>, 128>;
@group(0) @binding(6) var<storage, read_write> expAvg: array<u32>;
@group(0) @binding(7) var<storage, read_write> expAvgSq: array<u32>;
@group(0) @binding(8) var<storage, read_write> maxExpAvgSq: array<u32>;
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

  // So do 8-bit kernels, from their chunk table (shaders/q8.wgsl).
  return q8GroupAt(i);

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

// 8-bit block-wise state (stateFormat 'q8'; src/state/q8.ts is the CPU twin of every operation here).
// `mainBlockwise`: one workgroup per tile of TILE_LANES × LANE_VECTORS vec4s, one dispatch per
// step. Each invocation (lane) owns LANE_VECTORS vec4s of one chunk, so it reads the chunk table
// once. It runs update() on them; the stores of quantized slots go to private values. The lanes
// then take, per slot, the NaN-propagating max |x| of each run (the part of a block one tensor
// holds: tensors never share a scale) with one workgroup atomicMax on the bits of |x| — an integer
// max is exact in any order, and the bits of a NaN order above those of every |x| — and after one
// barrier every lane stores its codes, four per u32, and the run's first lane its absmax. Blocks
// appear only through the chunk table's runs, so one kernel serves every block size that fits a
// tile. Slots of tensors under minQuantizedElements are f32 "side" values.
// What a tile costs beyond its memory traffic decides how much faster than f32 q8 is on a
// memory-bound GPU (bench/RESULTS.notes.md has the H100 measurements of the shapes tried).
// A slot's buffer holds, per segment: codes (one u32 per vec4 of the chunks with a run), then one
// absmax per run (f32 bits), then the side values.
// Each quantized slot has its own functions (q8-slot.wgsl, one copy per slot): its load decodes
// (or reads the side value); its store keeps the value in one private vec4 per vec4 of the lane
// (or writes the side value) and marks the slot stored; once settled (q8-layerwise.wgsl), stores
// are dropped and loads give the values as stored. The lane's vec4s are kept in separate private
// values (registers, not an indexed array), exactly as many as the tile holds (flags
// LANE_VECTORS_AT_LEAST_2 and LANE_VECTORS_4): on an H100, four values per slot where two were
// used made Adam's 16M step 7 % slower. q8RunMaxes and q8StoreCodes, which call every quantized
// slot's, and the constants LANE_VECTORS and Q8_SLOTS are generated (src/engine/slot-accessors.ts).

const CHUNK_VECTORS = 16u;
// Q8_TILE_LANES and q8TileShape in src/state/q8.ts (a tile holds whole blocks: blockSize ≤ 4 ×
// LANE_VECTORS × TILE_LANES). LANE_VECTORS, the vec4s of a lane (1, 2 or 4), is a constant of the
// generated source (src/engine/slot-accessors.ts), which keeps one private value per vec4: a value
// left unused still holds registers.
override TILE_LANES: u32 = 256u;
const CHUNK_LANES = CHUNK_VECTORS / LANE_VECTORS;
override TILE_CHUNKS: u32 = TILE_LANES / CHUNK_LANES;

// Both maps (signed, then unsigned), copied from the uniform once per tile: the searches and
// decodes index them with per-lane codes.
var<workgroup> q8MapTable: array<f32, 512>;
// Per slot and run of the tile (runs are numbered in order, so run % TILE_CHUNKS tells a tile's
// runs apart): the bits of the run's max |x|.
var<workgroup> q8RunMax: array<atomic<u32>, max(Q8_SLOTS, 1u) * TILE_CHUNKS>;

// This lane's index in the tile, its chunk's entry (group, kind, run, the word of the segment's
// first absmax: q8ChunkEntry), whether its chunk starts a run, and which of its vec4s update() is on.
var<private> q8Lane: u32;
var<private> q8Entry: vec4<u32>;
var<private> q8RunStarts: bool;
var<private> q8K: u32;
// After the codes are stored (q8-layerwise.wgsl): stores are dropped, loads give the stored values.
var<private> q8Settled: bool;

// The segment's table (q8Chunks; src/state/q8-regions.ts, segmentTable, writes it): a header
// (the word of the first absmax, chunks per block, the first piece's word, the pieces), one word
// per granule of 16 chunks naming the piece that holds its first chunk, then per piece (a span of
// chunks of one tensor, or of padding) 8 words: first chunk, group, end of its elements, base
// (0x80000000 | its first chunk's index among the chunks with codes, or its first side word),
// first run (0xffffffff: none). A per-chunk table took 0.25 byte per parameter; this one about
// 0.004, for a scan of at most a granule's pieces per lane.
const Q8_TABLE_HEADER_WORDS = 4u;
const Q8_GRANULE_CHUNKS = 16u;
const Q8_PIECE_WORDS = 8u;

// The word of the piece holding `chunk` (in the segment).
fn q8PieceOf(chunk: u32) -> u32 {
  let firstPiece = q8Chunks[2];
  let pieces = q8Chunks[3];
  var p = q8Chunks[Q8_TABLE_HEADER_WORDS + chunk / Q8_GRANULE_CHUNKS];
  while (p + 1u < pieces && q8Chunks[firstPiece + (p + 1u) * Q8_PIECE_WORDS] <= chunk) {
    p++;
  }
  return firstPiece + p * Q8_PIECE_WORDS;
}

// Element i's group (groupAt in common.wgsl, for the kernels of 8-bit state).
fn q8GroupAt(i: u32) -> u32 {
  return q8Chunks[q8PieceOf(i / CHUNK_VECTORS) + 1u];
}

// A chunk's entry, as a per-chunk table held it: (group; 0x80000000 | its index among the segment's
// chunks with codes << 7 | elements of its tensor in it when quantized, else the word of its first
// side value; its run in the segment or 0xffffffff; the word of the segment's first absmax).
// Also sets q8RunStarts: a run starts at its tensor's first chunk (in the segment) and at every block.
fn q8ChunkEntry(chunk: u32) -> vec4<u32> {
  let at = q8PieceOf(chunk);
  let first = q8Chunks[at];
  let end = q8Chunks[at + 2u];
  let base = q8Chunks[at + 3u];
  let firstRun = q8Chunks[at + 4u];
  let chunksPerBlock = q8Chunks[1];
  let start = chunk * 64u;
  let elements = select(0u, min(64u, end - start), end > start);
  var kind = base + (chunk - first) * 64u;
  if ((base & 0x80000000u) != 0u) {
    kind = 0x80000000u | (((base & 0xffffffu) + chunk - first) << 7u) | elements;
  }
  let run = select(firstRun + chunk / chunksPerBlock - first / chunksPerBlock, 0xffffffffu, firstRun == 0xffffffffu);
  q8RunStarts = chunk == first || chunk % chunksPerBlock == 0u;
  return vec4<u32>(q8Chunks[at + 1u], kind, run, q8Chunks[0]);
}

// The runs' absmax follow the codes (the entry's w: the segment's code words).
fn q8AbsmaxBase() -> u32 {
  return q8Entry.w;
}

// Kind (the table's y): quantized, 0x80000000 | the chunk's index among the segment's chunks with
// codes << 7 | elements of its tensor in it; else the word of its first side value.
fn q8IsQuantized() -> bool {
  return (q8Entry.y & 0x80000000u) != 0u;
}

// The u32 of vec4 i's four codes: only chunks with a run have codes, so a tensor under
// minQuantizedElements costs its f32 values and nothing more.
fn q8CodeWord(i: u32) -> u32 {
  return ((q8Entry.y >> 7u) & 0xffffffu) * CHUNK_VECTORS + i % CHUNK_VECTORS;
}

// Quantized with elements (padding-only chunks have no run: they load 0 and store nothing).
fn q8HasRun() -> bool {
  return q8Entry.z != 0xffffffffu;
}

fn q8SideWord(i: u32) -> u32 {
  return q8Entry.y + 4u * (i % CHUNK_VECTORS);
}

fn q8RunSlot(slot: u32) -> u32 {
  return slot * TILE_CHUNKS + q8Entry.z % TILE_CHUNKS;
}

fn isNanBits(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn isInfBits(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u;
}

// mapBase: 0 (signed map) or 256 (unsigned).
fn q8MapValue(mapBase: u32, code: u32) -> f32 {
  return q8MapTable[mapBase + code];
}

// Where the largest map value ≤ n is, about: the dynamic map's decade of |n| (10^(d−7) … 10^(d−6),
// 2^d values per sign in the signed map, 2^(d+1) in the unsigned one) and its place on that
// decade's linear grid. Only a start: q8FloorCode walks from it to the exact index, so a guess off
// by one costs one more lookup, never a wrong code (the count of map values below |n| moves
// continuously across decades, so a decade picked wrongly at a boundary guesses about the same).
fn q8Guess(mapBase: u32, n: f32) -> u32 {
  let a = abs(n);
  let unsigned = f32(mapBase != 0u);
  let d = clamp(floor(log2(max(a, 1e-30)) * 0.30103) + 7.0, 0.0, 6.0);
  let m = exp2(d + unsigned);
  let onGrid = clamp(floor((a * exp2((6.0 - d) * 3.321928) - 0.1) * (m * (1.0 / 0.9)) + 0.5), 0.0, m);
  // Map values in (0, |n|]: those of the decades below (m − 1 or m − 2), then those on this one.
  let below = u32(m - 1.0 - unsigned + onGrid);
  if (mapBase != 0u) {
    return below;
  }
  return select(126u - min(below, 126u), 127u + below, n >= 0.0);
}

// The code of one value: the nearest map value to x / absmax (ties: the lower), 0's code when the
// absmax is 0 or NaN, the ends of the map for ±Inf. From the guess, k walks to the largest map
// value ≤ n (index 0 when n is below them all); with the guess right, that is two lookups.
fn q8Encode1(mapBase: u32, zero: u32, x: f32, absmax: f32) -> u32 {
  if (!(absmax > 0.0)) {
    return zero;
  }
  let n = select(x / absmax, sign(x), isInfBits(x));
  var k = min(q8Guess(mapBase, n), 255u);
  var at = q8MapValue(mapBase, k);
  while (k > 0u && at > n) {
    k--;
    at = q8MapValue(mapBase, k);
  }
  var next: f32;
  loop {
    if (k == 255u) {
      return k;
    }
    next = q8MapValue(mapBase, k + 1u);
    if (next > n) {
      break;
    }
    k++;
    at = next;
  }
  return select(k, k + 1u, next - n < n - at);
}

fn q8Encode(mapBase: u32, zero: u32, x: vec4<f32>, absmax: f32) -> u32 {
  return q8Encode1(mapBase, zero, x.x, absmax) | (q8Encode1(mapBase, zero, x.y, absmax) << 8u) |
    (q8Encode1(mapBase, zero, x.z, absmax) << 16u) | (q8Encode1(mapBase, zero, x.w, absmax) << 24u);
}

fn q8Decode1(mapBase: u32, code: u32, absmax: f32) -> f32 {
  let m = q8MapValue(mapBase, code);
  return select(select(m * absmax, 0.0, m == 0.0), absmax, isNanBits(absmax));
}

fn q8Decode(mapBase: u32, word: u32, absmax: f32) -> vec4<f32> {
  return vec4<f32>(q8Decode1(mapBase, word & 0xffu, absmax), q8Decode1(mapBase, (word >> 8u) & 0xffu, absmax),
    q8Decode1(mapBase, (word >> 16u) & 0xffu, absmax), q8Decode1(mapBase, word >> 24u, absmax));
}

// max over x of the bits of |x| for the elements of its tensor (padding past its end excluded).
fn q8AbsBits(x: vec4<f32>, k: u32) -> u32 {
  let first = (q8LaneInChunk() + CHUNK_LANES * k) * 4u;
  let valid = q8Entry.y & 0x7fu;
  let bits = bitcast<vec4<u32>>(x) & vec4<u32>(0x7fffffffu);
  let live = vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(valid);
  let m = select(vec4<u32>(0u), bits, live);
  return max(max(m.x, m.y), max(m.z, m.w));
}

// The run's absmax from its bits: one NaN for every NaN (the twin's Float32Array holds that one).
fn q8Absmax(bits: u32) -> f32 {
  return bitcast<f32>(select(bits, 0x7fc00000u, bits > 0x7f800000u));
}

fn q8LaneInChunk() -> u32 {
  return q8Lane % CHUNK_LANES;
}

// Whether this lane stores its run's absmax: the first lane of the run's first chunk (runs change
// at tensor starts and block boundaries: q8ChunkEntry).
fn q8StoresAbsmax() -> bool {
  return q8LaneInChunk() == 0u && q8RunStarts;
}

fn q8UpdateAt(i: u32, k: u32) {
  q8K = k;
  let group = q8Entry.x;
  update(i, hyperOf(group), controlledGradient(grad[i], group));
}

// A lane of a tile: its chunk (in the segment), its first vec4 (the others follow CHUNK_LANES
// apart) and whether it is inside the segment.
struct Q8Lane {
  chunk: u32,
  first: u32,
  live: bool,
}

// A tile's start, shared by its entry points: the maps into workgroup memory, the run maxima
// cleared, this lane's chunk-table entry read; ends with the barrier after which they are seen.
fn q8TileStart(tile: u32, lid: u32) -> Q8Lane {
  for (var j = lid; j < 128u; j += TILE_LANES) {
    let v = q8Maps[j];
    q8MapTable[4u * j] = v.x;
    q8MapTable[4u * j + 1u] = v.y;
    q8MapTable[4u * j + 2u] = v.z;
    q8MapTable[4u * j + 3u] = v.w;
  }
  for (var j = lid; j < Q8_SLOTS * TILE_CHUNKS; j += TILE_LANES) {
    atomicStore(&q8RunMax[j], 0u);
  }
  q8Lane = lid;
  let chunk = tile * TILE_CHUNKS + lid / CHUNK_LANES;
  let first = chunk * CHUNK_VECTORS + q8LaneInChunk();
  let live = first < arrayLength(&param);
  if (live) {
    q8Entry = q8ChunkEntry(chunk);
  }
  workgroupBarrier();
  return Q8Lane(chunk, first, live);
}

// A tile's end, after its lanes ran update() or partials() on their vec4s: each run's absmax (the
// bits of its max |x|, one atomicMax per slot and lane), then the codes and absmax stored.
fn q8Settle(lane: Q8Lane) {
  let quantized = lane.live && q8IsQuantized() && q8HasRun();
  if (quantized) {
    q8RunMaxes();
  }
  workgroupBarrier();
  if (quantized) {
    q8StoreCodes(lane.first, q8StoresAbsmax());
  }
}

@compute @workgroup_size(TILE_LANES)
fn mainBlockwise(@builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  // A skipped step touches nothing (uniform: every invocation reads the same).
  if (stepSkipped()) {
    return;
  }
  let lane = q8TileStart(wid.y * nwg.x + wid.x, lid);
  for (var k = 0u; lane.live && k < LANE_VECTORS; k++) {
    q8UpdateAt(lane.first + CHUNK_LANES * k, k);
  }
  q8Settle(lane);
}

// The per-tensor step (PyTorch's rule for a parameter whose grad is None) with 8-bit or 4-bit state,
// appended after q8.wgsl (and q4.wgsl) to a variant with PER_TENSOR only: the tiles of `mainBlockwise`,
// each lane's row of scalars the `Hyper` of its chunk's tensor (`chunkRow`, as in per-tensor.wgsl:
// the tensor's own step count). A lane of a tensor without gradient takes no part in the tile: it
// runs no update, so it stores no side value, and it neither takes part in its run's absmax nor
// stores codes or an absmax. Runs never span tensors (a block is split at each tensor's start), so
// every code, absmax and side value of such a tensor is left bit for bit, and a run of a tensor that
// has its gradient is settled as in `mainBlockwise`. With gradient control (GRAD_CONTROL) a lane
// reads the controlled gradient and a skipped step touches nothing, as in `mainBlockwise`.

@compute @workgroup_size(TILE_LANES)
fn mainBlockwisePerTensor(@builtin(workgroup_id) wid: vec3<u32>,
                          @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
  var lane = q8TileStart(wid.y * nwg.x + wid.x, lid);
  if (lane.live) {
    let h = hyper[chunkRow[lane.chunk]];
    lane.live = h.gradientAbsent == 0.0;
    for (var k = 0u; lane.live && k < LANE_VECTORS; k++) {
      q8K = k;
      let i = lane.first + CHUNK_LANES * k;
      update(i, h, grad[i]);
    }
  }
  // Every lane reaches the barriers in q8Settle (uniform control flow); absent lanes store nothing.
  q8Settle(lane);
}

// One 8-bit state slot's functions (q8.wgsl says what they do), instantiated per quantized slot
// by src/engine/slot-accessors.ts with plain token substitution (src/core/wgsl-template.ts).
// Tokens, each with a leading dollar sign: SLOT, its WGSL name; INDEX, its index among the
// quantized slots; MAP, its map's first entry in q8MapTable (0u signed, 256u unsigned); ZERO, the
// code of 0 in that map (q8). Flag Q4_CODES: 4-bit codes (shaders/q4.wgsl).
var<private> expAvgPending0: vec4<f32>;

var<private> expAvgPending1: vec4<f32>;


var<private> expAvgStored: bool;
var<private> expAvgAbsmax: f32;

fn expAvgLoad(i: u32) -> vec4<f32> {
  if (!q8IsQuantized()) {
    let w = q8SideWord(i);
    return bitcast<vec4<f32>>(vec4<u32>(expAvg[w], expAvg[w + 1u], expAvg[w + 2u], expAvg[w + 3u]));
  }
  if (!q8HasRun()) {
    return vec4<f32>(0.0);
  }
  // Settled: the code this invocation just stored, with its run's absmax as the tile took it (the
  // absmax in memory is another invocation's store, not yet visible here).
  let settled = q8Settled && expAvgStored;

  return q8Decode(0u, expAvg[q8CodeWord(i)], select(bitcast<f32>(expAvg[q8AbsmaxBase() + q8Entry.z]), expAvgAbsmax, settled));

}

fn expAvgStore(i: u32, x: vec4<f32>) {
  if (q8Settled) {
    return;
  }
  if (!q8IsQuantized()) {
    let w = q8SideWord(i);
    let b = bitcast<vec4<u32>>(x);
    expAvg[w] = b.x;
    expAvg[w + 1u] = b.y;
    expAvg[w + 2u] = b.z;
    expAvg[w + 3u] = b.w;
    return;
  }
  expAvgStored = true;
  switch q8K {
    case 0u: { expAvgPending0 = x; }

    case 1u: { expAvgPending1 = x; }


    default: {}
  }
}

// The value stored for the lane's vec4 k.
fn expAvgKept(k: u32) -> vec4<f32> {
  switch k {
    case 0u: { return expAvgPending0; }

    case 1u: { return expAvgPending1; }


    default: { return vec4<f32>(0.0); }
  }
}

// The tile's first phase (q8Settle): the bits of the lane's max |x| into its run's atomic. A slot
// the pass only loads (LAMB's moments in its update pass) is left as it is.
fn expAvgRunMax() {
  if (expAvgStored) {
    var bits = q8AbsBits(expAvgPending0, 0u);

    bits = max(bits, q8AbsBits(expAvgPending1, 1u));


    atomicMax(&q8RunMax[q8RunSlot(0u)], bits);
  }
}

// The second phase, after the barrier: the lane's codes, and the run's absmax from its first lane.
fn expAvgStoreCodes(first: u32, storesAbsmax: bool) {
  if (expAvgStored) {

    let absmax = q8Absmax(atomicLoad(&q8RunMax[q8RunSlot(0u)]));
    expAvgAbsmax = absmax;
    for (var k = 0u; k < LANE_VECTORS; k++) {
      expAvg[q8CodeWord(first + CHUNK_LANES * k)] = q8Encode(0u, 127u, expAvgKept(k), absmax);
    }

    if (storesAbsmax) {
      expAvg[q8AbsmaxBase() + q8Entry.z] = bitcast<u32>(absmax);
    }
  }
}

// One 8-bit state slot's functions (q8.wgsl says what they do), instantiated per quantized slot
// by src/engine/slot-accessors.ts with plain token substitution (src/core/wgsl-template.ts).
// Tokens, each with a leading dollar sign: SLOT, its WGSL name; INDEX, its index among the
// quantized slots; MAP, its map's first entry in q8MapTable (0u signed, 256u unsigned); ZERO, the
// code of 0 in that map (q8). Flag Q4_CODES: 4-bit codes (shaders/q4.wgsl).
var<private> expAvgSqPending0: vec4<f32>;

var<private> expAvgSqPending1: vec4<f32>;


var<private> expAvgSqStored: bool;
var<private> expAvgSqAbsmax: f32;

fn expAvgSqLoad(i: u32) -> vec4<f32> {
  if (!q8IsQuantized()) {
    let w = q8SideWord(i);
    return bitcast<vec4<f32>>(vec4<u32>(expAvgSq[w], expAvgSq[w + 1u], expAvgSq[w + 2u], expAvgSq[w + 3u]));
  }
  if (!q8HasRun()) {
    return vec4<f32>(0.0);
  }
  // Settled: the code this invocation just stored, with its run's absmax as the tile took it (the
  // absmax in memory is another invocation's store, not yet visible here).
  let settled = q8Settled && expAvgSqStored;

  return q8Decode(256u, expAvgSq[q8CodeWord(i)], select(bitcast<f32>(expAvgSq[q8AbsmaxBase() + q8Entry.z]), expAvgSqAbsmax, settled));

}

fn expAvgSqStore(i: u32, x: vec4<f32>) {
  if (q8Settled) {
    return;
  }
  if (!q8IsQuantized()) {
    let w = q8SideWord(i);
    let b = bitcast<vec4<u32>>(x);
    expAvgSq[w] = b.x;
    expAvgSq[w + 1u] = b.y;
    expAvgSq[w + 2u] = b.z;
    expAvgSq[w + 3u] = b.w;
    return;
  }
  expAvgSqStored = true;
  switch q8K {
    case 0u: { expAvgSqPending0 = x; }

    case 1u: { expAvgSqPending1 = x; }


    default: {}
  }
}

// The value stored for the lane's vec4 k.
fn expAvgSqKept(k: u32) -> vec4<f32> {
  switch k {
    case 0u: { return expAvgSqPending0; }

    case 1u: { return expAvgSqPending1; }


    default: { return vec4<f32>(0.0); }
  }
}

// The tile's first phase (q8Settle): the bits of the lane's max |x| into its run's atomic. A slot
// the pass only loads (LAMB's moments in its update pass) is left as it is.
fn expAvgSqRunMax() {
  if (expAvgSqStored) {
    var bits = q8AbsBits(expAvgSqPending0, 0u);

    bits = max(bits, q8AbsBits(expAvgSqPending1, 1u));


    atomicMax(&q8RunMax[q8RunSlot(1u)], bits);
  }
}

// The second phase, after the barrier: the lane's codes, and the run's absmax from its first lane.
fn expAvgSqStoreCodes(first: u32, storesAbsmax: bool) {
  if (expAvgSqStored) {

    let absmax = q8Absmax(atomicLoad(&q8RunMax[q8RunSlot(1u)]));
    expAvgSqAbsmax = absmax;
    for (var k = 0u; k < LANE_VECTORS; k++) {
      expAvgSq[q8CodeWord(first + CHUNK_LANES * k)] = q8Encode(256u, 0u, expAvgSqKept(k), absmax);
    }

    if (storesAbsmax) {
      expAvgSq[q8AbsmaxBase() + q8Entry.z] = bitcast<u32>(absmax);
    }
  }
}

// One 8-bit state slot's functions (q8.wgsl says what they do), instantiated per quantized slot
// by src/engine/slot-accessors.ts with plain token substitution (src/core/wgsl-template.ts).
// Tokens, each with a leading dollar sign: SLOT, its WGSL name; INDEX, its index among the
// quantized slots; MAP, its map's first entry in q8MapTable (0u signed, 256u unsigned); ZERO, the
// code of 0 in that map (q8). Flag Q4_CODES: 4-bit codes (shaders/q4.wgsl).
var<private> maxExpAvgSqPending0: vec4<f32>;

var<private> maxExpAvgSqPending1: vec4<f32>;


var<private> maxExpAvgSqStored: bool;
var<private> maxExpAvgSqAbsmax: f32;

fn maxExpAvgSqLoad(i: u32) -> vec4<f32> {
  if (!q8IsQuantized()) {
    let w = q8SideWord(i);
    return bitcast<vec4<f32>>(vec4<u32>(maxExpAvgSq[w], maxExpAvgSq[w + 1u], maxExpAvgSq[w + 2u], maxExpAvgSq[w + 3u]));
  }
  if (!q8HasRun()) {
    return vec4<f32>(0.0);
  }
  // Settled: the code this invocation just stored, with its run's absmax as the tile took it (the
  // absmax in memory is another invocation's store, not yet visible here).
  let settled = q8Settled && maxExpAvgSqStored;

  return q8Decode(256u, maxExpAvgSq[q8CodeWord(i)], select(bitcast<f32>(maxExpAvgSq[q8AbsmaxBase() + q8Entry.z]), maxExpAvgSqAbsmax, settled));

}

fn maxExpAvgSqStore(i: u32, x: vec4<f32>) {
  if (q8Settled) {
    return;
  }
  if (!q8IsQuantized()) {
    let w = q8SideWord(i);
    let b = bitcast<vec4<u32>>(x);
    maxExpAvgSq[w] = b.x;
    maxExpAvgSq[w + 1u] = b.y;
    maxExpAvgSq[w + 2u] = b.z;
    maxExpAvgSq[w + 3u] = b.w;
    return;
  }
  maxExpAvgSqStored = true;
  switch q8K {
    case 0u: { maxExpAvgSqPending0 = x; }

    case 1u: { maxExpAvgSqPending1 = x; }


    default: {}
  }
}

// The value stored for the lane's vec4 k.
fn maxExpAvgSqKept(k: u32) -> vec4<f32> {
  switch k {
    case 0u: { return maxExpAvgSqPending0; }

    case 1u: { return maxExpAvgSqPending1; }


    default: { return vec4<f32>(0.0); }
  }
}

// The tile's first phase (q8Settle): the bits of the lane's max |x| into its run's atomic. A slot
// the pass only loads (LAMB's moments in its update pass) is left as it is.
fn maxExpAvgSqRunMax() {
  if (maxExpAvgSqStored) {
    var bits = q8AbsBits(maxExpAvgSqPending0, 0u);

    bits = max(bits, q8AbsBits(maxExpAvgSqPending1, 1u));


    atomicMax(&q8RunMax[q8RunSlot(2u)], bits);
  }
}

// The second phase, after the barrier: the lane's codes, and the run's absmax from its first lane.
fn maxExpAvgSqStoreCodes(first: u32, storesAbsmax: bool) {
  if (maxExpAvgSqStored) {

    let absmax = q8Absmax(atomicLoad(&q8RunMax[q8RunSlot(2u)]));
    maxExpAvgSqAbsmax = absmax;
    for (var k = 0u; k < LANE_VECTORS; k++) {
      maxExpAvgSq[q8CodeWord(first + CHUNK_LANES * k)] = q8Encode(256u, 0u, maxExpAvgSqKept(k), absmax);
    }

    if (storesAbsmax) {
      maxExpAvgSq[q8AbsmaxBase() + q8Entry.z] = bitcast<u32>(absmax);
    }
  }
}

const LANE_VECTORS = 2u;
const Q8_SLOTS = 3u;
fn q8RunMaxes() {
  expAvgRunMax();
  expAvgSqRunMax();
  maxExpAvgSqRunMax();
}
fn q8StoreCodes(first: u32, storesAbsmax: bool) {
  expAvgStoreCodes(first, storesAbsmax);
  expAvgSqStoreCodes(first, storesAbsmax);
  maxExpAvgSqStoreCodes(first, storesAbsmax);
}
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
