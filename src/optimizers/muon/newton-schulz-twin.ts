/**
 * The CPU twin of the Newton–Schulz pass (src/passes/newton-schulz.ts), in f32 and in the GPU's
 * order: X gathered (transposed when rows > cols), ‖X‖² summed in X's element order, then each
 * product's sum over k in increasing k, each operation rounded to f32.
 */
import { fr, maximum } from '../../core/twin-math.js';
import type { NsMatrixShape } from '../../passes/newton-schulz-table.js';

/** U (the tensor's values, row-major) as X: m × n row-major, transposed when rows > cols. */
export function gatherX(u: ArrayLike<number>, shape: NsMatrixShape): Float32Array {
  const { rows, cols, transposed } = shape;
  const x = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) x[transposed ? c * rows + r : r * cols + c] = u[r * cols + c]!;
  }
  return x;
}

/** X ← X / max(‖X‖_F, eps): the squares summed in element order, torch.clamp(min=eps) NaN-propagating. */
export function normalize(x: Float32Array, eps: number): void {
  let acc = 0;
  for (let e = 0; e < x.length; e++) acc = fr(acc + fr(x[e]! * x[e]!));
  const norm = maximum(fr(Math.sqrt(acc)), eps);
  for (let e = 0; e < x.length; e++) x[e] = fr(x[e]! / norm);
}

/** Σ_k L[i][k]·R[k][j] for k = 0 … K−1 in order, rounded at each step; `l(i, k)`, `r(k, j)` read the operands. */
function dot(K: number, l: (k: number) => number, r: (k: number) => number): number {
  let acc = 0;
  for (let k = 0; k < K; k++) acc = fr(acc + fr(l(k) * r(k)));
  return acc;
}

/** One step: A = XXᵀ; B' = b·A + c·(A·A); X' = a·X + B'·X (torch's expression order). */
export function nsStep(x: Float32Array, m: number, n: number, a: number, b: number, c: number): Float32Array {
  const gram = new Float32Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) gram[i * m + j] = dot(n, (k) => x[i * n + k]!, (k) => x[j * n + k]!);
  const poly = new Float32Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) poly[i * m + j] = fr(fr(b * gram[i * m + j]!) + fr(c * dot(m, (k) => gram[i * m + k]!, (k) => gram[k * m + j]!)));
  }
  const next = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) next[i * n + j] = fr(fr(a * x[i * n + j]!) + dot(m, (k) => poly[i * m + k]!, (k) => x[k * n + j]!));
  }
  return next;
}

/** X after the iteration, read back at element (r, c) of the tensor's matrix. */
export function orthogonalizedAt(x: Float32Array, shape: NsMatrixShape, r: number, c: number): number {
  return shape.transposed ? x[c * shape.rows + r]! : x[r * shape.cols + c]!;
}
