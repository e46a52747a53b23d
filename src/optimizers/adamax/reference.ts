import type { ReferenceUpdate } from '../../core/definition.js';
import type { AdamaxScalar } from './definition.js';

import { fr, maximum } from '../../core/twin-math.js';

/** CPU twin of adamax.wgsl, every operation rounded to f32. */
export const adamaxReference: ReferenceUpdate<AdamaxScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  const { beta1, oneMinusBeta1, beta2, negClr, eps, weightDecay } = h;
  const m = state.exp_avg!;
  const u = state.exp_inf!;
  for (let i = begin; i < end; i++) {
    const p = param[i]!;
    let d = defines.MAXIMIZE ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) d = fr(d + fr(weightDecay * p));
    const mi = fr(fr(m[i]! * beta1) + fr(oneMinusBeta1 * d));
    const ui = maximum(fr(u[i]! * beta2), fr(Math.abs(d) + eps));
    m[i] = mi;
    u[i] = ui;
    param[i] = fr(p + fr(fr(negClr * mi) / ui));
  }
};
