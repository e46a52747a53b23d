// Gradient statistics for clipping, loss scaling and non-finite skips, without float atomics:
//   chunkStats  (one dispatch per segment): per 64-element chunk, Σg² and max|g| of the unscaled,
//               value-clipped gradient (max|g| = +Inf flags a NaN/Inf element);
//   groupStats  : per workgroup of 4096 chunks, each group's Σ and max (tree reductions);
//   finalize    : one workgroup: per-group and total norms, clip coefficients, the skip flag, the
//               loss-scaler update and the device step counter with its step-dependent scalars.
// Prepended with shaders/control.wgsl. GROUPS and WORKGROUP_SIZE are override constants.

override WORKGROUP_SIZE: u32 = 256u;
override GROUPS: u32 = 1u;

@group(0) @binding(0) var<storage, read_write> control: Control;

// ---- chunkStats: bindings 1 grad (segment), 2 chunk partials (segment)
@group(0) @binding(1) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> chunkPartials: array<vec2<f32>>;

// +Inf as a runtime value (a constant Inf is a WGSL compile error); flags & 0 keeps it non-constant.
fn positiveInfinity() -> f32 {
  return bitcast<f32>(0x7f800000u | (control.flags & 0u));
}

var<workgroup> sums: array<f32, 256>;
var<workgroup> maxima: array<f32, 256>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn chunkStats(@builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
  var sumSq = 0.0;
  var maxAbs = 0.0;
  if (i < arrayLength(&grad)) {
    let unscaled = grad[i] * preMultiplierOf(control.lossScale, control.flags, control.averageFactor);
    let g = clampNan(unscaled, control.clipValue);
    sumSq = dot(g, g);
    let a = abs(g);
    maxAbs = max(max(a.x, a.y), max(a.z, a.w));
    if (any(isNonFinite4(unscaled))) {
      maxAbs = positiveInfinity();
    }
  }
  sums[lid] = sumSq;
  maxima[lid] = maxAbs;
  workgroupBarrier();
  // 16 invocations (64 elements) per chunk.
  for (var stride = 8u; stride > 0u; stride = stride / 2u) {
    if ((lid & 15u) < stride) {
      sums[lid] = sums[lid] + sums[lid + stride];
      maxima[lid] = max(maxima[lid], maxima[lid + stride]);
    }
    workgroupBarrier();
  }
  let chunk = i / 16u;
  if ((lid & 15u) == 0u && chunk < arrayLength(&chunkPartials)) {
    chunkPartials[chunk] = vec2<f32>(sums[lid], maxima[lid]);
  }
}

// ---- groupStats: bindings 4 all chunk partials [, 5 all chunk groups], 6 group partials
@group(0) @binding(4) var<storage, read> allChunkPartials: array<vec2<f32>>;
#if MULTI_GROUP
@group(0) @binding(5) var<storage, read> allChunkGroups: array<u32>;
#endif
@group(0) @binding(6) var<storage, read_write> groupPartials: array<vec2<f32>>;

const CHUNKS_PER_INVOCATION = 16u;

// Tree reduction over the whole workgroup (called from uniform control flow): afterwards sums[0]
// and maxima[0] hold the workgroup's Σ and max.
fn reduceWorkgroup(lid: u32, s: f32, m: f32) {
  sums[lid] = s;
  maxima[lid] = m;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      sums[lid] = sums[lid] + sums[lid + stride];
      maxima[lid] = max(maxima[lid], maxima[lid + stride]);
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn groupStats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let chunks = arrayLength(&allChunkPartials);
  let first = (wid.x * WORKGROUP_SIZE + lid) * CHUNKS_PER_INVOCATION;
  for (var g = 0u; g < GROUPS; g = g + 1u) {
    var s = 0.0;
    var m = 0.0;
    for (var k = 0u; k < CHUNKS_PER_INVOCATION; k = k + 1u) {
      let c = first + k;
      if (c < chunks) {
#if MULTI_GROUP
        let inGroup = allChunkGroups[c] == g;
#else
        let inGroup = true;
#endif
        if (inGroup) {
          let p = allChunkPartials[c];
          s = s + p.x;
          m = max(m, p.y);
        }
      }
    }
    reduceWorkgroup(lid, s, m);
    if (lid == 0u) {
      groupPartials[wid.x * GROUPS + g] = vec2<f32>(sums[0], maxima[0]);
    }
    workgroupBarrier();
  }
}

// ---- finalize: bindings 6 group partials (read here too), 7 step table
@group(0) @binding(7) var<storage, read> stepTable: array<vec2<f32>>;

var<workgroup> groupSums: array<f32, GROUPS>;
var<workgroup> groupMaxima: array<f32, GROUPS>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn finalize(@builtin(local_invocation_index) lid: u32) {
  let partialsPerGroup = arrayLength(&groupPartials) / GROUPS;
  for (var g = 0u; g < GROUPS; g = g + 1u) {
    var s = 0.0;
    var m = 0.0;
    for (var w = lid; w < partialsPerGroup; w = w + WORKGROUP_SIZE) {
      let p = groupPartials[w * GROUPS + g];
      s = s + p.x;
      m = max(m, p.y);
    }
    reduceWorkgroup(lid, s, m);
    if (lid == 0u) {
      groupSums[g] = sums[0];
      groupMaxima[g] = maxima[0];
    }
    workgroupBarrier();
  }
  if (lid != 0u) {
    return;
  }
  let infinity = positiveInfinity();
  let flags = control.flags;
  let normInf = (flags & 8u) != 0u;
  var totalSum = 0.0;
  var totalMax = 0.0;
  var foundInf = false;
  for (var g = 0u; g < GROUPS; g = g + 1u) {
    totalSum = totalSum + groupSums[g];
    totalMax = max(totalMax, groupMaxima[g]);
    foundInf = foundInf || groupMaxima[g] == infinity;
  }
  // clip_grad_norm_: norm over all tensors (or per group), coefficient min(1, max / (norm + 1e-6)).
  let totalNorm = select(sqrt(totalSum), totalMax, normInf);
  let clipByNorm = (flags & 32u) != 0u;
  for (var g = 0u; g < GROUPS; g = g + 1u) {
    let norm = select(sqrt(groupSums[g]), groupMaxima[g], normInf);
    control.groups[g].norm = norm;
    let basis = select(totalNorm, norm, (flags & 4u) != 0u);
    let coefficient = min(control.maxNorm / (basis + 1e-6), 1.0);
    control.groups[g].multiplier = select(1.0, coefficient, clipByNorm);
  }
  control.totalNorm = totalNorm;
  control.foundInf = select(0u, 1u, foundInf);
  control.preMultiplier = preMultiplierOf(control.lossScale, flags, control.averageFactor);
  let skip = foundInf && (flags & 2u) != 0u;
  control.skip = select(0u, 1u, skip);
  // GradScaler.update: back off on non-finite gradients, grow after growthInterval clean steps.
  if ((flags & 17u) == 17u) {
    if (foundInf) {
      control.lossScale = control.lossScale * control.backoffFactor;
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
    let step = control.step + 1u;
    control.step = step;
    for (var g = 0u; g < GROUPS; g = g + 1u) {
      let entry = stepTable[step * GROUPS + g];
      control.groups[g].stepA = entry.x;
      control.groups[g].stepB = entry.y;
    }
  }
}
