// Gradient statistics for clipping, loss scaling and non-finite skips, without float atomics:
//   chunkStats  (one dispatch per segment): per 64-element chunk, Σg² and max|g| of the unscaled,
//               value-clipped gradient, and whether an unscaled element was NaN or ±Inf;
//   groupStats  : per workgroup of 4096 chunks, each group's Σ, max and non-finite flag (trees);
//   finalize    : one workgroup: per-group and total norms, clip coefficients, the skip flag, the
//               loss-scaler update, and the device step counter with its step-table entry;
//   smallStats  : all three in one workgroup, for a set of one segment and at most 1024 chunks
//               (one dispatch instead of three: small models pay per dispatch, not per byte).
// Sums and maxima propagate NaN as torch does (a NaN gradient gives a NaN norm). Prepended with
// the generated Control structs and control.wgsl. GROUPS and the three workgroup sizes are
// overrides: the host sizes each pass to the data (powers of two, at most 256), so a small model
// does not pay for 256-wide tree reductions. The bindings are generated from their list in
// src/control/grad-stats-pipelines.ts (which also says which of them each pass binds).

override CHUNK_WORKGROUP: u32 = 256u; // a multiple of 16: 16 invocations (64 elements) per chunk
override GROUP_WORKGROUP: u32 = 256u;
override FINAL_WORKGROUP: u32 = 256u;
override SMALL_WORKGROUP: u32 = 256u;
override GROUPS: u32 = 1u;

// ---- chunkStats: binds control, grad (one segment), chunkPartials (that segment's chunks)
#if PER_TENSOR
// The per-tensor step's statistics (PyTorch's rule for a parameter whose grad is None): a tensor
// without gradient this step adds nothing, as torch's clip_grad_norm_ and GradScaler leave out a
// grad that is None (its region of the gradients holds stale values, NaN included). Binds also
// chunkRow (each 64-element chunk's tensor) and presence (the step's ring slot of the update's
// `struct Hyper` rows, one per tensor, ROW_WORDS f32 each, gradientAbsent at ABSENT_WORD).
override ROW_WORDS: u32 = 1u;
override ABSENT_WORD: u32 = 0u;

fn chunkPresent(chunk: u32) -> bool {
  return presence[chunkRow[chunk] * ROW_WORDS + ABSENT_WORD] == 0.0;
}

// ---- tensorMisses (the per-tensor step, with non-finite skipping): binds control, presence,
// tensorMissed. After finalize: a step the device took is one a tensor without gradient missed,
// so each tensor's own count is the device step less its misses (state dicts read them, loads
// write them). A step it skipped counts for no tensor, as torch's GradScaler skips step().
override MISSES_WORKGROUP: u32 = 64u;

@compute @workgroup_size(MISSES_WORKGROUP)
fn tensorMisses(@builtin(local_invocation_index) lid: u32) {
  if (control.skip != 0u) {
    return;
  }
  for (var t = lid; t < arrayLength(&tensorMissed); t = t + MISSES_WORKGROUP) {
    if (presence[t * ROW_WORDS + ABSENT_WORD] != 0.0) {
      tensorMissed[t] = tensorMissed[t] + 1u;
    }
  }
}

#endif
var<workgroup> sums: array<f32, 256>;
var<workgroup> maxima: array<f32, 256>;
var<workgroup> nonFinite: array<f32, 256>;

fn combine(a: u32, b: u32) {
  sums[a] = sums[a] + sums[b];
  maxima[a] = maxNan(maxima[a], maxima[b]);
  nonFinite[a] = max(nonFinite[a], nonFinite[b]);
}

// (Σu², max|u|, non-finite flag, 0) of one vec4 of gradients: u unscaled and clipped by value.
fn elementStats(g4: vec4<f32>, preMultiplier: f32) -> vec4<f32> {
  let unscaled = g4 * preMultiplier;
  let g = clampNan(unscaled, control.clipValue);
  let a = abs(g);
  return vec4<f32>(dot(g, g), maxNan(maxNan(a.x, a.y), maxNan(a.z, a.w)), select(0.0, 1.0, any(isNonFinite4(unscaled))), 0.0);
}

@compute @workgroup_size(CHUNK_WORKGROUP)
fn chunkStats(@builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * CHUNK_WORKGROUP + lid;
  var stats = vec4<f32>(0.0);
#if PER_TENSOR
  if (i < arrayLength(&grad) && chunkPresent(i / 16u)) {
#else  if (i < arrayLength(&grad)) {
#endif    stats = elementStats(grad[i], preMultiplierOf(control.lossScale, control.flags, control.averageFactor));
  }
  sums[lid] = stats.x;
  maxima[lid] = stats.y;
  nonFinite[lid] = stats.z;
  workgroupBarrier();
  // 16 invocations (64 elements) per chunk.
  for (var stride = 8u; stride > 0u; stride = stride / 2u) {
    if ((lid & 15u) < stride) {
      combine(lid, lid + stride);
    }
    workgroupBarrier();
  }
  let chunk = i / 16u;
  if ((lid & 15u) == 0u && chunk < arrayLength(&chunkPartials)) {
    chunkPartials[chunk] = vec4<f32>(sums[lid], maxima[lid], nonFinite[lid], 0.0);
  }
}

// ---- groupStats: binds allChunkPartials [, allChunkGroups], groupPartials

const CHUNKS_PER_INVOCATION = 16u;

// Tree reduction over a workgroup of `size` invocations (called from uniform control flow):
// afterwards index 0 of sums, maxima and nonFinite holds the workgroup's result.
fn reduceWorkgroup(lid: u32, p: vec4<f32>, size: u32) {
  sums[lid] = p.x;
  maxima[lid] = p.y;
  nonFinite[lid] = p.z;
  workgroupBarrier();
  for (var stride = size / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      combine(lid, lid + stride);
    }
    workgroupBarrier();
  }
}

fn accumulate(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(a.x + b.x, maxNan(a.y, b.y), max(a.z, b.z), 0.0);
}

@compute @workgroup_size(GROUP_WORKGROUP)
fn groupStats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let chunks = arrayLength(&allChunkPartials);
  let first = (wid.x * GROUP_WORKGROUP + lid) * CHUNKS_PER_INVOCATION;
  for (var g = 0u; g < GROUPS; g = g + 1u) {
    var s = vec4<f32>(0.0);
    for (var k = 0u; k < CHUNKS_PER_INVOCATION; k = k + 1u) {
      let c = first + k;
      if (c < chunks) {
#if MULTI_GROUP
        let inGroup = allChunkGroups[c] == g;
#else
        let inGroup = true;
#endif
        if (inGroup) {
          s = accumulate(s, allChunkPartials[c]);
        }
      }
    }
    reduceWorkgroup(lid, s, GROUP_WORKGROUP);
    if (lid == 0u) {
      groupPartials[wid.x * GROUPS + g] = vec4<f32>(sums[0], maxima[0], nonFinite[0], 0.0);
    }
    workgroupBarrier();
  }
}

// ---- finalize: binds control, groupPartials (read here), stepTable
// stepTable row r: vec4<u32>(tag lo, tag hi, 0, 0), then one vec4<f32> (as bits) of step values
// per group. The host keeps the rows of every step the GPU can reach (src/control/step-table.ts);
// the tag says which step a row holds, so a missing row is detected, never used.

var<workgroup> groupTotals: array<vec4<f32>, GROUPS>;

// A 64-bit counter in two u32 words, plus one.
fn increment(lo: u32, hi: u32) -> vec2<u32> {
  return select(vec2<u32>(lo + 1u, hi), vec2<u32>(0u, hi + 1u), lo == 0xffffffffu);
}

@compute @workgroup_size(FINAL_WORKGROUP)
fn finalize(@builtin(local_invocation_index) lid: u32) {
  let partialsPerGroup = arrayLength(&groupPartials) / GROUPS;
  for (var g = 0u; g < GROUPS; g = g + 1u) {
    var s = vec4<f32>(0.0);
    for (var w = lid; w < partialsPerGroup; w = w + FINAL_WORKGROUP) {
      s = accumulate(s, groupPartials[w * GROUPS + g]);
    }
    reduceWorkgroup(lid, s, FINAL_WORKGROUP);
    if (lid == 0u) {
      groupTotals[g] = vec4<f32>(sums[0], maxima[0], nonFinite[0], 0.0);
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    finishControl();
  }
}

// ---- smallStats: binds control, grad (the whole set) [, allChunkGroups], stepTable
@compute @workgroup_size(SMALL_WORKGROUP)
fn smallStats(@builtin(local_invocation_index) lid: u32) {
  let n = arrayLength(&grad);
  let preMultiplier = preMultiplierOf(control.lossScale, control.flags, control.averageFactor);
  for (var g = 0u; g < GROUPS; g = g + 1u) {
    var s = vec4<f32>(0.0);
    for (var i = lid; i < n; i = i + SMALL_WORKGROUP) {
#if MULTI_GROUP
      let inGroup = allChunkGroups[i / 16u] == g;
#else
      let inGroup = true;
#endif
#if PER_TENSOR
      if (inGroup && chunkPresent(i / 16u)) {
#else      if (inGroup) {
#endif        s = accumulate(s, elementStats(grad[i], preMultiplier));
      }
    }
    reduceWorkgroup(lid, s, SMALL_WORKGROUP);
    if (lid == 0u) {
      groupTotals[g] = vec4<f32>(sums[0], maxima[0], nonFinite[0], 0.0);
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    finishControl();
  }
}

// The per-group totals (groupTotals) turned into norms, clip coefficients, the skip decision,
// the scaler update and the device step. One invocation.
fn finishControl() {
  let flags = control.flags;
  let normInf = (flags & FLAG_INF_NORM) != 0u;
  var total = vec4<f32>(0.0);
  for (var g = 0u; g < GROUPS; g = g + 1u) {
    total = accumulate(total, groupTotals[g]);
  }
  let foundInf = total.z != 0.0;
  // clip_grad_norm_: norm over all tensors (or per group), coefficient clamp(max / (norm + 1e-6),
  // max = 1): NaN for a NaN norm, as torch gives.
  let totalNorm = select(sqrt(total.x), total.y, normInf);
  let clipByNorm = (flags & FLAG_CLIP_BY_NORM) != 0u;
  for (var g = 0u; g < GROUPS; g = g + 1u) {
    let norm = select(sqrt(groupTotals[g].x), groupTotals[g].y, normInf);
    control.groups[g].norm = norm;
    let basis = select(totalNorm, norm, (flags & FLAG_PER_GROUP_NORM) != 0u);
    let coefficient = minNan(control.maxNorm / (basis + 1e-6), 1.0);
    control.groups[g].multiplier = select(1.0, coefficient, clipByNorm);
  }
  control.totalNorm = totalNorm;
  control.foundInf = select(0u, 1u, foundInf);
  control.preMultiplier = preMultiplierOf(control.lossScale, flags, control.averageFactor);
  let calls = increment(control.callsLo, control.callsHi);
  control.callsLo = calls.x;
  control.callsHi = calls.y;
  var skip = foundInf && (flags & FLAG_SKIP_NON_FINITE) != 0u;
  // GradScaler.update: back off on non-finite gradients, grow after growthInterval clean steps.
  if ((flags & (FLAG_LOSS_SCALING | FLAG_DYNAMIC_SCALE)) == (FLAG_LOSS_SCALING | FLAG_DYNAMIC_SCALE)) {
    if (foundInf) {
      // Never below the smallest normal f32: a scale of 0 would skip every later step for good.
      control.lossScale = max(control.lossScale * control.backoffFactor, 1.17549435e-38);
      control.growthTracker = 0u;
    } else {
      let clean = control.growthTracker + 1u;
      if (clean >= control.growthInterval) {
        let grown = control.lossScale * control.growthFactor;
        if (!isNonFinite4(vec4<f32>(grown)).x) {
          control.lossScale = grown;
        }
        control.growthTracker = 0u;
      } else {
        control.growthTracker = clean;
      }
    }
  }
  if (!skip) {
    let next = increment(control.stepLo, control.stepHi);
    let stride = 1u + GROUPS;
    let rows = arrayLength(&stepTable) / stride;
    let row = (next.x % rows) * stride;
    let tag = stepTable[row];
    if (tag.x == next.x && tag.y == next.y) {
      control.stepLo = next.x;
      control.stepHi = next.y;
      for (var g = 0u; g < GROUPS; g = g + 1u) {
        control.groups[g].stepValues = bitcast<vec4<f32>>(stepTable[row + 1u + g]);
      }
    } else {
      control.tableMiss = 1u;
      skip = true;
    }
  }
  control.skip = select(0u, 1u, skip);
}
