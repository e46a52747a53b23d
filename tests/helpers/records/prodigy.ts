import { createProdigyReference, type ProdigyReference } from '../../../src/optimizers/prodigy/reference.js';
import { testRecord } from './record.js';

/** The float64 Prodigy of each twin state object (one per run: the suites start a run at t = 1). */
const runs = new WeakMap<object, ProdigyReference>();

/**
 * Prodigy (the authors' prodigyopt, 3efb213) in float64: reference.ts's 'f64' arithmetic, the
 * published algorithm with sums left to right. d is one estimate over the whole set, so this twin
 * steps one tensor as a whole set of its own (the suites that use it step one tensor); its state
 * is copied into `s` under the PyTorch slot names after every step.
 */
export const prodigy = testRecord('prodigy', {
  rows: [
    {},
    { weightDecay: 0.1 },
    { weightDecay: 0.1, decouple: false },
    { useBiasCorrection: true, lr: 0.5 },
    { safeguardWarmup: true, lr: 0.5 },
    { growthRate: 1.02, d0: 1e-4, dCoef: 0.5 },
    { betas: [0.8, 0.99], beta3: 0.9, weightDecay: 0.05, decouple: false, useBiasCorrection: true, safeguardWarmup: true, d0: 1e-4, dCoef: 2, growthRate: 1.5 },
  ],
  // √v is about d·|g|·√(1 − β₂) (|g| 0.01…10): eps 0.1 next to it, times d as the authors add it.
  epsSensitive: { eps: 0.1, betas: [0, 0.99] },
  twin: {
    tensor(o, p, g, s, t) {
      let run = runs.get(s);
      if (run === undefined || t === 1) {
        run = createProdigyReference({ params: [p], options: o, precision: 'f64' });
        runs.set(s, run);
      }
      run.step([g]);
      p.splice(0, p.length, ...run.params[0]!);
      const state = run.tensorState(0);
      s.s = Array.from(state.s);
      s.p0 = Array.from(state.p0);
      s.exp_avg_sq = Array.from(state.exp_avg_sq);
      if (state.exp_avg !== undefined) s.exp_avg = Array.from(state.exp_avg);
    },
  },
  // lr scales the one d of the set and must be the same in every group; weight decay is a group's own.
  groupOption: 'weightDecay',
  // s and p0 are not moving averages of the gradient: createOptimizer refuses stateFormat 'q8' (noQ8State).
  noQ8: () => true,
  twinSlots: { exp_avg: 'exp_avg', exp_avg_sq: 'exp_avg_sq', s: 's', p0: 'p0' },
  // lr 1, the authors' recommendation; digits (about 20 steps) from d0 1e-3, as d0 1e-6 takes longer to grow.
  convergence: { moons: { options: {} }, digits: { options: { d0: 1e-3 } } },
});
