import { testRecord } from './record.js';

export const adadelta = testRecord('adadelta', {
  rows: [{}, { rho: 0.95, eps: 1e-5 }, { weightDecay: 0.1 }, { maximize: true, lr: 0.5 }],
  epsSensitive: { eps: 0.01 },
  twin(o, p, g, s) {
    const lr = o.lr ?? 1, rho = o.rho ?? 0.9, eps = o.eps ?? 1e-6, wd = o.weightDecay ?? 0;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    s.v = rho * (s.v ?? 0) + (1 - rho) * g * g;
    const dx = (Math.sqrt((s.u ?? 0) + eps) / Math.sqrt(s.v + eps)) * g;
    s.u = rho * (s.u ?? 0) + (1 - rho) * dx * dx;
    return p - lr * dx;
  },
  twinSlots: { square_avg: 'v', acc_delta: 'u' },
  convergence: { moons: { options: { lr: 1 } } },
});
