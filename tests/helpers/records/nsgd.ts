import { testRecord } from './record.js';

/** The test-only normalized SGD (tests/helpers/nsgd): a pass of its own, through the public pass contract. */
export const nsgd = testRecord('nsgd', {
  rows: [{}, { lr: 0.05 }, { lr: 0.1, eps: 1e-6 }],
  // The eps floor matters once it exceeds the small tensors' gradient norms (~0.01).
  epsSensitive: { lr: 0.05, eps: 1 },
  // p − lr·g/max(‖g‖, eps), in float64.
  twin: {
    tensor(o, p, g) {
      const lr = o.lr ?? 1e-2, eps = o.eps ?? 1e-8;
      const norm = Math.max(Math.sqrt(g.reduce((n, x) => n + x * x, 0)), eps);
      p.forEach((pi, i) => (p[i] = pi - (lr * g[i]!) / norm));
    },
  },
  twinSlots: {},
  convergence: { moons: { options: { lr: 0.05 } } },
  f32StateOnly: 'it keeps no per-element state',
});
