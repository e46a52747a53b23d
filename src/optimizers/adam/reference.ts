import type { ReferenceUpdate } from '../../core/definition.js';
import type { AdamScalar } from './definition.js';

import { fr, maximum } from '../../core/twin-math.js';

/** CPU twin of adam.wgsl (Adam, AdamW with DECOUPLED, AMSGrad), every operation rounded to f32. */
export const adamReference: ReferenceUpdate<AdamScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, negStepSize, bc2Sqrt, eps, weightDecay, decayFactor } = h;
  const m = state.exp_avg!;
  const v = state.exp_avg_sq!;
  const vmax = state.max_exp_avg_sq;
  for (let i = begin; i < end; i++) {
    let p = param[i]!;
    let d = defines.MAXIMIZE ? -grad[i]! : grad[i]!;
    if (defines.DECOUPLED) {
      p = fr(p * decayFactor);
    } else if (weightDecay !== 0) {
      d = fr(d + fr(weightDecay * p));
    }
    const mi = fr(fr(m[i]! * beta1) + fr(oneMinusBeta1 * d));
    const vi = fr(fr(v[i]! * beta2) + fr(fr(oneMinusBeta2 * d) * d));
    m[i] = mi;
    v[i] = vi;
    let w = vi;
    if (defines.AMSGRAD) {
      w = maximum(vmax![i]!, vi);
      vmax![i] = w;
    }
    const denom = fr(fr(fr(Math.sqrt(w)) / bc2Sqrt) + eps);
    param[i] = fr(p + fr(fr(negStepSize * mi) / denom));
  }
};
