import type { ReferenceUpdate } from '../../core/definition.js';
import type { LionScalar } from './definition.js';

import { agreeInSign, cautiousCounts, numelOverSumPlusOneScale } from '../cautious.js';
import { fr, sign } from '../../core/twin-math.js';

/** CPU twin of lion.wgsl (and CAUTIOUS), every operation rounded to f32. */
export const lionReference: ReferenceUpdate<LionScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, negLr, decayFactor } = h;
  const m = state.exp_avg!;
  const direction = (i: number) => fr(fr(m[i]! * beta1) + fr(oneMinusBeta1 * grad[i]!));
  const agrees = (i: number) => agreeInSign(sign(direction(i)), grad[i]!);
  // Cautious: the twin is called on whole tensors (the definition declares the per-tensor sums).
  const scale = defines.CAUTIOUS ? numelOverSumPlusOneScale(cautiousCounts('lion', param, begin, end, agrees)) : 1;
  for (let i = begin; i < end; i++) {
    const g = grad[i]!;
    const s = sign(direction(i));
    const step = defines.CAUTIOUS ? fr(s * (agrees(i) ? scale : 0)) : s;
    param[i] = fr(fr(param[i]! * decayFactor) + fr(negLr * step));
    m[i] = fr(fr(m[i]! * beta2) + fr(oneMinusBeta2 * g));
  }
};
