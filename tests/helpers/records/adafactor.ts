import { norm } from './float64.js';
import { testRecord } from './record.js';

export const adafactor = testRecord('adafactor', {
  rows: [
    {},
    { lr: 0.05, weightDecay: 0.1 },
    { eps: [1e-30, 1e-3], beta2Decay: -0.5, d: 2 },
    { maximize: true, eps: [1e-6, 0.01], lr: 0.02, weightDecay: 0.01, beta2Decay: -0.6 },
  ],
  epsSensitive: { eps: [0.1, 1] },
  // torch.optim.Adafactor (PyTorch 2.5+) from its documented algorithm, in float64.
  twin: {
    tensor(o, p, g0, s, t, shape) {
      const lr = o.lr ?? 1e-2, tau = o.beta2Decay ?? -0.8, e1 = o.eps?.[0] ?? 2 ** -23, e2 = o.eps?.[1] ?? 1e-3, d = o.d ?? 1, wd = o.weightDecay ?? 0;
      const g = Array.from(g0, (x) => (o.maximize ? -x : x));
      const n = p.length, w = t ** tau, rho = Math.min(lr, 1 / Math.sqrt(t));
      const lerp = (a: number, b: number) => a + w * (b - a);
      const alpha = Math.max(e2, norm(p) / Math.sqrt(n)) * rho;
      if (wd) p.forEach((_, i) => (p[i] = p[i]! * (1 - lr * wd)));
      let estimate: (e: number) => number;
      if (shape.length >= 2) {
        const C = shape.at(-1)!, R = shape.at(-2)!, B = n / (R * C);
        s.row ??= new Array(B * R).fill(0);
        s.col ??= new Array(B * C).fill(0);
        const mean = (idx: (j: number) => number, count: number) => Array.from({ length: count }, (_, j) => g[idx(j)]! ** 2).reduce((a, v) => a + v, 0) / count;
        const means: number[] = [];
        for (let b = 0; b < B; b++) {
          for (let r = 0; r < R; r++) s.row[b * R + r] = lerp(s.row[b * R + r]!, mean((c) => (b * R + r) * C + c, C));
          for (let c = 0; c < C; c++) s.col[b * C + c] = lerp(s.col[b * C + c]!, mean((r) => (b * R + r) * C + c, R));
          means.push(Math.max(s.row.slice(b * R, (b + 1) * R).reduce((a, v) => a + v, 0) / R, e1));
        }
        estimate = (e) => (s.row![Math.floor(e / C)]! * s.col![Math.floor(e / (R * C)) * C + (e % C)]!) / means[Math.floor(e / (R * C))]!;
      } else {
        s.v ??= new Array(n).fill(0);
        g.forEach((x, e) => (s.v![e] = lerp(s.v![e]!, x * x)));
        estimate = (e) => s.v![e]!;
      }
      const u = g.map((x, e) => x / Math.sqrt(Math.max(estimate(e), e1 * e1)));
      const denom = Math.max(1, norm(u) / (Math.sqrt(n) * d));
      p.forEach((_, i) => (p[i] = p[i]! - (alpha / denom) * u[i]!));
    },
  },
  twinSlots: { variance: 'v', row_var: 'row', col_var: 'col' },
  convergence: { moons: { options: { lr: 0.01 } } },
  f32StateOnly: "Adafactor's state is factored (row and column factors) and stays f32",
});
