import { defineOptimizer } from '../../core/definition.js';
import { is } from '../../core/validate.js';
import { sgdReference } from './reference.js';
import source from './sgd.wgsl?raw';

/** torch.optim.SGD options. `lr` is required, as in PyTorch. */
export interface SgdOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  maximize: boolean;
}

export type SgdScalar = 'negLr' | 'weightDecay' | 'momentum' | 'oneMinusDampening' | 'first';

const kernel = { name: 'sgd', source };

/**
 * SGD (torch.optim.SGD):
 * `d = g (+ wd·p)`; with momentum `b = μ·b + (1−τ)·d` (b = d on the first step),
 * `d = nesterov ? d + μ·b : b`; `p = p − lr·d`. Nesterov momentum as in Sutskever et al. 2013.
 */
export const sgd = defineOptimizer<SgdOptions, SgdScalar>({
  name: 'sgd',
  kernel,
  defaults: { lr: NaN, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false },
  required: ['lr'],
  structural: ['nesterov', 'maximize'],
  checks: { lr: is.nonNegative, momentum: is.nonNegative, dampening: is.finite, weightDecay: is.nonNegative, nesterov: is.boolean, maximize: is.boolean },
  validate(o) {
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new RangeError('webgpu-optim: sgd: nesterov requires momentum > 0 and dampening = 0');
    }
  },
  defines: (groups) => ({
    MOMENTUM: groups.some((o) => o.momentum !== 0),
    NESTEROV: groups[0]!.nesterov,
    MAXIMIZE: groups[0]!.maximize,
  }),
  slots: (d) => (d.MOMENTUM ? [{ name: 'momentum_buffer', wgsl: 'momentumBuffer' }] : []),
  groupSlots: (o, d) => (d.MOMENTUM && o.momentum !== 0 ? ['momentum_buffer'] : []),
  initialValue: () => 0,
  scalars: {
    negLr: { doc: 'f(−lr)', value: (o) => -o.lr },
    weightDecay: { doc: 'f(weight_decay)', value: (o) => o.weightDecay },
    momentum: { doc: 'f(momentum); 0: this group keeps no buffer', value: (o) => o.momentum },
    oneMinusDampening: { doc: 'f(1 − dampening)', value: (o) => 1 - o.dampening },
    first: { doc: '1 on the step that creates the buffer (buf = d, undampened), else 0', perStep: (_o, t) => (t === 1 ? 1 : 0), combine: 'replace' },
  },
  reference: sgdReference,
});

/** The course-text EMA momentum: `v = β·v + (1−β)·g` from `v = 0`, `p = p − lr·v`. */
export interface EmaMomentumOptions {
  lr: number;
  beta: number;
  weightDecay: number;
  maximize: boolean;
}

/**
 * EMA momentum as taught in Andrew Ng's Deep Learning Specialization (no bias correction):
 * `v = β·v + (1−β)·g`, `p = p − lr·v`, with `v` starting at 0. It differs from torch SGD with
 * `dampening = β` only on the first step (torch copies the first gradient undamped). Runs on the
 * SGD kernel; its state slot is `momentum_buffer`.
 */
export const emaMomentum = defineOptimizer<EmaMomentumOptions, SgdScalar>({
  name: 'ema_momentum',
  kernel,
  defaults: { lr: 0.01, beta: 0.9, weightDecay: 0, maximize: false },
  required: [],
  structural: ['maximize'],
  checks: { lr: is.nonNegative, beta: is.finite, weightDecay: is.nonNegative, maximize: is.boolean },
  validate(o) {
    // beta = 0 is plain SGD; the kernel reads momentum 0 as "no buffer", so it is refused here.
    if (o.beta <= 0 || o.beta >= 1) {
      throw new RangeError(`webgpu-optim: ema_momentum: beta must be in (0, 1), got ${o.beta}`);
    }
  },
  defines: (groups) => ({ MOMENTUM: true, NESTEROV: false, MAXIMIZE: groups[0]!.maximize }),
  slots: () => [{ name: 'momentum_buffer', wgsl: 'momentumBuffer' }],
  groupSlots: () => ['momentum_buffer'],
  initialValue: () => 0,
  scalars: {
    negLr: { doc: 'f(−lr)', value: (o) => -o.lr },
    weightDecay: { doc: 'f(weight_decay)', value: (o) => o.weightDecay },
    momentum: { doc: 'f(β)', value: (o) => o.beta },
    oneMinusDampening: { doc: 'f(1 − β)', value: (o) => 1 - o.beta },
    first: { doc: 'always 0: the buffer starts at 0 and is damped from the first step', value: () => 0 },
  },
  reference: sgdReference,
});
