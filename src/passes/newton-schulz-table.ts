/**
 * Muon's matrices as the Newton–Schulz pass and the CPU twin both see them: a tensor of shape
 * [rows, ...rest] is the matrix rows × Π(rest) (convolution kernels flattened after their first
 * dimension); X is that matrix, transposed when it has more rows than columns, so that X is
 * m × n with m = min(rows, cols) ≤ n; and the two learning-rate adjustments of torch.optim.Muon.
 */

/** Steps of the Newton–Schulz iteration an optimizer may ask for (its per-step coefficients are kernel scalars). */
export const MAX_NS_STEPS = 10;

/** Invocations of the norm workgroup: ‖X‖² is summed as this many strided partial sums (GPU and twin). */
export const NS_NORM_LANES = 64;

/**
 * Split-K of X·Xᵀ for long, thin matrices: an X of m ≤ NS_SPLIT_MAX_M rows has one or three upper
 * tiles of 16², so its Gram product would run in as many workgroups over all of its n columns.
 * Where n > NS_SPLIT_K, the sum over k is cut in chunks of NS_SPLIT_K (a workgroup per chunk and
 * tile, each chunk's sum over k in increasing k), and the chunks' sums added in chunk order.
 * A rule of the shape alone: the GPU pass and the twin split the same matrices the same way.
 */
export const NS_SPLIT_K = 1024;
export const NS_SPLIT_MAX_M = 32;

/** The chunks of X·Xᵀ's sum over k for an m × n X: 1 (not split) unless m ≤ NS_SPLIT_MAX_M and n > NS_SPLIT_K. */
export function nsSplitChunks(m: number, n: number): number {
  return m > 0 && m <= NS_SPLIT_MAX_M && n > NS_SPLIT_K ? Math.ceil(n / NS_SPLIT_K) : 1;
}

export interface NsMatrixShape {
  readonly rows: number;
  readonly cols: number;
  /** min(rows, cols): X's rows. */
  readonly m: number;
  /** max(rows, cols): X's columns. */
  readonly n: number;
  /** X = Gᵀ (rows > cols). */
  readonly transposed: boolean;
  /** f(√max(1, rows/cols)): torch's 'original' adjustment (Keller Jordan's). */
  readonly scaleOriginal: number;
  /** f(0.2·√max(rows, cols)): torch's 'match_rms_adamw' adjustment (Moonshot's). */
  readonly scaleMatch: number;
}

/** The matrix of a tensor of `shape` (≥ 2 dimensions; the caller refuses the others). */
export function nsMatrixShape(shape: readonly number[]): NsMatrixShape {
  const rows = shape[0]!;
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  return {
    rows,
    cols,
    m: Math.min(rows, cols),
    n: Math.max(rows, cols),
    transposed: rows > cols,
    scaleOriginal: Math.fround(Math.sqrt(Math.max(1, rows / cols))),
    scaleMatch: Math.fround(0.2 * Math.sqrt(Math.max(rows, cols))),
  };
}

/**
 * Refuses, naming the tensor, a tensor Muon cannot take: fewer than two dimensions (biases, gains:
 * they need another optimizer, as torch.optim.Muon says).
 */
export function checkMatrices(what: string, tensors: readonly { readonly name: string; readonly shape: readonly number[] }[]): void {
  for (const t of tensors) {
    if (t.shape.length < 2) {
      throw new RangeError(
        `webgpu-optim: ${what}: tensor "${t.name}" of shape [${t.shape.join(', ')}] is not a matrix; Muon orthogonalizes tensors of 2 or more ` +
          `dimensions (more are flattened to [shape[0], rest]); pass adamw: {} to update vectors (biases, gains) with AdamW beside Muon`,
      );
    }
  }
}
