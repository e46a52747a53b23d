/**
 * The CPU twin of the Newton–Schulz pass (src/passes/newton-schulz.ts), in f32 and in the GPU's
 * order: X gathered (transposed when rows > cols), ‖X‖² as NS_NORM_LANES strided partial sums added
 * in lane order, then each product's sum over k in increasing k, each operation rounded to f32;
 * with `bf16`, the values the GPU rounds to bfloat16 rounded here too.
 */
import { roundToBf16 } from '../../core/float-bits.js';
import { fr, maximum } from '../../core/twin-math.js';
import { NS_NORM_LANES, NS_SPLIT_K, nsSplitChunks, type NsMatrixShape } from '../../passes/newton-schulz-table.js';

const rounder = (isBf16: boolean) => (isBf16 ? roundToBf16 : (x: number) => x);

/** U (the tensor's values, row-major) as X: m × n row-major, transposed when rows > cols. */
export function gatherX(u: ArrayLike<number>, shape: NsMatrixShape): Float32Array {
  const { rows, cols, transposed } = shape;
  const x = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) x[transposed ? c * rows + r : r * cols + c] = u[r * cols + c]!;
  }
  return x;
}

/**
 * X ← X / max(‖X‖_F, eps), torch.clamp(min=eps) NaN-propagating; the squares summed as the GPU's
 * norm workgroup does. `isBf16`: X, ‖X‖, the clamped norm and the quotient rounded to bfloat16.
 */
export function normalize(x: Float32Array, eps: number, isBf16 = false): void {
  const round = rounder(isBf16);
  const partials = new Float32Array(NS_NORM_LANES);
  for (let e = 0; e < x.length; e++) {
    const v = round(x[e]!);
    partials[e % NS_NORM_LANES] = fr(partials[e % NS_NORM_LANES]! + fr(v * v));
  }
  let acc = 0;
  for (let l = 0; l < NS_NORM_LANES; l++) acc = fr(acc + partials[l]!);
  const norm = round(maximum(round(fr(Math.sqrt(acc))), eps));
  for (let e = 0; e < x.length; e++) x[e] = round(fr(round(x[e]!) / norm));
}

/** Σ_k L[i][k]·R[k][j] for k = 0 … K−1 in order, rounded at each step; `l(i, k)`, `r(k, j)` read the operands. */
function dot(K: number, l: (k: number) => number, r: (k: number) => number): number {
  let acc = 0;
  for (let k = 0; k < K; k++) acc = fr(acc + fr(l(k) * r(k)));
  return acc;
}

/**
 * (X·Xᵀ)[i][j] as the GPU sums it: over k in increasing k, or, for a split matrix (nsSplitChunks),
 * each chunk of NS_SPLIT_K so, then the chunks' sums added in chunk order.
 */
function gramAt(x: Float32Array, m: number, n: number, i: number, j: number): number {
  const chunks = nsSplitChunks(m, n);
  if (chunks === 1) return dot(n, (k) => x[i * n + k]!, (k) => x[j * n + k]!);
  let total = 0;
  for (let c = 0; c < chunks; c++) {
    const k0 = c * NS_SPLIT_K;
    total = fr(total + dot(Math.min(NS_SPLIT_K, n - k0), (k) => x[i * n + k0 + k]!, (k) => x[j * n + k0 + k]!));
  }
  return total;
}

/**
 * One step: A = XXᵀ; B' = b·A + c·(A·A); X' = a·X + B'·X (torch's expression order); `isBf16`:
 * A, B' and X' rounded to bfloat16 (f32 sums).
 */
export function nsStep(x: Float32Array, m: number, n: number, a: number, b: number, c: number, isBf16 = false): Float32Array {
  const round = rounder(isBf16);
  const gram = new Float32Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) gram[i * m + j] = round(gramAt(x, m, n, i, j));
  const poly = new Float32Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) poly[i * m + j] = round(fr(fr(b * gram[i * m + j]!) + fr(c * dot(m, (k) => gram[i * m + k]!, (k) => gram[k * m + j]!))));
  }
  const next = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) next[i * n + j] = round(fr(fr(a * x[i * n + j]!) + dot(m, (k) => poly[i * m + k]!, (k) => x[k * n + j]!)));
  }
  return next;
}

/** X after the iteration, read back at element (r, c) of the tensor's matrix. */
export function orthogonalizedAt(x: Float32Array, shape: NsMatrixShape, r: number, c: number): number {
  return shape.transposed ? x[c * shape.rows + r]! : x[r * shape.cols + c]!;
}
