import { trust } from './float64.js';
import { testRecord } from './record.js';

export const lamb = testRecord('lamb', {
  rows: [{ lr: 0.01 }, { lr: 0.01, weightDecay: 0.01 }, { lr: 0.003, betas: [0.8, 0.99], eps: 1e-3 }, { lr: 0.02, weightDecay: 0.1, eps: 1e-8, betas: [0.85, 0.95] }],
  epsSensitive: { lr: 0.01, eps: 0.1 },
  // optax.lamb: scale_by_adam, add_decayed_weights, scale_by_trust_ratio, scale_by_learning_rate.
  twin: {
    tensor(o, p, g, s, t) {
      const [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-6, wd = o.weightDecay ?? 0;
      s.m ??= p.map(() => 0);
      s.v ??= p.map(() => 0);
      const u = p.map((pi, i) => {
        s.m![i] = (1 - b1) * g[i]! + b1 * s.m![i]!;
        s.v![i] = (1 - b2) * g[i]! ** 2 + b2 * s.v![i]!;
        return s.m![i]! / (1 - b1 ** t) / (Math.sqrt(s.v![i]! / (1 - b2 ** t)) + eps) + wd * pi;
      });
      const r = trust(p, u, 1, 0);
      p.forEach((_, i) => (p[i] = p[i]! - o.lr * r * u[i]!));
    },
  },
  twinSlots: { exp_avg: 'm', exp_avg_sq: 'v' },
  // Layer-wise: lr is the step relative to each tensor's norm.
  convergence: { moons: { options: { lr: 0.02 } } },
});
