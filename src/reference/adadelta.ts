import type { ReferenceUpdate } from '../optimizers/definition.js';

const fr = Math.fround;

/** CPU twin of shaders/adadelta.wgsl; scalars: negLr, weightDecay, rho, oneMinusRho, eps. */
export const adadeltaReference: ReferenceUpdate = ({ param, grad, state, scalars, defines, begin, end }) => {
  const [negLr, weightDecay, rho, oneMinusRho, eps] = scalars as unknown as number[];
  const sq = state.square_avg!;
  const acc = state.acc_delta!;
  for (let i = begin; i < end; i++) {
    const p = param[i]!;
    let d = defines.MAXIMIZE ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) d = fr(d + fr(weightDecay! * p));
    const s = fr(fr(sq[i]! * rho!) + fr(fr(oneMinusRho! * d) * d));
    sq[i] = s;
    const std = fr(Math.sqrt(fr(s + eps!)));
    const a = acc[i]!;
    const delta = fr(fr(fr(Math.sqrt(fr(a + eps!))) / std) * d);
    acc[i] = fr(fr(a * rho!) + fr(fr(oneMinusRho! * delta) * delta));
    param[i] = fr(p + fr(negLr! * delta));
  }
};
