import { cautiousTwin, numelOverSumPlusOne } from './cautious.js';
import { testRecord } from './record.js';

const lionTwins = cautiousTwin((o, p, g, s) => {
  const lr = o.lr ?? 1e-4, [b1, b2] = o.betas ?? [0.9, 0.99], wd = o.weightDecay ?? 0;
  const c = b1 * (s.m ?? 0) + (1 - b1) * g;
  s.m = b2 * (s.m ?? 0) + (1 - b2) * g;
  return { direction: Math.sign(c), signal: g, land: (scale) => p * (1 - lr * wd) - lr * Math.sign(c) * scale };
}, numelOverSumPlusOne);

export const lion = testRecord('lion', {
  rows: [{}, { betas: [0.5, 0.9] }, { cautious: true }, { lr: 0.01, weightDecay: 0.5, betas: [0.95, 0.98], cautious: true }],
  twin: lionTwins.tensor,
  twinSlots: { exp_avg: 'm' },
  noQ8: (row) => row.cautious === true,
  convergence: { moons: { options: { lr: 0.001 } }, digits: { options: { lr: 0.003 } } },
});
