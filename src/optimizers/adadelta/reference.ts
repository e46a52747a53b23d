import type { ReferenceUpdate } from '../../core/definition.js';
import type { AdadeltaScalar } from './definition.js';

import { fr } from '../../core/twin-math.js';

/** CPU twin of adadelta.wgsl, every operation rounded to f32. */
export const adadeltaReference: ReferenceUpdate<AdadeltaScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  const { negLr, weightDecay, rho, oneMinusRho, eps } = h;
  const sq = state.square_avg!;
  const acc = state.acc_delta!;
  for (let i = begin; i < end; i++) {
    const p = param[i]!;
    let d = defines.MAXIMIZE ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) d = fr(d + fr(weightDecay * p));
    const s = fr(fr(sq[i]! * rho) + fr(fr(oneMinusRho * d) * d));
    sq[i] = s;
    const std = fr(Math.sqrt(fr(s + eps)));
    const a = acc[i]!;
    const delta = fr(fr(fr(Math.sqrt(fr(a + eps))) / std) * d);
    acc[i] = fr(fr(a * rho) + fr(fr(oneMinusRho * delta) * delta));
    param[i] = fr(p + fr(negLr * delta));
  }
};
