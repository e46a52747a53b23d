import { testRecord } from './record.js';

export const sgd = testRecord('sgd', {
  rows: [
    { lr: 0.1 },
    { lr: 0.1, momentum: 0.9 },
    { lr: 0.1, momentum: 0.9, dampening: 0.5 },
    { lr: 0.1, momentum: 0.9, nesterov: true },
    { lr: 0.1, weightDecay: 0.01 },
    { lr: 0.05, momentum: 0.9, weightDecay: 0.01, maximize: true },
    { lr: 0.05, momentum: 0.5, nesterov: true, maximize: true, weightDecay: 0.1 },
  ],
  twin(o, p, g, s, t) {
    const lr = o.lr, mu = o.momentum ?? 0, tau = o.dampening ?? 0, wd = o.weightDecay ?? 0;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    if (mu) {
      s.b = t === 1 ? g : mu * s.b! + (1 - tau) * g;
      g = o.nesterov ? g + mu * s.b : s.b;
    }
    return p - lr * g;
  },
  twinSlots: { momentum_buffer: 'b' },
  convergence: { moons: { options: { lr: 0.5, momentum: 0.9 } } },
});

export const emaMomentum = testRecord('ema_momentum', {
  rows: [{}, { lr: 0.05, beta: 0.8, weightDecay: 0.01, maximize: true }],
  twin(o, p, g, s) {
    const lr = o.lr ?? 0.01, beta = o.beta ?? 0.9, wd = o.weightDecay ?? 0;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    s.v = beta * (s.v ?? 0) + (1 - beta) * g;
    return p - lr * s.v;
  },
  twinSlots: { momentum_buffer: 'v' },
  convergence: { moons: { options: { lr: 1, beta: 0.9 } } },
});
