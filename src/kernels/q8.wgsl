// 8-bit block-wise state (stateFormat 'q8'; src/q8.ts is the CPU twin of every operation here).
// One workgroup per block of BLOCK_VECTORS vec4s: `mainBlockwise` runs update() on its vec4, whose
// stores of quantized slots go to private values; then, per slot, the workgroup takes the
// NaN-propagating max |x| of each run (the part of the block one tensor holds: tensors never share
// a scale), stores it (the absmax), and every lane stores its four codes in one u32. Slots of
// tensors under minQuantizedElements are f32 "side" values.
// A slot's buffer holds, per segment: codes (one u32 per vec4), then one absmax per run (f32
// bits), then the side values. The per-slot functions are generated (src/kernels/sources.ts).

override BLOCK_VECTORS: u32 = 64u;
const CHUNK_VECTORS = 16u;

var<workgroup> blockMax: array<f32, BLOCK_VECTORS>;
var<workgroup> runMax: array<f32, BLOCK_VECTORS / CHUNK_VECTORS>;

// The runs' absmax follow the codes, the side values follow them (q8Chunks[].w: the segment's runs).
fn q8AbsmaxBase() -> u32 {
  return arrayLength(&param);
}

fn q8SideBase() -> u32 {
  return arrayLength(&param) + q8Chunks[0].w;
}

// Per chunk: y = 0x80000000 | elements of its tensor in it (quantized), else its side vec4 index.
fn q8Chunk(i: u32) -> u32 {
  return q8Chunks[i / CHUNK_VECTORS].y;
}

// Per chunk: its run in the segment (its absmax entry), 0xffffffff for side and padding chunks.
fn q8Run(i: u32) -> u32 {
  return q8Chunks[i / CHUNK_VECTORS].z;
}

fn q8IsQuantized(chunk: u32) -> bool {
  return (chunk & 0x80000000u) != 0u;
}

fn q8SideWord(i: u32, chunk: u32) -> u32 {
  return q8SideBase() + 4u * (chunk + i % 16u);
}

fn isNanBits(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn isInfBits(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u;
}

// mapBase: 0 (signed map) or 64 (unsigned), in vec4 of the uniform. (Copying the maps to workgroup
// memory first was slower on an H100: 2 KiB per 256-element block.)
fn q8MapValue(mapBase: u32, code: u32) -> f32 {
  return q8Maps[mapBase + code / 4u][code % 4u];
}

// The code of one value: the nearest map value to x / absmax (ties: the lower), 0's code when the
// absmax is 0 or NaN, the ends of the map for ±Inf.
fn q8Encode1(mapBase: u32, zero: u32, x: f32, absmax: f32) -> u32 {
  if (!(absmax > 0.0)) {
    return zero;
  }
  let n = select(x / absmax, sign(x), isInfBits(x));
  var lo = 0u;
  var hi = 255u;
  for (var step = 0u; step < 8u; step++) {
    if (lo < hi) {
      let mid = (lo + hi + 1u) / 2u;
      if (q8MapValue(mapBase, mid) <= n) {
        lo = mid;
      } else {
        hi = mid - 1u;
      }
    }
  }
  if (lo < 255u && q8MapValue(mapBase, lo + 1u) - n < n - q8MapValue(mapBase, lo)) {
    return lo + 1u;
  }
  return lo;
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

fn maxAbsNan(a: f32, b: f32) -> f32 {
  return select(max(a, abs(b)), a + b, isNanBits(a) || isNanBits(b));
}

// The NaN-propagating max |x| of this lane's run, from `own` (this lane's part): a tree within each
// chunk of 16 lanes, then each chunk's leader takes the max over the block's chunks of its run.
fn q8RunMax(own: f32, lid: u32, block: u32) -> f32 {
  blockMax[lid] = own;
  workgroupBarrier();
  for (var stride = CHUNK_VECTORS / 2u; stride > 0u; stride = stride / 2u) {
    if (lid % CHUNK_VECTORS < stride) {
      blockMax[lid] = maxAbsNan(blockMax[lid], blockMax[lid + stride]);
    }
    workgroupBarrier();
  }
  let chunksInBlock = BLOCK_VECTORS / CHUNK_VECTORS;
  if (lid % CHUNK_VECTORS == 0u) {
    let first = block * BLOCK_VECTORS;
    let last = arrayLength(&param) - 1u;
    let run = q8Run(min(first + lid, last));
    var m = 0.0;
    for (var c = 0u; c < chunksInBlock; c++) {
      let i = min(first + c * CHUNK_VECTORS, last);
      if (q8Run(i) == run && q8IsQuantized(q8Chunk(i))) {
        m = maxAbsNan(m, blockMax[c * CHUNK_VECTORS]);
      }
    }
    runMax[lid / CHUNK_VECTORS] = m;
  }
  workgroupBarrier();
  let result = runMax[lid / CHUNK_VECTORS];
  workgroupBarrier(); // the next slot reuses blockMax and runMax
  return result;
}

// This lane's max |x| over the quantized elements of its vec4 (padding past the tensor's end excluded).
fn q8LaneMax(i: u32, x: vec4<f32>, live: bool) -> f32 {
  if (!live) {
    return 0.0;
  }
  let chunk = q8Chunk(i);
  if (!q8IsQuantized(chunk)) {
    return 0.0;
  }
  let valid = chunk & 0x7fu;
  var m = 0.0;
  for (var k = 0u; k < 4u; k++) {
    if ((i % 16u) * 4u + k < valid) {
      m = maxAbsNan(m, x[k]);
    }
  }
  return m;
}

@compute @workgroup_size(BLOCK_VECTORS)
fn mainBlockwise(@builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  // A skipped step touches nothing (uniform: every invocation reads the same).
  if (stepSkipped()) {
    return;
  }
  let block = wid.y * nwg.x + wid.x;
  let i = block * BLOCK_VECTORS + lid;
  let live = i < arrayLength(&param);
  if (live) {
    let group = groupAt(i);
    update(i, hyperOf(group), controlledGradient(grad[i], group));
  }
  q8Finish(i, lid, block, live);
}
