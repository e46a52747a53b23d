/** Host scalars are float64 expressions rounded once to f32 (docs/semantics.md § Scalars). */
import { expect, test } from 'vitest';
import { packScalars, packTensorScalars, scalarLayout } from '../../src/core/scalars.js';
import { adam, adamw } from '../../src/optimizers/adam/definition.js';
import { adagrad } from '../../src/optimizers/adagrad/definition.js';
import { sgd } from '../../src/optimizers/sgd/definition.js';

const stepScalars = (definition: unknown, groups: object[], t: number) => packScalars(definition as never, groups, t);

const bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0]!;

test('f(1 − β) is rounded once from float64, not computed in f32', () => {
  const defaults = { ...adam.defaults };
  const s = stepScalars(adam, [defaults], 1);
  const field = (name: string) => s[scalarLayout(adam).names.indexOf(name)]!;
  expect(bits(field('oneMinusBeta1'))).toBe(0x3dcccccd); // f(0.09999999999999998)
  expect(bits(Math.fround(1 - Math.fround(0.9)))).toBe(0x3dccccd0); // what f32 arithmetic would give
  expect(bits(field('oneMinusBeta2'))).toBe(0x3a83126f);
  expect(field('negStepSize')).toBe(Math.fround(-(1e-3 / (1 - 0.9))));
  expect(field('bc2Sqrt')).toBe(Math.fround(Math.sqrt(1 - 0.999)));
});

test('bias corrections follow the step count', () => {
  const s10 = stepScalars(adam, [{ ...adam.defaults }], 10);
  expect(s10[scalarLayout(adam).names.indexOf('negStepSize')]).toBe(Math.fround(-(1e-3 / (1 - 0.9 ** 10))));
  expect(s10[scalarLayout(adam).names.indexOf('bc2Sqrt')]).toBe(Math.fround(Math.sqrt(1 - 0.999 ** 10)));
});

test('adamw decay factor f(1 − lr·wd); adam passes wd to the gradient', () => {
  const w = stepScalars(adamw, [{ ...adamw.defaults }], 1);
  expect(w[scalarLayout(adamw).names.indexOf('decayFactor')]).toBe(Math.fround(1 - 1e-3 * 1e-2));
  expect(w[scalarLayout(adamw).names.indexOf('weightDecay')]).toBe(0);
});

test('adagrad clr and the sgd first-step flag', () => {
  const a = stepScalars(adagrad, [{ ...adagrad.defaults, lrDecay: 0.5 }], 3);
  expect(a[0]).toBe(Math.fround(-(1e-2 / (1 + 2 * 0.5))));
  const o = { ...sgd.defaults, lr: 0.1, momentum: 0.9 };
  expect(stepScalars(sgd, [o], 1)[4]).toBe(1);
  expect(stepScalars(sgd, [o], 2)[4]).toBe(0);
});

test('a scalar that overflows float32 is refused, naming it and its group or tensor, before any row is written', () => {
  // lr 3e38 is a float32, but −lr / (1 − β₁) is not: group 1's negStepSize overflows.
  const groups = [{ ...adam.defaults }, { ...adam.defaults, lr: 3e38 }];
  const out = new Float32Array(2 * scalarLayout(adam).names.length).fill(7);
  expect(() => packScalars(adam as never, groups, 1, { out })).toThrow(/adam: scalar negStepSize = -3\.0*\d*e\+39 of group 1 overflows float32/);
  expect(out.every((x) => x === 7)).toBe(true);
  const rows = new Float32Array(2 * (scalarLayout(adam).names.length + 1)).fill(7);
  const args = { tensorGroup: [0, 1], tensorSteps: [0, 0], present: [true, true], update: 1, out: rows };
  expect(() => packTensorScalars(adam as never, groups, args)).toThrow(/adam: scalar negStepSize = .* of tensor 1 overflows float32/);
  expect(rows.every((x) => x === 7)).toBe(true);
});

test('groups are laid out one after another', () => {
  const s = stepScalars(adam, [{ ...adam.defaults }, { ...adam.defaults, lr: 0.5 }], 1);
  const n = scalarLayout(adam).names.length;
  expect(s.length).toBe(2 * n);
  expect(s[n + 4]).toBe(Math.fround(-(0.5 / (1 - 0.9))));
});

test('Schedule-Free: five step scalars, four step-table entries; on the control path yCoefficient is made from the others in f32, as the WGSL does', async () => {
  const { adamwScheduleFree } = await import('../../src/optimizers/adamw_schedule_free/definition.js');
  const { applyStepEntries, hyperWgsl, stepEntries } = await import('../../src/core/scalars.js');
  const layout = scalarLayout(adamwScheduleFree);
  expect(layout.stepFields).toEqual(['bc2', 'bc1', 'ckp1', 'negLr']);
  expect(layout.derivedFields).toEqual(['yCoefficient']);
  expect(hyperWgsl(adamwScheduleFree)).toContain('h.yCoefficient = h.negLr * (1.0 - h.beta1 * (1.0 - h.ckp1));');
  const options = { ...adamwScheduleFree.defaults, innerMomentum: 0.9, warmupSteps: 3 };
  const h = packScalars(adamwScheduleFree, [options], 5, { deviceStep: true });
  applyStepEntries(adamwScheduleFree, h, stepEntries(adamwScheduleFree, options, 5));
  const field = (name: string) => h[layout.names.indexOf(name)]!;
  const exact = stepScalars(adamwScheduleFree, [options], 5);
  for (const name of layout.stepFields) expect(field(name), name).toBe(exact[layout.names.indexOf(name)]);
  const fr = Math.fround;
  expect(field('yCoefficient')).toBe(fr(field('negLr') * fr(1 - fr(field('beta1') * fr(1 - field('ckp1'))))));
  expect(Math.abs(field('yCoefficient') - exact[layout.names.indexOf('yCoefficient')]!)).toBeLessThanOrEqual(2 ** -20 * Math.abs(field('yCoefficient')));
});
