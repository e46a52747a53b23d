import type { ReferenceUpdate } from '../../core/definition.js';
import type { AdagradScalar } from './definition.js';

import { fr } from '../../core/twin-math.js';

/** CPU twin of adagrad.wgsl, every operation rounded to f32. */
export const adagradReference: ReferenceUpdate<AdagradScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  const { negClr, weightDecay, eps } = h;
  const sum = state.sum!;
  for (let i = begin; i < end; i++) {
    const p = param[i]!;
    let d = defines.MAXIMIZE ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) d = fr(d + fr(weightDecay * p));
    const s = fr(sum[i]! + fr(d * d));
    sum[i] = s;
    const std = fr(fr(Math.sqrt(s)) + eps);
    param[i] = fr(p + fr(fr(negClr * d) / std));
  }
};
