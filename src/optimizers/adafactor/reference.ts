import type { ReferenceUpdate } from '../../core/definition.js';
import type { AdafactorScalar } from './definition.js';

import { factoringOf } from '../../passes/factored.js';
import { tensorSumOfSquares } from '../../passes/tensor-reduction.js';
import { fr, lerp, maximum } from '../../core/twin-math.js';
import { checkWholeTensor } from '../whole-tensor.js';

/** Σ d² over `count` elements from `first`, `stride` apart, in element order (the GPU's factorSums). */
function sumOfSquares(d: Float32Array, first: number, stride: number, count: number): number {
  let acc = 0;
  for (let j = 0; j < count; j++) acc = fr(acc + fr(d[first + j * stride]! * d[first + j * stride]!));
  return acc;
}

/** The row / column factor update: lerp(old, (√Σ)² / count, w). */
const factorUpdate = (old: number, sum: number, count: number, w: number) => {
  const norm = fr(Math.sqrt(sum));
  return lerp(old, fr(fr(norm * norm) / count), w);
};

/** Updates the factored state of a [B, R, C] tensor and returns its second-moment estimate. */
function factoredEstimate(d: Float32Array, state: Readonly<Record<string, Float32Array>>, shape: readonly number[], h: { beta2Weight: number; eps1: number }) {
  const { batches: B, rows: R, cols: C } = factoringOf(shape);
  const rowVar = state.row_var!;
  const colVar = state.col_var!;
  const means = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < R; r++) rowVar[b * R + r] = factorUpdate(rowVar[b * R + r]!, sumOfSquares(d, (b * R + r) * C, 1, C), C, h.beta2Weight);
    for (let c = 0; c < C; c++) colVar[b * C + c] = factorUpdate(colVar[b * C + c]!, sumOfSquares(d, b * R * C + c, C, R), R, h.beta2Weight);
    let sum = 0;
    for (let r = 0; r < R; r++) sum = fr(sum + rowVar[b * R + r]!);
    means[b] = maximum(fr(sum / R), h.eps1);
  }
  return (e: number) => {
    const row = Math.floor(e / C);
    const batch = Math.floor(row / R);
    return fr(fr(rowVar[row]! * colVar[batch * C + (e % C)]!) / means[batch]!);
  };
}

/** CPU twin of adafactor.wgsl on one whole tensor, every operation rounded to f32, sums in the GPU's order. */
export const adafactorReference: ReferenceUpdate<AdafactorScalar> = ({ param, grad, state, h, defines, begin, end, shape }) => {
  checkWholeTensor('adafactor', param, begin, end);
  const { beta2Weight, rho, eps1Sq, eps2, d: clip, decayFactor } = h;
  const n = param.length;
  const d = defines.MAXIMIZE ? grad.map((g) => -g) : grad;
  let estimate: (e: number) => number;
  if (factoringOf(shape).factored) {
    estimate = factoredEstimate(d, state, shape, h);
  } else {
    const v = state.variance!;
    for (let e = 0; e < n; e++) v[e] = lerp(v[e]!, fr(d[e]! * d[e]!), beta2Weight);
    estimate = (e) => v[e]!;
  }
  const u = new Float32Array(n);
  for (let e = 0; e < n; e++) u[e] = fr(fr(1 / fr(Math.sqrt(maximum(estimate(e), eps1Sq)))) * d[e]!);
  const rootN = fr(Math.sqrt(fr(n)));
  const rms = fr(fr(Math.sqrt(tensorSumOfSquares(param))) / rootN);
  const alpha = fr((rms > eps2 ? rms : eps2) * rho);
  const ratio = fr(fr(Math.sqrt(tensorSumOfSquares(u))) / fr(rootN * clip));
  const step = fr(-alpha / (ratio > 1 ? ratio : 1));
  for (let e = 0; e < n; e++) param[e] = fr(fr(param[e]! * decayFactor) + fr(step * u[e]!));
};
