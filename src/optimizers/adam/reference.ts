import type { ReferenceUpdate } from '../../core/definition.js';
import type { AdamScalar } from './definition.js';

import { agreeInSign, cautiousCounts, meanClampedScale } from '../cautious.js';
import { fr, maximum } from '../../core/twin-math.js';

/** CPU twin of adam.wgsl (Adam, AdamW with DECOUPLED, AMSGrad, CAUTIOUS), every operation rounded to f32. */
export const adamReference: ReferenceUpdate<AdamScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, negStepSize, bc2Sqrt, eps, weightDecay, decayFactor } = h;
  const m = state.exp_avg!;
  const v = state.exp_avg_sq!;
  const vmax = state.max_exp_avg_sq;
  const input = (i: number): [p: number, d: number] => {
    const p = param[i]!;
    const d = defines.MAXIMIZE ? -grad[i]! : grad[i]!;
    if (defines.DECOUPLED) return [fr(p * decayFactor), d];
    return [p, weightDecay !== 0 ? fr(d + fr(weightDecay * p)) : d];
  };
  const moment = (i: number, d: number) => fr(fr(m[i]! * beta1) + fr(oneMinusBeta1 * d));
  // Cautious: the twin is called on whole tensors (the definition declares the per-tensor sums).
  const scale = defines.CAUTIOUS
    ? meanClampedScale(
        cautiousCounts('adam', param, begin, end, (i) => {
          const d = input(i)[1];
          return agreeInSign(moment(i, d), d);
        }),
      )
    : 1;
  for (let i = begin; i < end; i++) {
    const [p, d] = input(i);
    const mi = moment(i, d);
    const vi = fr(fr(v[i]! * beta2) + fr(fr(oneMinusBeta2 * d) * d));
    m[i] = mi;
    v[i] = vi;
    let w = vi;
    if (defines.AMSGRAD) {
      w = maximum(vmax![i]!, vi);
      vmax![i] = w;
    }
    const denom = fr(fr(fr(Math.sqrt(w)) / bc2Sqrt) + eps);
    const u = defines.CAUTIOUS ? fr(mi * (agreeInSign(mi, d) ? scale : 0)) : mi;
    param[i] = fr(p + fr(fr(negStepSize * u) / denom));
  }
};
