import { MUON_ADAMW_DEFAULTS } from '../../../src/optimizers/muon/hybrid.js';
import { muonStep64 } from '../muon-float64.js';
import { testRecord } from './record.js';

/**
 * A flat tensor of n elements as the suites give Muon: the most nearly square matrix [d, n / d]
 * (d the largest divisor ≤ √n, d > 1), or the vector [n] when n is 1 or prime, which AdamW takes
 * (every row passes `adamw`): ODD_SIZES give 1, 3 and 100 003 to AdamW and 7 × 9, 8 × 8, 5 × 13,
 * 25 × 40 to Muon, so one set holds both.
 */
export function muonShape(n: number): number[] {
  for (let d = Math.floor(Math.sqrt(n)); d > 1; d--) if (n % d === 0) return [d, n / d];
  return [n];
}

/** torch.optim.AdamW in float64 over a whole tensor (the hybrid's rule for vectors). */
function adamw64(o: Record<string, any>, p: number[], g: ArrayLike<number>, s: Record<string, number[]>, t: number): void {
  const a = { ...MUON_ADAMW_DEFAULTS, ...(o.adamw ?? {}) };
  const [b1, b2] = a.betas;
  s.m ??= p.map(() => 0);
  s.v ??= p.map(() => 0);
  p.forEach((pi, i) => {
    const decayed = pi * (1 - a.lr * a.weightDecay);
    s.m![i] = b1 * s.m![i]! + (1 - b1) * g[i]!;
    s.v![i] = b2 * s.v![i]! + (1 - b2) * g[i]! ** 2;
    p[i] = decayed - ((a.lr / (1 - b1 ** t)) * s.m![i]!) / (Math.sqrt(s.v![i]!) / Math.sqrt(1 - b2 ** t) + a.eps);
  });
}

/**
 * Muon with AdamW beside it: every row passes `adamw`, so the suites' vectors take AdamW and the
 * matrices `muonShape` makes take Muon (torch.optim.Muon's recipe in float64, muon-float64.ts).
 */
export const muon = testRecord('muon', {
  rows: [
    { adamw: {} },
    { lr: 0.02, nesterov: false, weightDecay: 0, adamw: { lr: 0.01 } },
    { lr: 0.01, momentum: 0.9, nsSteps: 3, adjustLrFn: 'match_rms_adamw', adamw: { betas: [0.8, 0.99], weightDecay: 0 } },
    { lr: 0.01, momentum: 0.5, nsSteps: 2, nsCoefficients: [[4.0848, -6.8946, 2.927], [3.9505, -6.3029, 2.6377]], eps: 1e-3, weightDecay: 0.01, adamw: { lr: 0.003, betas: [0.85, 0.95], eps: 1e-6, weightDecay: 0.1 } },
  ],
  // ‖U‖ of the test gradients is ~0.1–100: eps = 100 floors most; AdamW's eps 0.1 is far above √v̂.
  epsSensitive: { eps: 100, lr: 0.1, adamw: { eps: 0.1 } },
  twin: {
    tensor(o, p, g, s, t, shape) {
      if (shape.length < 2) return adamw64(o, p, g, s, t);
      const state = { buf: s.buf };
      muonStep64(o, p, g, state, shape);
      s.buf = state.buf!;
    },
  },
  twinSlots: { momentum_buffer: 'buf', exp_avg: 'm', exp_avg_sq: 'v' },
  shapes: (sizes) => sizes.map(muonShape),
  noQ8: () => true,
  convergence: { moons: { options: { lr: 0.02, adamw: { lr: 0.01 } } }, digits: { options: { lr: 0.02, adamw: { lr: 0.003 } } } },
});
