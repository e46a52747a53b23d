/**
 * Signum, a test-only optimizer: the library's tests register it from outside src, through the
 * public API alone, exactly as README "Adding an optimizer" tells a user to, and run it through
 * every registry-driven suite. It proves that a newcomer's optimizer gets the built-ins' coverage.
 */
import { defineOptimizer, optionChecks } from '../../../src/index.js';
import { signumReference } from './reference.js';
import source from './signum.wgsl?raw';

/** Signum options (Bernstein et al. 2018, signSGD with momentum). */
export interface SignumOptions {
  lr: number;
  /** β of the momentum; 0 steps by the sign of the gradient itself (signSGD). */
  momentum: number;
  /** Coupled (L2) weight decay, added to the gradient before the momentum. */
  weightDecay: number;
  maximize: boolean;
}

export type SignumScalar = 'negLr' | 'weightDecay' | 'momentum' | 'oneMinusMomentum';

/**
 * Signum — Bernstein et al. 2018, "signSGD: Compressed Optimisation for Non-Convex Problems",
 * Algorithm 3 (https://arxiv.org/abs/1802.04434): `d = g (+ wd·p)`, `m = β·m + (1−β)·d` from
 * m = 0, `p = p − lr·sign(m)`. One state slot, `momentum_buffer`.
 */
export const signum = defineOptimizer<SignumOptions, SignumScalar>({
  name: 'signum',
  kernel: { name: 'signum', source },
  defaults: { lr: 1e-3, momentum: 0.9, weightDecay: 0, maximize: false },
  required: [],
  structural: ['maximize'],
  checks: { lr: optionChecks.nonNegative, momentum: optionChecks.unitInterval, weightDecay: optionChecks.nonNegative, maximize: optionChecks.boolean },
  defines: (groups) => ({ MAXIMIZE: groups[0]!.maximize }),
  slots: () => [{ name: 'momentum_buffer', wgsl: 'momentumBuffer' }],
  groupSlots: () => ['momentum_buffer'],
  initialValue: () => 0,
  scalars: {
    negLr: { doc: 'f(−lr)', value: (o) => -o.lr },
    weightDecay: { doc: 'f(weight_decay)', value: (o) => o.weightDecay },
    momentum: { doc: 'f(β)', value: (o) => o.momentum },
    oneMinusMomentum: { doc: 'f(1 − β)', value: (o) => 1 - o.momentum },
  },
  reference: signumReference,
});
