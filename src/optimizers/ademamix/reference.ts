import type { ReferenceUpdate } from '../../core/definition.js';
import type { AdemamixScalar } from './definition.js';

import { fr } from '../../core/twin-math.js';

/** CPU twin of ademamix.wgsl, every operation rounded to f32 in the kernel's (and PyTorch's) order. */
export const ademamixReference: ReferenceUpdate<AdemamixScalar> = ({ param, grad, state, h, begin, end }) => {
  const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, bc1, bc2Sqrt, alpha, beta3, oneMinusBeta3, eps, weightDecay, negLr } = h;
  const m1 = beta1 !== 0 ? state.exp_avg_fast! : undefined;
  const m2 = state.exp_avg_slow!;
  const v = state.exp_avg_sq!;
  for (let i = begin; i < end; i++) {
    const p = param[i]!;
    const g = grad[i]!;
    let fast = g;
    if (m1) {
      fast = fr(fr(m1[i]! * beta1) + fr(oneMinusBeta1 * g));
      m1[i] = fast;
    }
    const slow = fr(fr(m2[i]! * beta3) + fr(oneMinusBeta3 * g));
    const vi = fr(fr(v[i]! * beta2) + fr(fr(oneMinusBeta2 * g) * g));
    m2[i] = slow;
    v[i] = vi;
    const denom = fr(fr(fr(Math.sqrt(vi)) / bc2Sqrt) + eps);
    const u = fr(fr(fr(fr(fast / bc1) + fr(alpha * slow)) / denom) + fr(weightDecay * p));
    param[i] = fr(p + fr(negLr * u));
  }
};
