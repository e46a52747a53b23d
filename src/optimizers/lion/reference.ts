import type { ReferenceUpdate } from '../../core/definition.js';
import type { LionScalar } from './definition.js';

import { fr, sign } from '../../core/twin-math.js';

/** CPU twin of lion.wgsl, every operation rounded to f32. */
export const lionReference: ReferenceUpdate<LionScalar> = ({ param, grad, state, h, begin, end }) => {
  const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, negLr, decayFactor } = h;
  const m = state.exp_avg!;
  for (let i = begin; i < end; i++) {
    const g = grad[i]!;
    const c = fr(fr(m[i]! * beta1) + fr(oneMinusBeta1 * g));
    param[i] = fr(fr(param[i]! * decayFactor) + fr(negLr * sign(c)));
    m[i] = fr(fr(m[i]! * beta2) + fr(oneMinusBeta2 * g));
  }
};
