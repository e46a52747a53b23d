import { testRecord } from './record.js';

export const nadam = testRecord('nadam', {
  rows: [{}, { momentumDecay: 0.05, betas: [0.8, 0.99] }, { weightDecay: 0.1, eps: 1e-3 }, { decoupledWeightDecay: true, weightDecay: 0.1, lr: 0.01 }],
  epsSensitive: { eps: 0.1 },
  twin(o, p, g, s, t) {
    const lr = o.lr ?? 2e-3, [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0, psi = o.momentumDecay ?? 4e-3;
    if (o.decoupledWeightDecay) p *= 1 - lr * wd;
    else if (wd) g += wd * p;
    const mu = (k: number) => b1 * (1 - 0.5 * 0.96 ** (k * psi));
    s.mp = (s.mp ?? 1) * mu(t);
    const mpNext = s.mp * mu(t) * mu(t + 1); // PyTorch 1.13 counts μₜ twice here
    s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
    s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
    const denom = Math.sqrt(s.v / (1 - b2 ** t)) + eps;
    return p - (lr * (1 - mu(t)) / (1 - s.mp)) * (g / denom) - (lr * mu(t + 1) / (1 - mpNext)) * (s.m / denom);
  },
  twinSlots: { exp_avg: 'm', exp_avg_sq: 'v', mu_product: 'mp' },
  convergence: { moons: { options: { lr: 0.01 } }, digits: { options: { lr: 0.005 } } },
});
