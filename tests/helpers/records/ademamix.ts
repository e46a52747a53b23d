import { testRecord } from './record.js';

/**
 * AdEMAMix in float64 from the paper's Algorithm 1 (Pagliardini et al. 2024, arXiv:2409.03137),
 * with its schedulers in closed form: α(t) = min(tα/T_α, α) and
 * β₃(t) = min(exp(ln β₁ · ln β₃ / ((1 − t/T) ln β₃ + (t/T) ln β₁)), β₃) (linear in the half-life).
 */
export const ademamix = testRecord('ademamix', {
  rows: [
    {},
    { alphaWarmup: 4, beta3Warmup: 6 },
    { betas: [0, 0.99, 0.999] },
    { weightDecay: 0.1, lr: 0.01, alpha: 8 },
    { lr: 0.01, betas: [0.8, 0.99, 0.995], alpha: 5, alphaWarmup: 3, beta3Warmup: 5, weightDecay: 0.01 },
  ],
  epsSensitive: { eps: 0.1 },
  twin(o, p, g, s, t) {
    const lr = o.lr ?? 1e-3, [b1, b2, b3] = o.betas ?? [0.9, 0.999, 0.9999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
    const alphaEnd = o.alpha ?? 2, tAlpha = o.alphaWarmup ?? null, tBeta3 = o.beta3Warmup ?? null;
    const alpha = tAlpha === null ? alphaEnd : Math.min((t * alphaEnd) / tAlpha, alphaEnd);
    const beta3 = tBeta3 === null ? b3 : Math.min(Math.exp((Math.log(b1) * Math.log(b3)) / ((1 - t / tBeta3) * Math.log(b3) + (t / tBeta3) * Math.log(b1))), b3);
    s.m1 = b1 * (s.m1 ?? 0) + (1 - b1) * g;
    s.m2 = beta3 * (s.m2 ?? 0) + (1 - beta3) * g;
    s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
    const m1hat = s.m1 / (1 - b1 ** t);
    const vhat = s.v / (1 - b2 ** t);
    return p - lr * ((m1hat + alpha * s.m2) / (Math.sqrt(vhat) + eps) + wd * p);
  },
  twinSlots: { exp_avg_fast: 'm1', exp_avg_slow: 'm2', exp_avg_sq: 'v' },
  convergence: { moons: { options: { lr: 0.01 } }, digits: { options: { lr: 0.003 } } },
});
