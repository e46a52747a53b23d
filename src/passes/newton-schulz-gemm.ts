/**
 * The tiled GEMM entry points of the Newton–Schulz pass for one tile size (shaders/newton-schulz.wgsl
 * has the rest): `muonGram{T}`, `muonPoly{T}`, `muonCombine{T}`. A workgroup of W × W invocations
 * computes a T × T tile of outputs (T = 4·W), each invocation 4 × 4 of them (rows ty + W·a, columns
 * tx + W·b) in registers, over k-slabs of 16 staged in workgroup memory. Each output's sum runs
 * over k in increasing order, one product rounded at a time, as the twin's
 * (src/optimizers/muon/newton-schulz-twin.ts). A and B' are symmetric bit for bit (the products
 * commute, the sums run in the same order), so their products run over the upper-triangle tiles
 * only and write each off-diagonal tile twice. Slabs are staged by vec4 loads where a matrix's m
 * and n are multiples of 4; a subgroup variant (asked for, where the device has `subgroups`) takes
 * the slab's rows by subgroupBroadcast instead of workgroup-memory reads.
 */
import type { NsTiling } from './newton-schulz-plan.js';

/** The k-depth of a slab in workgroup memory. */
const SLAB = 16;

/**
 * `nsStageScalar{T}` and `nsStageVec{T}`: one k-slab of L and R into workgroup memory, k-major
 * (nsL[k·T + i], nsR[k·T + j]), zero past K; the vec4 one reads 16 bytes at a time along the
 * contiguous direction (L: k; R: j where its rows are contiguous, else k), which needs l, r, the
 * strides and K multiples of 4 (the caller's nsAligned). The same values either way.
 */
function stagingWgsl(T: number, W: number): string {
  const params = `l: u32, ldl: u32, r: u32, rk: u32, rj: u32, K: u32, k0: u32, i0: u32, j0: u32, rowsHere: u32, colsHere: u32, lid: u32`;
  const spread = (target: string, index: (c: number) => string, value: string) => [0, 1, 2, 3].map((c) => `      ${target}[${index(c)}] = ${value}[${c}];`).join('\n');
  return `fn nsStageScalar${T}(${params}) {
  for (var e = lid; e < rowsHere * ${SLAB}u; e += ${W * W}u) {
    let k = e % ${SLAB}u;
    let i = e / ${SLAB}u;
    var left = 0.0;
    if (k0 + k < K) {
      left = nsLoad(l + (i0 + i) * ldl + k0 + k);
    }
    nsL${T}[k * ${T}u + i] = left;
  }
  for (var e = lid; e < colsHere * ${SLAB}u; e += ${W * W}u) {
    // Consecutive invocations read consecutive addresses: along j where R's rows are contiguous.
    let k = select(e % ${SLAB}u, e / colsHere, rj == 1u);
    let j = select(e / ${SLAB}u, e % colsHere, rj == 1u);
    var right = 0.0;
    if (k0 + k < K) {
      right = nsLoad(r + (k0 + k) * rk + (j0 + j) * rj);
    }
    nsR${T}[k * ${T}u + j] = right;
  }
}

fn nsStageVec${T}(${params}) {
  for (var e = lid; e < rowsHere * 4u; e += ${W * W}u) {
    let q = e % 4u;
    let i = e / 4u;
    var left = vec4<f32>(0.0);
    if (k0 + 4u * q < K) {
      left = nsLoad4(l + (i0 + i) * ldl + k0 + 4u * q);
    }
${spread(`nsL${T}`, (c) => `(4u * q + ${c}u) * ${T}u + i`, 'left')}
  }
  if (rj == 1u) {
    // R's rows contiguous (B'·X, A·A): quads along j (colsHere is a multiple of 4).
    let quads = colsHere / 4u;
    for (var e = lid; e < quads * ${SLAB}u; e += ${W * W}u) {
      let k = e / quads;
      let q = e % quads;
      var right = vec4<f32>(0.0);
      if (k0 + k < K) {
        right = nsLoad4(r + (k0 + k) * rk + j0 + 4u * q);
      }
${spread(`nsR${T}`, (c) => `k * ${T}u + 4u * q + ${c}u`, 'right')}
    }
  } else {
    // R = Xᵀ (X·Xᵀ): quads along k (rk = 1).
    for (var e = lid; e < colsHere * 4u; e += ${W * W}u) {
      let q = e % 4u;
      let j = e / 4u;
      var right = vec4<f32>(0.0);
      if (k0 + 4u * q < K) {
        right = nsLoad4(r + (k0 + 4u * q) * rk + (j0 + j) * rj);
      }
${spread(`nsR${T}`, (c) => `(4u * q + ${c}u) * ${T}u + j`, 'right')}
    }
  }
}
`;
}

/** `nsProduct{T}`: the 4 × 4 sums of this invocation (sum: row a, column b). */
function productWgsl(T: number, W: number, subgroups: boolean): string {
  const rows = [0, 1, 2, 3].map((a) => `        acc${a} = acc${a} + nsL${T}[q * ${T}u + ty + ${a * W}u] * rv;`).join('\n');
  const rv = `let rv = vec4<f32>(nsR${T}[q * ${T}u + tx], nsR${T}[q * ${T}u + tx + ${W}u], nsR${T}[q * ${T}u + tx + ${2 * W}u], nsR${T}[q * ${T}u + tx + ${3 * W}u]);`;
  // The subgroup variant (where the lanes of each subgroup share a row ty of invocations): lane s
  // reads row ty + W·(s mod 4) of the slab, and every lane takes the four by subgroupBroadcast from
  // lanes 0 … 3, instead of four workgroup-memory reads; the same values, the same sums.
  const broadcast = [0, 1, 2, 3].map((a) => `        let l${a} = subgroupBroadcast(own, ${a}u);`).join('\n');
  const sums = [0, 1, 2, 3].map((a) => `        acc${a} = acc${a} + l${a} * rv;`).join('\n');
  const subgroupLoop = `if (sharedRows) {
      for (var q = 0u; q < kk; q++) {
        ${rv}
        let own = nsL${T}[q * ${T}u + ty + ${W}u * (nsSgLane & 3u)];
${broadcast}
${sums}
      }
    } else if (inside) {`;
  return `var<workgroup> nsL${T}: array<f32, ${T * SLAB}>;
var<workgroup> nsR${T}: array<f32, ${T * SLAB}>;

${stagingWgsl(T, W)}
// Σ_k L(i, k)·R(k, j) over k < K in increasing k for this invocation's 4 × 4 outputs of the tile at
// (i0, j0): L(i, k) = S[l + i·ldl + k], R(k, j) = S[r + k·rk + j·rj] (outputs outside rows × cols:
// garbage, not to be written). K
// must be uniform (the barriers). vec: the slabs are loaded as vec4s (nsAligned). Slabs are staged k-major: nsL${T}[k·T + i], nsR${T}[k·T + j].
${subgroups ? '// sharedRows is a subgroupAll, uniform in each subgroup (the analysis cannot see it): the broadcasts run in subgroup-uniform control flow.\n@diagnostic(off, subgroup_uniformity)\n' : ''}fn nsProduct${T}(l: u32, ldl: u32, r: u32, rk: u32, rj: u32, rows: u32, cols: u32, K: u32, i0: u32, j0: u32, lid: u32, vec: bool) -> array<vec4<f32>, 4> {
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let ty = lid / ${W}u;
  let tx = lid % ${W}u;
  let inside = i0 + ty < rows && j0 + tx < cols;${subgroups ? `\n  let sharedRows = nsSubgroupShares${W}(ty);` : ''}
  let rowsHere = min(${T}u, rows - i0);
  let colsHere = min(${T}u, cols - j0);
  for (var k0 = 0u; k0 < K; k0 += ${SLAB}u) {
    let kk = min(${SLAB}u, K - k0);
    // Staged: the rows and columns of the tile inside the matrix (the others are never read).
    if (vec) {
      nsStageVec${T}(l, ldl, r, rk, rj, K, k0, i0, j0, rowsHere, colsHere, lid);
    } else {
      nsStageScalar${T}(l, ldl, r, rk, rj, K, k0, i0, j0, rowsHere, colsHere, lid);
    }
    workgroupBarrier();
    // An invocation all of whose outputs are outside (a small matrix in a large tile) only stages
    // (in the subgroup variant it computes garbage, never written: every lane must broadcast).
    ${subgroups ? subgroupLoop : 'if (inside) {'}
      for (var q = 0u; q < kk; q++) {
        ${rv}
${rows}
      }
    }
    workgroupBarrier();
  }
  return array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
}
`;
}

/** The three entry points of tile size T. */
function entriesWgsl(T: number, W: number, cls: number, subgroups: boolean): string {
  const head = (which: number) => `${subgroupInit(subgroups)}  let tile = nsTileOf(wid, nwg, lid, ${which}u, ${cls}u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let step = nsStep();
  let r0 = (tile.y >> 16u) * ${T}u;
  let c0 = (tile.y & 0xffffu) * ${T}u;
  let ty = lid / ${W}u;
  let tx = lid % ${W}u;
  let x = nsCurrentX(mat, step.y);`;
  // Unrolled: the accumulators are indexed by constants only (registers, not memory).
  const each = (body: string) => {
    const dedented = body
      .split('\n')
      .map((line) => line.slice(2))
      .join('\n');
    return [0, 1, 2, 3]
      .flatMap((a) => [0, 1, 2, 3].map((b) => `  {\n    let i = r0 + ty + ${W * a}u;\n    let j = c0 + tx + ${W * b}u;\n    let sum = acc[${a}][${b}];\n${dedented}\n  }`))
      .join('\n');
  };
  const args = entryArgs(subgroups);
  return `// A = X·Xᵀ (m × m), upper-triangle tiles, mirrored; a split matrix's is muonGramSplit's.
@compute @workgroup_size(${W}, ${W})
fn muonGram${T}(${args}) {
${head(0)}
  if (nsSplitChunks(mat) > 1u) {
    return;
  }
  let acc = nsProduct${T}(x, mat.n, x, 1u, mat.n, mat.m, mat.m, tile.z, r0, c0, lid, nsAligned(mat));
  let bf16 = hyperOf(mat.group).nsBf16 != 0.0;
${each(`      if (i < mat.m && j < mat.m) {
        let v = nsRound(sum, bf16);
        nsStore(mat.a + i * mat.m + j, v);
        if (r0 != c0) {
          nsStore(mat.a + j * mat.m + i, v);
        }
      }`)}
}

// B' = b·A + c·(A·A) (m × m), upper-triangle tiles, mirrored.
@compute @workgroup_size(${W}, ${W})
fn muonPoly${T}(${args}) {
${head(0)}
  let acc = nsProduct${T}(mat.a, mat.m, mat.a, mat.m, 1u, mat.m, mat.m, tile.w, r0, c0, lid, nsAligned(mat));
  let h = hyperOf(mat.group);
  let abc = nsCoefficients(h, step.y);
${each(`      if (i < mat.m && j < mat.m) {
        let v = nsRound(abc.y * nsLoad(mat.a + i * mat.m + j) + abc.z * sum, h.nsBf16 != 0.0);
        nsStore(mat.b + i * mat.m + j, v);
        if (r0 != c0) {
          nsStore(mat.b + j * mat.m + i, v);
        }
      }`)}
}

// X' = a·X + B'·X (m × n): into the batch's other X region, or the output region after the last step.
@compute @workgroup_size(${W}, ${W})
fn muonCombine${T}(${args}) {
${head(1)}
  let acc = nsProduct${T}(mat.b, mat.m, x, mat.n, 1u, mat.m, mat.n, tile.w, r0, c0, lid, nsAligned(mat));
  let h = hyperOf(mat.group);
  let abc = nsCoefficients(h, step.y);
  let next = nsNextX(mat, step.y);
${each(`      if (i < mat.m && j < mat.n) {
        nsStore(next + i * mat.n + j, nsRound(abc.x * nsLoad(x + i * mat.n + j) + sum, h.nsBf16 != 0.0));
      }`)}
}
`;
}

/**
 * `muonGramSplit` (on the 16² class's product): X·Xᵀ of a long, thin matrix, one workgroup per
 * chunk of k (tile.z; tile.w its length) and upper 16² tile, each chunk's sums (unrounded) into
 * its partials region after B' (chunk c at b + m²·(1 + c)), mirrored; muonGramReduce adds them.
 */
function splitGramWgsl(subgroups: boolean): string {
  const T = 16, W = 4;
  const writes = [0, 1, 2, 3]
    .flatMap((a) => [0, 1, 2, 3].map((b) => `  {
    let i = r0 + ty + ${W * a}u;
    let j = c0 + tx + ${W * b}u;
    if (i < mat.m && j < mat.m) {
      nsStore(p + i * mat.m + j, acc[${a}][${b}]);
      if (r0 != c0) {
        nsStore(p + j * mat.m + i, acc[${a}][${b}]);
      }
    }
  }`))
    .join('\n');
  return `// X·Xᵀ's partial sums of long, thin matrices: per chunk of NS_SPLIT_K columns and upper 16² tile.
@compute @workgroup_size(${W}, ${W})
fn muonGramSplit(${entryArgs(subgroups)}) {
${subgroupInit(subgroups)}  let tile = nsTileOf(wid, nwg, lid, 2u, 0u);
  if (tile.x == NS_NONE) {
    return;
  }
  let mat = nsMatrix(tile.x);
  let r0 = (tile.y >> 16u) * ${T}u;
  let c0 = (tile.y & 0xffffu) * ${T}u;
  let ty = lid / ${W}u;
  let tx = lid % ${W}u;
  let x = nsCurrentX(mat, nsStep().y) + tile.z * NS_SPLIT_K;
  let acc = nsProduct${T}(x, mat.n, x, 1u, mat.n, mat.m, mat.m, tile.w, r0, c0, lid, nsAligned(mat));
  let p = mat.b + mat.m * mat.m * (1u + tile.z);
${writes}
}
`;
}

/**
 * The GEMM WGSL of one tile class (the pass includes every class; each matrix's m and the device's
 * limits pick one); the 16² class also has the split Gram product.
 */
export function gemmWgsl(tiling: NsTiling, tileClass: number, subgroups = false): string {
  const split = tiling.size === 16 ? `\n${splitGramWgsl(subgroups)}` : '';
  const shares = subgroups ? `\n${subgroupSharesWgsl(tiling.threads)}` : '';
  return `${productWgsl(tiling.size, tiling.threads, subgroups)}${shares}\n${entriesWgsl(tiling.size, tiling.threads, tileClass, subgroups)}${split}`;
}

/** An entry point's builtins (the subgroup variant's: also the lane and the subgroup size). */
function entryArgs(subgroups: boolean): string {
  const sg = subgroups ? `, @builtin(subgroup_invocation_id) sgLane: u32, @builtin(subgroup_size) sgSize: u32` : '';
  return `@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32${sg}`;
}

/** The subgroup variant keeps the lane and the subgroup size where nsProduct reads them. */
const subgroupInit = (subgroups: boolean) => (subgroups ? `  nsSgLane = sgLane;\n  nsSgSize = sgSize;\n` : '');

/**
 * `nsSubgroupShares{W}(ty)`: whether this subgroup may take the slab's rows by broadcast: it is
 * full, has at least 4 lanes, and all its lanes are of one row ty (WGSL fixes no mapping of lanes
 * to invocations: checked, else the workgroup-memory loop runs). Called where every lane is active.
 */
function subgroupSharesWgsl(W: number): string {
  return `fn nsSubgroupShares${W}(ty: u32) -> bool {
  let lanes = subgroupAdd(1u);
  let first = subgroupBroadcast(ty, 0u);
  return subgroupAll((lanes == nsSgSize) & (nsSgSize >= 4u) & (first == ty));
}
`;
}
