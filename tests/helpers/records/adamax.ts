import { testRecord } from './record.js';

export const adamax = testRecord('adamax', {
  rows: [{}, { weightDecay: 0.01 }, { lr: 0.01, betas: [0.8, 0.99], eps: 1e-3 }, { maximize: true, weightDecay: 0.1 }],
  epsSensitive: { eps: 0.1 },
  twin(o, p, g, s, t) {
    const lr = o.lr ?? 2e-3, [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
    s.u = Math.max(b2 * (s.u ?? 0), Math.abs(g) + eps);
    return p - (lr / (1 - b1 ** t)) * (s.m / s.u);
  },
  twinSlots: { exp_avg: 'm', exp_inf: 'u' },
  convergence: { moons: { options: { lr: 0.02 } }, digits: { options: { lr: 0.01 } } },
});
