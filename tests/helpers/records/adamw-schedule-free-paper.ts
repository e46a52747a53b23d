import { testRecord } from './record.js';

export const adamwScheduleFreePaper = testRecord('adamw_schedule_free_paper', {
  rows: [{}, { warmupSteps: 4 }, { weightDecay: 0.1, r: 1, weightLrPower: 1, betas: [0.8, 0.99] }, { lr: 0.01, eps: 1e-3, warmupSteps: 3 }],
  epsSensitive: { eps: 0.1 },
  twin(o, p, g, s, t) {
    const lr = o.lr ?? 0.0025, [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
    const warmup = o.warmupSteps ?? 0, r = o.r ?? 0, power = o.weightLrPower ?? 2;
    const lrAt = (k: number) => lr * (k - 1 < warmup ? k / warmup : 1) * Math.sqrt(1 - b2 ** k);
    let lrMax = -1, weight = 0, weightSum = 0;
    for (let k = 1; k <= t; k++) {
      lrMax = Math.max(lrAt(k), lrMax);
      weight = k ** r * lrMax ** power;
      weightSum += weight;
    }
    const ckp1 = weightSum === 0 ? 0 : weight / weightSum;
    if (s.z === undefined) s.z = p;
    s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
    const gn = g / (Math.sqrt(s.v) + eps) + wd * p;
    const y = p + ckp1 * (s.z - p) + lrAt(t) * (b1 * (1 - ckp1) - 1) * gn;
    s.z -= lrAt(t) * gn;
    return y;
  },
  twinSlots: { z: 'z', exp_avg_sq: 'v' },
  convergence: { moons: { options: { lr: 0.01 } }, digits: { options: { lr: 0.005 } } },
});
