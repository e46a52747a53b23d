import { testRecord } from './record.js';

export const rmsprop = testRecord('rmsprop', {
  rows: [{}, { centered: true }, { momentum: 0.9 }, { centered: true, momentum: 0.9 }, { weightDecay: 0.01, alpha: 0.9 }, { maximize: true, eps: 1e-6 }],
  epsSensitive: { eps: 0.1 },
  twin(o, p, g, s) {
    const lr = o.lr ?? 1e-2, a = o.alpha ?? 0.99, eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0, mu = o.momentum ?? 0;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    s.v = a * (s.v ?? 0) + (1 - a) * g * g;
    let vt = s.v;
    if (o.centered) {
      s.ga = a * (s.ga ?? 0) + (1 - a) * g;
      vt = s.v - s.ga * s.ga;
    }
    const avg = Math.sqrt(vt) + eps;
    if (mu > 0) {
      s.b = mu * (s.b ?? 0) + g / avg;
      return p - lr * s.b;
    }
    return p - (lr * g) / avg;
  },
  twinSlots: { square_avg: 'v', grad_avg: 'ga', momentum_buffer: 'b' },
  convergence: { moons: { options: { lr: 0.005 } } },
});
