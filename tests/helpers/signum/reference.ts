import { twinMath, type ReferenceUpdate } from '../../../src/index.js';
import type { SignumScalar } from './definition.js';

const { fr, sign } = twinMath;

/** CPU twin of signum.wgsl, every operation rounded to f32. */
export const signumReference: ReferenceUpdate<SignumScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  const { negLr, weightDecay, momentum, oneMinusMomentum } = h;
  const m = state.momentum_buffer!;
  for (let i = begin; i < end; i++) {
    const p = param[i]!;
    let d = defines.MAXIMIZE ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) d = fr(d + fr(weightDecay * p));
    m[i] = fr(fr(m[i]! * momentum) + fr(oneMinusMomentum * d));
    param[i] = fr(p + fr(negLr * sign(m[i]!)));
  }
};
