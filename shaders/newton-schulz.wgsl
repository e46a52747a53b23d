// The Newton–Schulz pass (src/passes/newton-schulz.ts), in the update module of an optimizer that
// declares it (Muon): every matrix of the set orthogonalized together, each step three tiled
// matrix products over all matrices at once (one dispatch each, over a table of tiles) and one
// dispatch that counts the step. The tables and the scratch layout are built by the pass:
//
// muonTable (vec4<u32>):
//   [0] (matrices, tiles of the m × m products, tiles of the m × n product, first chunk entry)
//   [1] (first m × m tile entry, first m × n tile entry, X floats of the whole set, 0)
//   [2 + 3t …] matrix t: (first element in the packed set, rows, cols, X offset),
//              (A offset, B' offset, group, 0), (f32 bits of s 'original', of s 'match_rms_adamw', 0, 0)
//   tiles: (matrix, tile row << 16 | tile column, n, m); chunks: a matrix index per 64-element
//   chunk of the set, four per entry (NS_NONE: no matrix there).
// muonScratch (f32): [0] the steps taken this update; then X (two regions of `X floats`, the
//   current one by the parity of the steps taken), A, B'.
// muonSegment: (first element of the segment, 0, 0, 0).
//
// Sums over k run in increasing k, one product rounded at a time, so that the CPU twin
// (src/optimizers/muon/newton-schulz-twin.ts) follows them operation by operation.

const NS_TILE: u32 = 16u;
const NS_NONE: u32 = 0xffffffffu;

struct NsMatrix {
  offset: u32,
  rows: u32,
  cols: u32,
  x: u32,
  a: u32,
  b: u32,
  group: u32,
  m: u32,
  n: u32,
  scaleOriginal: f32,
  scaleMatch: f32,
}

fn nsMatrix(t: u32) -> NsMatrix {
  let base = 2u + 3u * t;
  let p = muonTable[base];
  let q = muonTable[base + 1u];
  let r = muonTable[base + 2u];
  return NsMatrix(p.x, p.y, p.z, p.w, q.x, q.y, q.z, min(p.y, p.z), max(p.y, p.z), bitcast<f32>(r.x), bitcast<f32>(r.y));
}

// The matrix holding element e of the packed set (NS_NONE: padding chunks).
fn nsMatrixOfElement(e: u32) -> u32 {
  let chunk = e / 64u;
  return muonTable[muonTable[0].w + chunk / 4u][chunk % 4u];
}

// Where element `local` (row-major in the tensor) of matrix `mat` sits in X (m × n, row-major).
fn nsXIndex(mat: NsMatrix, local: u32) -> u32 {
  if (mat.rows > mat.cols) {
    return (local % mat.cols) * mat.rows + local / mat.cols;
  }
  return local;
}

// X's region holding the current iterate: by the parity of the steps taken.
fn nsCurrentX() -> u32 {
  return select(0u, muonTable[1].z, (u32(muonScratch[0]) & 1u) == 1u);
}

// (O, s) of element `e` of the packed set after the iteration: O its orthogonalized value, s its
// matrix's lr adjustment; (0, 0) where no matrix is (padding).
fn nsOutput(e: u32, matchRmsAdamw: bool) -> vec2<f32> {
  let t = nsMatrixOfElement(e);
  if (t == NS_NONE) {
    return vec2<f32>(0.0, 0.0);
  }
  let mat = nsMatrix(t);
  let local = e - mat.offset;
  if (local >= mat.rows * mat.cols) {
    return vec2<f32>(0.0, 0.0);
  }
  let o = muonScratch[1u + mat.x + nsCurrentX() + nsXIndex(mat, local)];
  return vec2<f32>(o, select(mat.scaleOriginal, mat.scaleMatch, matchRmsAdamw));
}

var<workgroup> nsHeader: vec4<u32>;
var<workgroup> nsNorm: f32;

// One workgroup per matrix: ‖X‖² summed by one invocation in element order (the twin's order),
// then X ← X / max(‖X‖, eps) by all. Matrix 0's workgroup also zeroes the steps taken.
@compute @workgroup_size(64)
fn muonNorm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) {
    nsHeader = muonTable[0];
  }
  let header = workgroupUniformLoad(&nsHeader);
  let t = wid.y * nwg.x + wid.x;
  if (t >= header.x) {
    return;
  }
  let mat = nsMatrix(t);
  let size = mat.m * mat.n;
  let x = 1u + mat.x;
  if (lid == 0u) {
    var acc = 0.0;
    for (var e = 0u; e < size; e++) {
      let v = muonScratch[x + e];
      acc = acc + v * v;
    }
    nsNorm = maximumNan(vec4<f32>(sqrt(acc)), vec4<f32>(hyperOf(mat.group).eps)).x;
    if (t == 0u) {
      muonScratch[0] = 0.0;
    }
  }
  let norm = workgroupUniformLoad(&nsNorm);
  for (var e = lid; e < size; e += 64u) {
    muonScratch[x + e] = muonScratch[x + e] / norm;
  }
}

var<workgroup> nsTileL: array<array<f32, 16>, 16>;
var<workgroup> nsTileR: array<array<f32, 16>, 16>;
var<workgroup> nsTileEntry: vec4<u32>;

// The tile of this workgroup in list `which` (0: m × m, 1: m × n): (matrix, packed tile, n, m),
// the matrix NS_NONE past the list.
fn nsTileOf(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, which: u32) -> vec4<u32> {
  if (lid == 0u) {
    let flat = wid.y * nwg.x + wid.x;
    let count = select(muonTable[0].y, muonTable[0].z, which == 1u);
    let base = select(muonTable[1].x, muonTable[1].y, which == 1u);
    nsTileEntry = select(vec4<u32>(NS_NONE, 0u, 0u, 0u), muonTable[base + min(flat, count - 1u)], flat < count);
  }
  return workgroupUniformLoad(&nsTileEntry);
}

// Σ_k L(i, k)·R(k, j) over k < K in increasing k, through 16 × 16 tiles in workgroup memory:
// L(i, k) = S[l + i·ldl + k], R(k, j) = S[r + k·rk + j·rj]; (i, j) is this invocation's output,
// inside when i < rows and j < cols. K must be uniform (the barriers).
fn nsProduct(l: u32, ldl: u32, r: u32, rk: u32, rj: u32, rows: u32, cols: u32, K: u32, i: u32, j: u32, ly: u32, lx: u32) -> f32 {
  var acc = 0.0;
  for (var k0 = 0u; k0 < K; k0 += NS_TILE) {
    var left = 0.0;
    if (i < rows && k0 + lx < K) {
      left = muonScratch[l + i * ldl + k0 + lx];
    }
    var right = 0.0;
    if (j < cols && k0 + ly < K) {
      right = muonScratch[r + (k0 + ly) * rk + j * rj];
    }
    nsTileL[ly][lx] = left;
    nsTileR[ly][lx] = right;
    workgroupBarrier();
    let kk = min(NS_TILE, K - k0);
    for (var q = 0u; q < kk; q++) {
      acc = acc + nsTileL[ly][q] * nsTileR[q][lx];
    }
    workgroupBarrier();
  }
  return acc;
}

// A = X·Xᵀ (m × m).
@compute @workgroup_size(16, 16)
fn muonGram(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = nsTileOf(wid, nwg, lid.y * 16u + lid.x, 0u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let i = (tile.y >> 16u) * NS_TILE + lid.y;
  let j = (tile.y & 0xffffu) * NS_TILE + lid.x;
  let x = 1u + mat.x + nsCurrentX();
  let sum = nsProduct(x, mat.n, x, 1u, mat.n, mat.m, mat.m, tile.z, i, j, lid.y, lid.x);
  if (i < mat.m && j < mat.m) {
    muonScratch[mat.a + i * mat.m + j] = sum;
  }
}

// B' = b·A + c·(A·A) (m × m).
@compute @workgroup_size(16, 16)
fn muonPoly(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = nsTileOf(wid, nwg, lid.y * 16u + lid.x, 0u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let i = (tile.y >> 16u) * NS_TILE + lid.y;
  let j = (tile.y & 0xffffu) * NS_TILE + lid.x;
  let sum = nsProduct(mat.a, mat.m, mat.a, mat.m, 1u, mat.m, mat.m, tile.w, i, j, lid.y, lid.x);
  if (i < mat.m && j < mat.m) {
    let abc = nsCoefficients(hyperOf(mat.group), u32(muonScratch[0]));
    muonScratch[mat.b + i * mat.m + j] = abc.y * muonScratch[mat.a + i * mat.m + j] + abc.z * sum;
  }
}

// X' = a·X + B'·X (m × n), into the other X region.
@compute @workgroup_size(16, 16)
fn muonCombine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = nsTileOf(wid, nwg, lid.y * 16u + lid.x, 1u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let i = (tile.y >> 16u) * NS_TILE + lid.y;
  let j = (tile.y & 0xffffu) * NS_TILE + lid.x;
  let current = nsCurrentX();
  let x = 1u + mat.x + current;
  let sum = nsProduct(mat.b, mat.m, x, mat.n, 1u, mat.m, mat.n, tile.w, i, j, lid.y, lid.x);
  if (i < mat.m && j < mat.n) {
    let abc = nsCoefficients(hyperOf(mat.group), u32(muonScratch[0]));
    let next = 1u + mat.x + (muonTable[1].z - current);
    muonScratch[next + i * mat.n + j] = abc.x * muonScratch[x + i * mat.n + j] + sum;
  }
}

// One step taken: the next products read the other X region and the next coefficients.
@compute @workgroup_size(1)
fn muonAdvance() {
  muonScratch[0] = muonScratch[0] + 1.0;
}
