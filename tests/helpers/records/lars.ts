import { trust } from './float64.js';
import { testRecord } from './record.js';

export const lars = testRecord('lars', {
  rows: [
    { lr: 0.5 },
    { lr: 0.5, weightDecay: 0.01 },
    { lr: 0.1, trustCoefficient: 0.02, eps: 1e-6, momentum: 0.5 },
    { lr: 0.2, trustCoefficient: 0.01, eps: 1e-4, momentum: 0.8, nesterov: true, weightDecay: 0.1 },
  ],
  epsSensitive: { lr: 0.5, eps: 1 },
  // optax.lars: add_decayed_weights, scale_by_trust_ratio, scale_by_learning_rate, trace.
  twin: {
    tensor(o, p, g, s) {
      const wd = o.weightDecay ?? 0, eta = o.trustCoefficient ?? 0.001, eps = o.eps ?? 0, mu = o.momentum ?? 0.9;
      s.trace ??= p.map(() => 0);
      const u = p.map((pi, i) => g[i]! + wd * pi);
      const r = o.trustRatio === false ? 1 : trust(p, u, eta, eps);
      p.forEach((_, i) => {
        const step = -o.lr * r * u[i]!;
        s.trace![i] = step + mu * s.trace![i]!;
        p[i] = p[i]! + (o.nesterov ? step + mu * s.trace![i]! : s.trace![i]!);
      });
    },
  },
  twinSlots: { trace: 'trace' },
  // Layer-wise: lr is the step relative to each tensor's norm, times η = 0.001.
  convergence: { moons: { options: { lr: 2 } } },
});
