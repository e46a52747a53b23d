import type { ReferenceUpdate } from '../optimizers/definition.js';

const fr = Math.fround;

/** CPU twin of shaders/adagrad.wgsl; scalars: negClr, weightDecay, eps. */
export const adagradReference: ReferenceUpdate = ({ param, grad, state, scalars, defines, begin, end }) => {
  const [negClr, weightDecay, eps] = scalars as unknown as number[];
  const sum = state.sum!;
  for (let i = begin; i < end; i++) {
    const p = param[i]!;
    let d = defines.MAXIMIZE ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) d = fr(d + fr(weightDecay! * p));
    const s = fr(sum[i]! + fr(d * d));
    sum[i] = s;
    const std = fr(fr(Math.sqrt(s)) + eps!);
    param[i] = fr(p + fr(fr(negClr! * d) / std));
  }
};
