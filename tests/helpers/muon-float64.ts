const DEFAULT_ABC = [3.4445, -4.775, 2.0315] as const;

/** torch.optim.Muon's recipe (torch/optim/_muon.py) in float64: Newton–Schulz of U as a rows × cols matrix. */
export function newtonSchulz64(u: readonly number[], rows: number, cols: number, coefficients: readonly (readonly number[])[], eps: number): number[] {
  const tall = rows > cols;
  const m = Math.min(rows, cols), n = Math.max(rows, cols);
  let x = Array.from({ length: m * n }, (_, e) => (tall ? u[(e % n) * cols + Math.floor(e / n)]! : u[e]!));
  const norm = Math.sqrt(x.reduce((a, v) => a + v * v, 0));
  x = x.map((v) => v / Math.max(norm, eps));
  const mul = (a: number[], b: number[], ra: number, k: number, cb: number) =>
    Array.from({ length: ra * cb }, (_, e) => {
      let s = 0;
      for (let q = 0; q < k; q++) s += a[Math.floor(e / cb) * k + q]! * b[q * cb + (e % cb)]!;
      return s;
    });
  const transpose = (a: number[], r: number, c: number) => Array.from({ length: r * c }, (_, e) => a[(e % r) * c + Math.floor(e / r)]!);
  for (const [a, b, c] of coefficients) {
    const gram = mul(x, transpose(x, m, n), m, n, m);
    const gram2 = mul(gram, gram, m, m, m);
    const poly = gram.map((v, e) => b! * v + c! * gram2[e]!);
    const px = mul(poly, x, m, m, n);
    x = x.map((v, e) => a! * v + px[e]!);
  }
  return Array.from({ length: rows * cols }, (_, e) => (tall ? x[(e % cols) * rows + Math.floor(e / cols)]! : x[e]!));
}

/** Float64 state of one tensor: the momentum buffer. */
export type Muon64State = { buf?: number[] };

/**
 * One step of torch.optim.Muon on one tensor (torch/optim/_muon.py's _single_tensor_muon), in
 * float64: `p` updated in place, `s` its momentum; `shape[0]` rows, the rest flattened.
 */
export function muonStep64(o: Record<string, any>, p: number[], g: ArrayLike<number>, s: Muon64State, shape: readonly number[]): void {
  const mu = o.momentum ?? 0.95, lr = o.lr ?? 1e-3, wd = o.weightDecay ?? 0.1, steps = o.nsSteps ?? 5;
  const abc = o.nsCoefficients ?? DEFAULT_ABC;
  const coefficients = Array.isArray(abc[0]) ? (abc as number[][]) : Array.from({ length: steps }, () => abc as number[]);
  s.buf ??= p.map(() => 0);
  const u = p.map((_, i) => {
    s.buf![i] = s.buf![i]! + (1 - mu) * (g[i]! - s.buf![i]!);
    return o.nesterov === false ? s.buf![i]! : g[i]! + mu * (s.buf![i]! - g[i]!);
  });
  const rows = shape[0]!, cols = p.length / rows;
  const orthogonal = newtonSchulz64(u, rows, cols, coefficients, o.eps ?? 1e-7);
  const scale = o.adjustLrFn === 'match_rms_adamw' ? 0.2 * Math.sqrt(Math.max(rows, cols)) : Math.sqrt(Math.max(1, rows / cols));
  p.forEach((_, i) => (p[i] = p[i]! * (1 - lr * wd) - lr * scale * orthogonal[i]!));
}

/**
 * Muon's option rows, plainest to richest, with an eps-sensitive row (‖U‖ of the test gradients is
 * ~0.1–100: eps = 100 floors most of them).
 */
export const MUON_ROWS: readonly Record<string, unknown>[] = [
  { nesterov: false, weightDecay: 0 },
  { lr: 0.02, weightDecay: 0.1 },
  { lr: 0.01, momentum: 0.9, nesterov: false, nsSteps: 3, adjustLrFn: 'match_rms_adamw' },
  { eps: 100, lr: 0.1 },
  { lr: 0.01, momentum: 0.5, nsSteps: 2, nsCoefficients: [[4.0848, -6.8946, 2.927], [3.9505, -6.3029, 2.6377]], eps: 1e-3, weightDecay: 0.01 },
];
