import type { ReferenceUpdate } from '../../core/definition.js';
import type { RadamScalar } from './definition.js';

import { fr } from '../../core/twin-math.js';

/** CPU twin of radam.wgsl, every operation rounded to f32. */
export const radamReference: ReferenceUpdate<RadamScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, lr, eps, weightDecay, decayFactor, bc1, bc2Sqrt, rect } = h;
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
    const mhat = fr(mi / bc1);
    if (rect > 0) {
      const adaptive = fr(fr(1 / fr(fr(Math.sqrt(vi)) + eps)) * bc2Sqrt);
      param[i] = fr(p - fr(fr(fr(mhat * lr) * adaptive) * rect));
    } else {
      param[i] = fr(p - fr(mhat * lr));
    }
  }
};
