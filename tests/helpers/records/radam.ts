import { testRecord } from './record.js';

export const radam = testRecord('radam', {
  // betas[1] 0.9: ρₜ > 5 from step 6 on, so 10 steps cover both branches.
  rows: [{}, { betas: [0.9, 0.9] }, { weightDecay: 0.1, betas: [0.8, 0.9] }, { decoupledWeightDecay: true, weightDecay: 0.1, lr: 0.01, betas: [0.9, 0.9], eps: 1e-3 }],
  epsSensitive: { betas: [0.9, 0.9], eps: 0.1 },
  twin(o, p, g, s, t) {
    const lr = o.lr ?? 1e-3, [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
    if (o.decoupledWeightDecay) p *= 1 - lr * wd;
    else if (wd) g += wd * p;
    s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
    s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
    const mhat = s.m / (1 - b1 ** t);
    const rhoInf = 2 / (1 - b2) - 1;
    const rhoT = rhoInf - (2 * t * b2 ** t) / (1 - b2 ** t);
    if (rhoT <= 5) return p - lr * mhat;
    const rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
    return p - lr * mhat * rect * (Math.sqrt(1 - b2 ** t) / (Math.sqrt(s.v) + eps));
  },
  twinSlots: { exp_avg: 'm', exp_avg_sq: 'v' },
  convergence: { moons: { options: { lr: 0.01 } }, digits: { options: { lr: 0.1 } } },
});
