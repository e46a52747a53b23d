import type { ReferenceUpdate } from '../../core/definition.js';
import type { RmspropScalar } from './definition.js';

import { fr } from '../../core/twin-math.js';

/** CPU twin of rmsprop.wgsl, every operation rounded to f32. */
export const rmspropReference: ReferenceUpdate<RmspropScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  const { negLr, weightDecay, alpha, oneMinusAlpha, eps, momentum } = h;
  const sq = state.square_avg!;
  const ga = state.grad_avg;
  const buf = state.momentum_buffer;
  const useMomentum = defines.MOMENTUM === true && momentum > 0;
  for (let i = begin; i < end; i++) {
    const p = param[i]!;
    let d = defines.MAXIMIZE ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) d = fr(d + fr(weightDecay * p));
    const s = fr(fr(sq[i]! * alpha) + fr(fr(oneMinusAlpha * d) * d));
    sq[i] = s;
    let avg: number;
    if (defines.CENTERED) {
      const a = fr(fr(ga![i]! * alpha) + fr(oneMinusAlpha * d));
      ga![i] = a;
      avg = fr(Math.sqrt(fr(s - fr(a * a))));
    } else {
      avg = fr(Math.sqrt(s));
    }
    avg = fr(avg + eps);
    if (useMomentum) {
      const b = fr(fr(buf![i]! * momentum) + fr(d / avg));
      buf![i] = b;
      param[i] = fr(p + fr(negLr * b));
    } else {
      param[i] = fr(p + fr(fr(negLr * d) / avg));
    }
  }
};
