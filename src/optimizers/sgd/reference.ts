import type { ReferenceUpdate } from '../../core/definition.js';
import type { SgdScalar } from './definition.js';

import { fr } from '../../core/twin-math.js';

/** CPU twin of sgd.wgsl, every operation rounded to f32. */
export const sgdReference: ReferenceUpdate<SgdScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  const { negLr, weightDecay, momentum, oneMinusDampening, first } = h;
  const buf = state.momentum_buffer;
  const useMomentum = defines.MOMENTUM === true && momentum !== 0;
  for (let i = begin; i < end; i++) {
    const p = param[i]!;
    let d = defines.MAXIMIZE ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) d = fr(d + fr(weightDecay * p));
    if (useMomentum) {
      const b = first !== 0 ? d : fr(fr(buf![i]! * momentum) + fr(oneMinusDampening * d));
      buf![i] = b;
      d = defines.NESTEROV ? fr(d + fr(momentum * b)) : b;
    }
    param[i] = fr(p + fr(negLr * d));
  }
};
