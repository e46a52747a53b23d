import { testRecord } from './record.js';

export const rprop = testRecord('rprop', {
  rows: [{}, { etas: [0.3, 1.5], stepSizes: [1e-3, 0.05] }, { maximize: true, lr: 0.1 }],
  twin(o, p, g, s) {
    const [etaMinus, etaPlus] = o.etas ?? [0.5, 1.2], [lo, hi] = o.stepSizes ?? [1e-6, 50];
    if (o.maximize) g = -g;
    const product = g * (s.prev ?? 0);
    s.step = Math.min(Math.max((s.step ?? o.lr ?? 1e-2) * (product > 0 ? etaPlus : product < 0 ? etaMinus : 1), lo), hi);
    if (product < 0) g = 0;
    s.prev = g;
    return p - Math.sign(g) * s.step;
  },
  twinSlots: { prev: 'prev', step_size: 'step' },
  convergence: { moons: { options: { lr: 0.01 }, batch: 0 }, digits: { options: { lr: 0.001 }, batch: 0 } },
});
