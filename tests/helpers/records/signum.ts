import { testRecord } from './record.js';

/** The test-only Signum (tests/helpers/signum), recorded as a built-in optimizer is. */
export const signum = testRecord('signum', {
  rows: [{}, { momentum: 0 }, { lr: 0.01, momentum: 0.5 }, { weightDecay: 0.1 }, { lr: 0.003, momentum: 0.8, weightDecay: 0.01, maximize: true }],
  // Bernstein et al. 2018, Algorithm 3, in float64.
  twin(o, p, g, s) {
    const lr = o.lr ?? 1e-3, beta = o.momentum ?? 0.9, wd = o.weightDecay ?? 0;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    s.m = beta * (s.m ?? 0) + (1 - beta) * g;
    return p - lr * Math.sign(s.m);
  },
  twinSlots: { momentum_buffer: 'm' },
  convergence: { moons: { options: { lr: 0.01 } } },
});
