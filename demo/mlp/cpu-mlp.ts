/** The same MLP on the CPU in float64, to check the WGSL kernels (forward, loss, gradients). */

export interface CpuMlpResult {
  loss: number;
  accuracy: number;
  logits: Float64Array;
  /** Gradients by tensor name (W0, b0, …). */
  grads: Record<string, Float64Array>;
}

/**
 * Writes the indices of the non-zero values of `values[start … start + n)` into `out`; returns
 * how many. A zero input adds 0 · w to a sum (most of a digit's pixels, ReLU's zeros): skipping it
 * changes no finite result and makes the reference fast enough to train with.
 */
function nonZeroInputs(values: Float64Array, start: number, n: number, out: Uint32Array): number {
  let count = 0;
  for (let i = 0; i < n; i++) if (values[start + i] !== 0) out[count++] = i;
  return count;
}

export function cpuMlpStep(
  layers: readonly number[],
  weights: Record<string, Float32Array>,
  features: Float32Array,
  labels: Uint32Array,
  rows: Uint32Array,
): CpuMlpResult {
  const B = rows.length;
  const L = layers.length - 1;
  const zs: Float64Array[] = [];
  const as: Float64Array[] = [];
  let input = new Float64Array(B * layers[0]!);
  rows.forEach((row, b) => {
    for (let i = 0; i < layers[0]!; i++) input[b * layers[0]! + i] = features[row * layers[0]! + i]!;
  });
  const x0 = input;
  for (let l = 0; l < L; l++) {
    const I = layers[l]!, O = layers[l + 1]!;
    const W = weights[`W${l}`]!, bias = weights[`b${l}`]!;
    const z = new Float64Array(B * O);
    const a = new Float64Array(B * O);
    const nonZero = new Uint32Array(I);
    for (let b = 0; b < B; b++) {
      const count = nonZeroInputs(input, b * I, I, nonZero);
      for (let o = 0; o < O; o++) {
        let s = bias[o]!;
        for (let k = 0; k < count; k++) s += input[b * I + nonZero[k]!]! * W[nonZero[k]! * O + o]!;
        z[b * O + o] = s;
        a[b * O + o] = l < L - 1 ? Math.max(s, 0) : s;
      }
    }
    zs.push(z);
    as.push(a);
    input = a;
  }
  const C = layers[L]!;
  const logits = zs[L - 1]!;
  const dz: Float64Array[] = layers.slice(1).map((o) => new Float64Array(B * o));
  let loss = 0;
  let right = 0;
  for (let b = 0; b < B; b++) {
    const row = logits.subarray(b * C, (b + 1) * C);
    const max = Math.max(...row);
    const total = row.reduce((s, v) => s + Math.exp(v - max), 0);
    const y = labels[rows[b]!]!;
    loss += Math.log(total) - (row[y]! - max);
    if (row.indexOf(max) === y) right++;
    for (let o = 0; o < C; o++) dz[L - 1]![b * C + o] = (Math.exp(row[o]! - max) / total - (o === y ? 1 : 0)) / B;
  }
  const grads: Record<string, Float64Array> = {};
  for (let l = L - 1; l >= 0; l--) {
    const I = layers[l]!, O = layers[l + 1]!;
    const x = l === 0 ? x0 : as[l - 1]!;
    const dW = new Float64Array(I * O);
    const db = new Float64Array(O);
    const nonZero = new Uint32Array(I);
    for (let b = 0; b < B; b++) {
      const count = nonZeroInputs(x, b * I, I, nonZero);
      for (let o = 0; o < O; o++) {
        const g = dz[l]![b * O + o]!;
        db[o]! += g;
        for (let k = 0; k < count; k++) dW[nonZero[k]! * O + o]! += x[b * I + nonZero[k]!]! * g;
      }
    }
    grads[`W${l}`] = dW;
    grads[`b${l}`] = db;
    if (l > 0) {
      const W = weights[`W${l}`]!;
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < I; i++) {
          let s = 0;
          for (let o = 0; o < O; o++) s += dz[l]![b * O + o]! * W[i * O + o]!;
          dz[l - 1]![b * I + i] = zs[l - 1]![b * I + i]! > 0 ? s : 0;
        }
      }
    }
  }
  return { loss: loss / B, accuracy: right / B, logits, grads };
}
