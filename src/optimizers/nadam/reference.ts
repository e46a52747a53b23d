import type { ReferenceUpdate } from '../../core/definition.js';
import { fr } from '../../core/twin-math.js';
import type { NadamScalar } from './definition.js';

/** CPU twin of nadam.wgsl, every operation rounded to f32. */
export const nadamReference: ReferenceUpdate<NadamScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, weightDecay, decayFactor, gradCoefficient, momentumCoefficient, bc2 } = h;
  const m = state.exp_avg!;
  const v = state.exp_avg_sq!;
  for (let i = begin; i < end; i++) {
    const p = defines.DECOUPLED ? fr(param[i]! * decayFactor) : param[i]!;
    let d = grad[i]!;
    if (weightDecay !== 0) d = fr(d + fr(weightDecay * p));
    const mi = fr(fr(m[i]! * beta1) + fr(oneMinusBeta1 * d));
    const vi = fr(fr(v[i]! * beta2) + fr(fr(oneMinusBeta2 * d) * d));
    m[i] = mi;
    v[i] = vi;
    const denom = fr(fr(Math.sqrt(fr(vi / bc2))) + eps);
    // Two separate steps, as PyTorch's two addcdiv_ calls round them.
    const afterGrad = fr(p + fr(fr(gradCoefficient * d) / denom));
    param[i] = fr(afterGrad + fr(fr(momentumCoefficient * mi) / denom));
  }
};
