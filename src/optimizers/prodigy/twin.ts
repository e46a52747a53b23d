/**
 * CPU twin of prodigy.wgsl and its passes over the whole set, every operation rounded to f32 in the
 * GPU's order: partials() per tensor (moments and s with the old d; Σ w·(p0 − p) and Σ|s| in the
 * per-tensor sums' tree order), the fold over the tensors in order into the scalar words, then
 * update() with the old dlr and the new d. The words are the GPU buffer's (scalars-pass.ts).
 */
import type { KernelDefines, SetReferenceUpdate, SetTwinTensor } from '../../core/definition.js';
import { fr } from '../../core/twin-math.js';
import { tensorSum } from '../../passes/tensor-reduction.js';
import type { ProdigyScalar } from './definition.js';
import { PRODIGY_SCALARS as W, PRODIGY_TENSOR_GROUPS } from './scalars-pass.js';

type H = Readonly<Record<ProdigyScalar, number>>;

/** prodigyDlr: d·lr·bc, the powers of this step (β^(k+1)) from the words. */
function dlrOf(words: Float32Array, h: H): number {
  const d = words[W.d]!;
  let bias = 1;
  if (h.biasCorrection !== 0) {
    const q1 = fr(words[W.beta1Power]! * h.beta1);
    const q2 = fr(words[W.beta2Power]! * h.beta2);
    bias = fr(fr(Math.sqrt(fr(1 - q2))) / fr(1 - q1));
  }
  return fr(fr(d * h.lr) * bias);
}

/** The authors' gradient after the coupled decay (prodigyGradient). */
function working(defines: KernelDefines, g: number, p: number, h: H): number {
  return !defines.DECOUPLED && h.weightDecay !== 0 ? fr(g + fr(h.weightDecay * p)) : g;
}

/** partials(): the moments and s stored, and the tensor's (Σ w·(p0 − p), Σ|s|) over the sliced elements. */
function partials(t: SetTwinTensor<ProdigyScalar>, defines: KernelDefines, words: Float32Array): [number, number] {
  const { param, grad, state, h, stored } = t;
  const d = words[W.d]!;
  const ratio = fr(d / h.d0);
  const numeratorFactor = fr(ratio * dlrOf(words, h));
  const sFactor = h.safeguardWarmup !== 0 ? fr(ratio * d) : numeratorFactor;
  const mFactor = fr(d * h.oneMinusBeta1);
  const vFactor = fr(fr(d * d) * h.oneMinusBeta2);
  const { exp_avg: m, exp_avg_sq: v, s, p0 } = state as Record<string, Float32Array>;
  const w = Float32Array.from(param, (p, e) => working(defines, grad[e]!, p, h));
  // The authors' slice_p: s and the sums take the elements whose index sliceP divides (prodigySliced).
  const sliced = (e: number) => e % h.sliceP === 0;
  for (let e = 0; e < param.length; e++) {
    if (defines.FIRST_MOMENT) m![e] = stored('exp_avg', fr(fr(m![e]! * h.beta1) + fr(mFactor * w[e]!)), e);
    v![e] = stored('exp_avg_sq', fr(fr(v![e]! * h.beta2) + fr(fr(vFactor * w[e]!) * w[e]!)), e);
    if (sliced(e)) s![e] = stored('s', fr(fr(s![e]! * h.beta3) + fr(sFactor * w[e]!)), e);
  }
  return [tensorSum(param.length, (e) => (sliced(e) ? fr(w[e]! * fr(p0![e]! - param[e]!)) : 0)), tensorSum(param.length, (e) => (sliced(e) ? Math.abs(s![e]!) : 0))];
}

const pythonMax = (a: number, b: number) => (b > a ? b : a);
const pythonMin = (a: number, b: number) => (b < a ? b : a);

/** prodigyFold: the new words from the tensors' sums; false when Σ|s| is 0 (the authors' early return). */
function fold(tensors: readonly SetTwinTensor<ProdigyScalar>[], sums: readonly ([number, number] | undefined)[], words: Float32Array): boolean {
  // The global scalars (equal in every group and row): the first group's, or the first tensor's row.
  const h0 = tensors.find((t) => t.group === 0)?.h ?? tensors[0]!.h;
  const d = words[W.d]!;
  const dlr = dlrOf(words, h0);
  let numerator = 0;
  let denominator = 0;
  sums.forEach((sum, i) => {
    // A tensor without gradient adds nothing (the authors' loops pass it by).
    if (sum === undefined) return;
    const [dot, abs] = sum;
    numerator = fr(numerator + fr(fr(fr(d / tensors[i]!.h.d0) * dlr) * dot));
    denominator = fr(denominator + abs);
  });
  if (denominator === 0) {
    words[W.applied] = 0;
    return false;
  }
  const total = fr(fr(words[W.d_numerator]! * h0.beta3) + numerator);
  const dHat = fr(fr(h0.dCoef * total) / denominator);
  const next = d === h0.d0 ? pythonMax(d, dHat) : d;
  const dMax = pythonMax(words[W.d_max]!, dHat);
  words[W.d] = pythonMin(dMax, fr(next * h0.growthRate));
  words[W.d_numerator] = total;
  words[W.d_max] = dMax;
  words[W.d_hat] = dHat;
  words[W.k] = fr(words[W.k]! + 1);
  words[W.beta1Power] = fr(words[W.beta1Power]! * h0.beta1);
  words[W.beta2Power] = fr(words[W.beta2Power]! * h0.beta2);
  words[W.dlr] = dlr;
  words[W.applied] = 1;
  return true;
}

/** update(): decoupled decay with the old dlr, then the step over √v + d·eps with the new d. */
function update(t: SetTwinTensor<ProdigyScalar>, defines: KernelDefines, words: Float32Array): void {
  const { param, grad, state, h } = t;
  const d = words[W.d]!;
  const dlr = words[W.dlr]!;
  const { exp_avg: m, exp_avg_sq: v } = state as Record<string, Float32Array>;
  for (let e = 0; e < param.length; e++) {
    const denom = fr(fr(Math.sqrt(v![e]!)) + fr(d * h.eps));
    const old = param[e]!;
    let p = old;
    if (defines.DECOUPLED && h.weightDecay !== 0) p = fr(p + fr(fr(-h.weightDecay * dlr) * p));
    param[e] = defines.FIRST_MOMENT ? fr(p + fr(fr(-dlr * m![e]!) / denom)) : fr(p + fr(fr(fr(-dlr * d) * working(defines, grad[e]!, old, h)) / denom));
  }
}

/** The whole-set twin of one Prodigy step on the GPU (the definition's `setReference`). */
export const prodigySetReference: SetReferenceUpdate<ProdigyScalar> = ({ tensors, defines, setState }) => {
  if (setState.length !== PRODIGY_TENSOR_GROUPS + tensors.length) throw new RangeError(`webgpu-optim: prodigy's twin holds scalar words for ${setState.length - PRODIGY_TENSOR_GROUPS} tensors, got ${tensors.length}`);
  // PyTorch's step rule, as the authors' step(): a tensor whose grad is None takes no part.
  const sums = tensors.map((t) => (t.absent ? undefined : partials(t, defines, setState)));
  if (!fold(tensors, sums, setState)) return;
  for (const t of tensors) if (!t.absent) update(t, defines, setState);
};
