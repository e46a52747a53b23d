/** Bad options and inputs get clear errors and change nothing (CPU reference; the GPU path shares the checks). */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer, type OptimizerName } from '../../src/index.js';
import { TESTED } from '../helpers/records/index.js';
import { OPTION_MATRIX } from '../helpers/cases.js';

const one = () => [new Float32Array([1, 2, 3])];

describe('options', () => {
  test('unknown optimizer and unknown option', () => {
    expect(() => createReferenceOptimizer('nadamw' as never, one())).toThrow(/unknown optimizer "nadamw"/);
    expect(() => createReferenceOptimizer('adam', one(), { beta1: 0.9 } as never)).toThrow(/unknown option "beta1"/);
    expect(() => createReferenceOptimizer('adam', one(), { groups: [{ tensors: [0], gamma: 1 }] } as never)).toThrow(/unknown option "gamma" in groups\[0\]/);
  });
  test('sgd needs lr, like torch', () => {
    expect(() => createReferenceOptimizer('sgd', one())).toThrow(/"lr" is required/);
  });
  test('adafactor: eps is [eps1 | null, eps2], beta2Decay <= 0, d >= 1, no lr schedule', () => {
    expect(createReferenceOptimizer('adafactor', one(), { eps: [null, 1e-3] }).groups[0]!.eps).toEqual([null, 1e-3]);
    expect(() => createReferenceOptimizer('adafactor', one(), { eps: [1e-30] as never })).toThrow(/eps must be a pair \[eps1 \| null, eps2\]/);
    expect(() => createReferenceOptimizer('adafactor', one(), { eps: [-1, 1e-3] })).toThrow(/eps\[0\] must be >= 0/);
    expect(() => createReferenceOptimizer('adafactor', one(), { eps: [null, null] as never })).toThrow(/eps\[1\] must be a finite number/);
    expect(() => createReferenceOptimizer('adafactor', one(), { beta2Decay: 0.5 })).toThrow(/beta2Decay must be <= 0, got 0.5/);
    expect(() => createReferenceOptimizer('adafactor', one(), { d: 0.5 })).toThrow(/d \(the clipping threshold\) must be >= 1/);
    expect(() => createReferenceOptimizer('adafactor', one(), { lrSchedule: () => 1 } as never)).toThrow(/relative step size min\(lr, 1\/√t\) is its schedule/);
  });
  test('lamb and lars need lr, like optax', () => {
    expect(() => createReferenceOptimizer('lamb', one())).toThrow(/"lr" is required/);
    expect(() => createReferenceOptimizer('lars', one())).toThrow(/"lr" is required/);
    expect(() => createReferenceOptimizer('lars', one(), { lr: 1, momentum: 1 })).toThrow(/momentum must be in \[0, 1\)/);
    expect(() => createReferenceOptimizer('lars', one(), { lr: 1, trustCoefficient: -0.1 })).toThrow(/trustCoefficient must be >= 0/);
    expect(() => createReferenceOptimizer('lars', one(), { lr: 1, trustRatio: 0 as never })).toThrow(/trustRatio must be a boolean/);
  });
  test.each(TESTED)('%s: negative or NaN lr, eps, weightDecay', (name) => {
    for (const key of ['lr', 'eps', 'weightDecay']) {
      for (const bad of [-1, NaN, Infinity, '0.1']) {
        // On the plainest row (Muon's passes adamw, for the vector).
        const plain = { ...(OPTION_MATRIX[name][0] as object), lr: 0.1 };
        const options = { ...plain, [key]: bad };
        const known = key in (createReferenceOptimizer(name as OptimizerName, one(), plain as never).groups[0] as object);
        if (!known) continue;
        expect(() => createReferenceOptimizer(name as OptimizerName, one(), options as never), `${name} ${key}=${bad}`).toThrow(new RegExp(key));
      }
    }
  });
  test('betas, alpha, rho outside [0, 1)', () => {
    for (const betas of [[1, 0.999], [0.9, 1], [-0.1, 0.9], [0.9], [NaN, 0.9]]) {
      expect(() => createReferenceOptimizer('adam', one(), { betas } as never), String(betas)).toThrow(/betas/);
    }
    expect(() => createReferenceOptimizer('rmsprop', one(), { alpha: 1 })).toThrow(/alpha must be in \[0, 1\)/);
    expect(() => createReferenceOptimizer('adadelta', one(), { rho: -0.5 })).toThrow(/rho must be in \[0, 1\)/);
    expect(() => createReferenceOptimizer('ema_momentum', one(), { beta: 1 })).toThrow(/beta must be in \(0, 1\)/);
  });
  test('nesterov needs momentum and no dampening', () => {
    expect(() => createReferenceOptimizer('sgd', one(), { lr: 0.1, nesterov: true })).toThrow(/nesterov requires/);
    expect(() => createReferenceOptimizer('sgd', one(), { lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow(/nesterov requires/);
    expect(() => createReferenceOptimizer('sgd', one(), { lr: 0.1, nesterov: 1 as never, momentum: 0.9 })).toThrow(/boolean/);
  });
  test('groups: unknown tensors, a tensor twice, kernel options that differ', () => {
    const two = [{ name: 'a', data: new Float32Array(2) }, { name: 'b', data: new Float32Array(2) }];
    expect(() => createReferenceOptimizer('adam', two, { groups: [{ tensors: ['c'] }] })).toThrow(/unknown tensor "c"/);
    expect(() => createReferenceOptimizer('adam', two, { groups: [{ tensors: [5] }] })).toThrow(/unknown tensor 5/);
    expect(() => createReferenceOptimizer('adam', two, { groups: [{ tensors: ['a'] }, { tensors: [0] }] })).toThrow(/"a" is in groups\[0\] and groups\[1\]/);
    expect(() => createReferenceOptimizer('rmsprop', two, { groups: [{ tensors: ['a'], centered: true }] })).toThrow(/"centered" chooses the kernel/);
    expect(() => createReferenceOptimizer('adam', two, { groups: {} as never })).toThrow(/groups must be an array/);
  });
  test.each(['adam', 'adamw', 'lion'] as const)('%s: cautious is a boolean, the same in every group, fixed, and refuses 8-bit state naming why', (name) => {
    const two = [{ name: 'a', data: new Float32Array(2) }, { name: 'b', data: new Float32Array(2) }];
    for (const bad of [1, 'yes', null]) {
      expect(() => createReferenceOptimizer(name, one(), { cautious: bad as never })).toThrow(new RegExp(`${name}: cautious must be a boolean, got ${bad === 'yes' ? '"yes"' : String(bad)}`));
    }
    expect(() => createReferenceOptimizer(name, two, { groups: [{ tensors: ['a'], cautious: true }] })).toThrow(/"cautious" chooses the kernel/);
    const optimizer = createReferenceOptimizer(name, one(), { cautious: true });
    expect(() => optimizer.setHyperparameters({ cautious: false })).toThrow(/another kernel variant/);
    expect(() => createReferenceOptimizer(name, one(), { cautious: true, stateFormat: 'q8' })).toThrow(
      new RegExp(`^webgpu-optim: createReferenceOptimizer\\('${name}'\\): stateFormat "q8": cautious updates count the agreeing elements in a pass before the update, which reads the state outside the tiles of 8- and 4-bit state; use stateFormat 'f32', 'bf16' or 'f16'$`),
    );
    for (const format of ['bf16', 'f16'] as const) expect(() => createReferenceOptimizer(name, one(), { cautious: true, stateFormat: format })).not.toThrow();
    expect(() => createReferenceOptimizer(name, one(), { stateFormat: 'q8' })).not.toThrow();
  });
});

describe('step and hyperparameter changes', () => {
  test('gradients of the wrong count, length or type', () => {
    const ref = createReferenceOptimizer('adam', one());
    expect(() => ref.step([])).toThrow(/expected 1 gradients/);
    expect(() => ref.step([new Float32Array(2)])).toThrow(/has 2 elements, the tensor has 3/);
    expect(() => ref.step([new Float64Array(3) as never])).toThrow(/Float32Array/);
    expect(ref.stepCount).toBe(0);
    expect(Array.from(ref.params[0]!)).toEqual([1, 2, 3]);
  });
  test('setHyperparameters is all or nothing', () => {
    const two = [{ name: 'a', data: new Float32Array(2) }, { name: 'b', data: new Float32Array(2) }];
    const ref = createReferenceOptimizer('sgd', two, { lr: 0.1, momentum: 0.9, groups: [{ tensors: ['b'], momentum: 0 }] });
    expect(() => ref.setHyperparameters({ lr: 0.2, momentum: -1 })).toThrow(/momentum must be >= 0/);
    expect(ref.groups.map((g) => g.lr)).toEqual([0.1, 0.1]);
    expect(() => ref.setHyperparameters({ nesterov: true })).toThrow();
    ref.setHyperparameters({ lr: 0.5 }, 1);
    expect(ref.groups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    const plain = createReferenceOptimizer('sgd', one(), { lr: 0.1 });
    expect(() => plain.setHyperparameters({ momentum: 0.9 })).toThrow(/another kernel variant/);
  });
});

describe('state dict', () => {
  test('round trip continues identically; PyTorch slot names; momentum 0 groups have no buffer', () => {
    const make = () => [{ name: 'w', data: new Float32Array([1, -2, 3]) }, { name: 'b', data: new Float32Array([0.5]) }];
    const options = { lr: 0.1, momentum: 0.9, groups: [{ tensors: ['b'], momentum: 0 }] };
    const a = createReferenceOptimizer('sgd', make(), options);
    const b = createReferenceOptimizer('sgd', make(), options);
    const grads = (s: number) => [new Float32Array([s, -s, 0.5]), new Float32Array([s / 2])];
    for (let s = 1; s <= 4; s++) a.step(grads(s));
    for (let s = 1; s <= 2; s++) b.step(grads(s));
    const sd = b.stateDict();
    expect(Object.keys(sd.state[0]!)).toEqual(['momentum_buffer']);
    expect(Object.keys(sd.state[1]!)).toEqual([]);
    expect(sd.options.groups.map((g) => g.tensors)).toEqual([['w'], ['b']]);
    const c = createReferenceOptimizer('sgd', b.params.map((p, i) => ({ name: ['w', 'b'][i]!, data: p.slice() })), options);
    c.loadStateDict(sd);
    for (let s = 3; s <= 4; s++) c.step(grads(s));
    expect(c.params).toEqual(a.params);
    expect(c.stateDict().state).toEqual(a.stateDict().state);
  });
  test('refuses another optimizer, shape or slot set', () => {
    const ref = createReferenceOptimizer('adam', one());
    const sd = ref.stateDict();
    expect(Object.keys(sd.state[0]!).sort()).toEqual(['exp_avg', 'exp_avg_sq']);
    expect(() => createReferenceOptimizer('adamw', one()).loadStateDict(sd)).toThrow(/belongs to optimizer "adam"/);
    expect(() => createReferenceOptimizer('adam', [new Float32Array(4)]).loadStateDict(sd)).toThrow(/length 4|length 3/);
    expect(() => createReferenceOptimizer('adam', one(), { amsgrad: true }).loadStateDict(sd)).toThrow(/another kernel variant/);
    expect(() => ref.loadStateDict({ ...sd, state: [{ exp_avg: new Float32Array(3) }] })).toThrow(/has slots/);
  });
});

describe('Schedule-Free AdamW: the current form and the paper form never load each other\'s state', () => {
  const forms = ['adamw_schedule_free', 'adamw_schedule_free_paper'] as const;
  test.each([forms, [forms[1], forms[0]]] as const)('a state dict of %s is refused by %s, which is left untouched, and the message names the form to create', (from, into) => {
    const saved = createReferenceOptimizer(from, one());
    saved.step([new Float32Array([1, 2, 3])]);
    const sd = saved.stateDict();
    expect(sd.optimizer).toBe(from);
    const target = createReferenceOptimizer(into, one());
    target.step([new Float32Array([3, 2, 1])]);
    const before = JSON.stringify([Array.from(target.params[0]!), target.stateDict()], (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v));
    expect(() => target.loadStateDict(sd)).toThrow(`${into}: cannot load this state dict: it belongs to optimizer "${from}", not ${into}; to continue that run, create the optimizer as "${from}" and load it there`);
    expect(JSON.stringify([Array.from(target.params[0]!), target.stateDict()], (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v))).toBe(before);
    // What the message says works.
    const continued = createReferenceOptimizer(from, one());
    continued.loadStateDict(sd);
    continued.step([new Float32Array([1, 1, 1])]);
  });
  test('innerMomentum is checked like every option, naming it and the value', () => {
    for (const bad of [-0.1, 1, 1.5, NaN, Infinity, '0.9']) {
      expect(() => createReferenceOptimizer('adamw_schedule_free', one(), { innerMomentum: bad as never })).toThrow(/adamw_schedule_free: innerMomentum must be/);
    }
    expect(() => createReferenceOptimizer('adamw_schedule_free', one(), { innerMomentum: 1 })).toThrow('adamw_schedule_free: innerMomentum must be in [0, 1), got 1');
    expect(() => createReferenceOptimizer('adamw_schedule_free_paper', one(), { innerMomentum: 0.9 } as never)).toThrow(/unknown option "innerMomentum"/);
  });
});

describe('NAdam: mu_product follows from the steps taken', () => {
  test('β₁ and momentumDecay are fixed once stepping has begun; other options are not', () => {
    const ref = createReferenceOptimizer('nadam', one());
    ref.setHyperparameters({ momentumDecay: 0.01 }); // no step yet: allowed
    ref.step([new Float32Array([1, 2, 3])]);
    expect(() => ref.setHyperparameters({ betas: [0.8, 0.999] })).toThrow(/"betas" cannot change once steps were taken \(the optimizer's state follows from its history\)/);
    expect(() => ref.setHyperparameters({ momentumDecay: 0.02 })).toThrow(/"momentumDecay" cannot change once steps were taken/);
    ref.setHyperparameters({ lr: 1e-3, eps: 1e-6 });
    expect(ref.groups[0]!.momentumDecay).toBe(0.01);
  });
  test('a state dict whose mu_product does not match its step is refused', () => {
    const ref = createReferenceOptimizer('nadam', one());
    ref.step([new Float32Array([1, 2, 3])]);
    const sd = ref.stateDict();
    expect(() => ref.loadStateDict({ ...sd, state: [{ ...sd.state[0]!, mu_product: 0.5 }] })).toThrow(/state\[0\]\.mu_product is 0\.5; at step 1 with these options it is 0\.45/);
    expect(() => ref.loadStateDict({ ...sd, state: [{ exp_avg: sd.state[0]!.exp_avg!, exp_avg_sq: sd.state[0]!.exp_avg_sq! }] })).toThrow(/has slots \[exp_avg,exp_avg_sq\], expected \[exp_avg,exp_avg_sq,mu_product\]/);
    ref.loadStateDict(sd);
  });
  test('mu_product at a large step is the f32 product of every step (memoized)', async () => {
    const { muProduct } = await import('../../src/optimizers/nadam/definition.js');
    const o = { lr: 2e-3, betas: [0.9, 0.999] as const, eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, decoupledWeightDecay: false };
    const direct: number[] = [1];
    for (let t = 1; t <= 3000; t++) direct.push(Math.fround(direct[t - 1]! * Math.fround(0.9 * (1 - 0.5 * 0.96 ** (t * 4e-3)))));
    expect(muProduct(o, 3000)).toBe(direct[3000]);
    expect(muProduct(o, 1500)).toBe(direct[1500]); // from a checkpoint, after the cache went further
    expect(muProduct(o, 1024)).toBe(direct[1024]);
  });
});

