import { testRecord } from './record.js';

export const adagrad = testRecord('adagrad', {
  rows: [{}, { lrDecay: 0.01 }, { weightDecay: 0.1 }, { initialAccumulatorValue: 0.1 }, { maximize: true, eps: 1e-6, lrDecay: 0.1 }],
  epsSensitive: { eps: 0.1 },
  twin(o, p, g, s, t) {
    const lr = o.lr ?? 1e-2, decay = o.lrDecay ?? 0, wd = o.weightDecay ?? 0, eps = o.eps ?? 1e-10;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    const clr = lr / (1 + (t - 1) * decay);
    const sum = (s.sum ?? o.initialAccumulatorValue ?? 0) + g * g;
    s.sum = sum;
    return p - (clr * g) / (Math.sqrt(sum) + eps);
  },
  twinSlots: { sum: 'sum' },
  convergence: { moons: { options: { lr: 0.1 } } },
});
