/**
 * Normalized SGD, a test-only optimizer with a pass of its own: `p = p − lr · g / max(‖g‖, eps)`,
 * ‖g‖ the norm of each tensor's gradient. The tests register it from outside src and run it
 * through every registry-driven suite; its pass (tensor-grad-squares.ts) is written against the
 * public pass contract alone, which is the point: a new kind of pass touches no engine file.
 */
import { defineOptimizer, optionChecks } from '../../../src/index.js';
import { nsgdReference } from './reference.js';
import { tensorGradSquaresPass } from './tensor-grad-squares.js';
import source from './nsgd.wgsl?raw';

export interface NsgdOptions {
  lr: number;
  /** Floor of each tensor's gradient norm (a zero gradient then takes no step). */
  eps: number;
}

export type NsgdScalar = 'negLr' | 'eps';

export const nsgd = defineOptimizer<NsgdOptions, NsgdScalar>({
  name: 'nsgd',
  kernel: { name: 'nsgd', source },
  defaults: { lr: 1e-2, eps: 1e-8 },
  required: [],
  structural: [],
  passes: [tensorGradSquaresPass],
  checks: { lr: optionChecks.nonNegative, eps: optionChecks.nonNegative },
  defines: () => ({ MAXIMIZE: false }),
  slots: () => [],
  groupSlots: () => [],
  initialValue: () => 0,
  scalars: {
    negLr: { doc: 'f(−lr)', value: (o) => -o.lr },
    eps: { doc: 'f(eps), the floor of ‖g‖', value: (o) => o.eps },
  },
  reference: nsgdReference,
});
