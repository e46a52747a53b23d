import { cautiousTwin, meanClamped, type CautiousElement } from './cautious.js';
import { testRecord } from './record.js';

/** torch.optim.Adam in float64 (AdamW's twin runs it on the decayed parameter), split at the cautious mask. */
const adamStep: CautiousElement = (o, p, g, s, t) => {
  const lr = o.lr ?? 1e-3, [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
  if (o.maximize) g = -g;
  if (wd) g += wd * p;
  s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
  s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
  const mhat = s.m / (1 - b1 ** t);
  s.vmax = Math.max(s.vmax ?? 0, s.v);
  const vhat = (o.amsgrad ? s.vmax : s.v) / (1 - b2 ** t);
  return { direction: s.m, signal: g, land: (scale) => p - (lr * mhat * scale) / (Math.sqrt(vhat) + eps) };
};

const adamTwins = cautiousTwin(adamStep, meanClamped);
/** The element-wise float64 Adam (cautious off). */
export const adamElementTwin = adamTwins.element;

export const adam = testRecord('adam', {
  rows: [
    {},
    { amsgrad: true },
    { weightDecay: 0.01 },
    { maximize: true },
    { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6 },
    { cautious: true, weightDecay: 0.01 },
    { amsgrad: true, weightDecay: 0.1, maximize: true, cautious: true },
  ],
  epsSensitive: { eps: 0.1 },
  twin: adamTwins.tensor,
  twinSlots: { exp_avg: 'm', exp_avg_sq: 'v', max_exp_avg_sq: 'vmax' },
  noQ8: (row) => row.cautious === true,
  convergence: { moons: { options: { lr: 0.01 } } },
});

const adamwTwins = cautiousTwin((o, p, g, s, t) => {
  const lr = o.lr ?? 1e-3, wd = o.weightDecay ?? 1e-2;
  return adamStep({ ...o, weightDecay: 0 }, p * (1 - lr * wd), g, s, t);
}, meanClamped);

export const adamw = testRecord('adamw', {
  rows: [{}, { amsgrad: true }, { weightDecay: 0 }, { cautious: true, lr: 0.01 }, { maximize: true, weightDecay: 0.1, lr: 0.01, cautious: true }],
  epsSensitive: { eps: 0.1 },
  twin: adamwTwins.tensor,
  twinSlots: { exp_avg: 'm', exp_avg_sq: 'v', max_exp_avg_sq: 'vmax' },
  noQ8: (row) => row.cautious === true,
  convergence: { moons: { options: { lr: 0.01 } } },
});
