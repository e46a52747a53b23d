import { defineOptimizer } from '../../core/definition.js';
import { is } from '../../core/validate.js';
import { rpropReference } from './reference.js';
import source from './rprop.wgsl?raw';

/** torch.optim.Rprop options. */
export interface RpropOptions {
  lr: number;
  etas: readonly [number, number];
  stepSizes: readonly [number, number];
  maximize: boolean;
}

export type RpropScalar = 'etaMinus' | 'etaPlus' | 'stepSizeMin' | 'stepSizeMax';

/**
 * Rprop (torch.optim.Rprop), resilient backpropagation: each element keeps its own step size,
 * multiplied by η₊ while the gradient keeps its sign and by η₋ when it flips (that step then
 * moves nothing and forgets the gradient), clamped to `stepSizes`; `p −= sign(g)·step`. `lr` is
 * the initial step size. Meant for full-batch training. Riedmiller & Braun 1993,
 * https://doi.org/10.1109/ICNN.1993.298623
 */
export const rprop = defineOptimizer<RpropOptions, RpropScalar>({
  name: 'rprop',
  kernel: { name: 'rprop', source },
  defaults: { lr: 1e-2, etas: [0.5, 1.2], stepSizes: [1e-6, 50], maximize: false },
  required: [],
  structural: ['maximize'],
  checks: { lr: is.nonNegative, etas: is.pair, stepSizes: is.pair, maximize: is.boolean },
  validate(o) {
    const [minus, plus] = o.etas;
    if (!(0 < minus && minus < 1 && 1 < plus && Number.isFinite(Math.fround(plus)))) {
      throw new RangeError(`webgpu-optim: rprop: etas must satisfy 0 < etas[0] < 1 < etas[1], got [${o.etas}]`);
    }
    const [low, high] = o.stepSizes;
    if (!(low >= 0 && low <= high && Number.isFinite(Math.fround(high)))) {
      throw new RangeError(`webgpu-optim: rprop: stepSizes must satisfy 0 <= stepSizes[0] <= stepSizes[1], finite, got [${o.stepSizes}]`);
    }
  },
  defines: (groups) => ({ MAXIMIZE: groups[0]!.maximize }),
  slots: () => [
    { name: 'prev', wgsl: 'prev' },
    { name: 'step_size', wgsl: 'stepSize', nonNegative: true },
  ],
  groupSlots: () => ['prev', 'step_size'],
  initialValue: (slot, o) => (slot === 'step_size' ? o.lr : 0),
  scalars: {
    etaMinus: { doc: 'f(η₋)', value: (o) => o.etas[0] },
    etaPlus: { doc: 'f(η₊)', value: (o) => o.etas[1] },
    stepSizeMin: { doc: 'f(smallest step size)', value: (o) => o.stepSizes[0] },
    stepSizeMax: { doc: 'f(largest step size)', value: (o) => o.stepSizes[1] },
  },
  reference: rpropReference,
});
