import type { ReferenceUpdate } from '../../core/definition.js';
import { fr, lerp } from '../../core/twin-math.js';
import type { ScheduleFreeScalar } from './definition.js';

/** CPU twin of adamw_schedule_free.wgsl (the step, on y and z), every operation rounded to f32. */
export const scheduleFreeReference: ReferenceUpdate<ScheduleFreeScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  const { beta2, oneMinusBeta2, bc2, innerMomentum, oneMinusInnerMomentum, bc1, eps, weightDecay, ckp1, yCoefficient, negLr } = h;
  const z = state.z!;
  const v = state.exp_avg_sq!;
  const m = defines.INNER_MOMENTUM && innerMomentum !== 0 ? state.exp_avg! : undefined;
  for (let i = begin; i < end; i++) {
    const y = param[i]!;
    const g = grad[i]!;
    const vi = fr(fr(v[i]! * beta2) + fr(fr(oneMinusBeta2 * g) * g));
    v[i] = vi;
    const denom = fr(fr(Math.sqrt(fr(vi / bc2))) + eps);
    let gn: number;
    if (m) {
      const mi = fr(fr(m[i]! * innerMomentum) + fr(oneMinusInnerMomentum * g));
      m[i] = mi;
      gn = fr(fr(mi / bc1) / denom);
    } else {
      gn = fr(g / denom);
    }
    if (weightDecay !== 0) gn = fr(gn + fr(weightDecay * y));
    const zi = z[i]!;
    param[i] = fr(lerp(y, zi, ckp1) + fr(yCoefficient * gn));
    z[i] = fr(zi + fr(negLr * gn));
  }
};
