/**
 * History folded over every step (NAdam's mu_product, Schedule-Free's weights): exact against a
 * plain fold, O(1) once settled, and a step no fold reaches in bounded time refused before a load
 * changes anything (a state dict or checkpoint is a stranger's file: step 2^40 used to mean hours).
 */
import { execFileSync } from 'node:child_process';
import { expect, test } from 'vitest';
import { createReferenceOptimizer } from '../../src/index.js';
import { MAX_FOLD_STEPS, stepFold } from '../../src/core/step-fold.js';
import { muProduct } from '../../src/optimizers/nadam/definition.js';

const fr = Math.fround;
const mu = (b1: number, psi: number, t: number) => b1 * (1 - 0.5 * 0.96 ** (t * psi));
/** mu_product by the plain fold, no memo, no early stop. */
const plain = (b1: number, psi: number, t: number) => {
  let value = 1;
  for (let s = 1; s <= t; s++) value = fr(value * fr(mu(b1, psi, s)));
  return value;
};

test.each([
  [0.9, 4e-3], [0.99, 4e-3], [0, 4e-3], [0.9, 0], [0.5, 2], [0.999, 50], [0.9999, 1e-6],
])('NAdam mu_product with beta1 %s, momentumDecay %s equals the plain fold at every step', (b1, psi) => {
  const options = { lr: 2e-3, betas: [b1, 0.999] as const, eps: 1e-8, weightDecay: 0, momentumDecay: psi, decoupledWeightDecay: false };
  // Out of order on purpose: checkpoints, the last-step shortcut and the settled state all serve.
  for (const t of [3000, 1, 1023, 1024, 1025, 2047, 5, 2999, 4000, 700]) expect(muProduct(options, t), `step ${t}`).toBe(plain(b1, psi, t));
});

test('NAdam mu_product at step 2^40 costs no fold once the product settles (a few hundred steps for the defaults)', () => {
  const options = { lr: 2e-3, betas: [0.9, 0.999] as const, eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, decoupledWeightDecay: false };
  const start = performance.now();
  expect(muProduct(options, 2 ** 40)).toBe(plain(0.9, 4e-3, 5000));
  expect(muProduct(options, 2 ** 53 - 1)).toBe(0);
  expect(performance.now() - start).toBeLessThan(1000);
});

test('a fold that never settles refuses a step more than MAX_FOLD_STEPS ahead, naming what and which step', () => {
  let calls = 0;
  const sum = stepFold<{ k: number }, number>('test: the running sum', (o) => String(o.k), 0, (s, o) => (calls++, s + o.k));
  expect(sum({ k: 1 }, 5000)).toBe(5000);
  expect(() => sum({ k: 1 }, 2 ** 40)).toThrow(/^webgpu-optim: test: the running sum at step 1099511627776 follows from every step before it; it is refused/);
  expect(calls).toBeLessThanOrEqual(MAX_FOLD_STEPS + 5000 + 1024);
  // Still exact after the refusal, and stepping on one by one is never refused.
  expect(sum({ k: 1 }, 4999)).toBe(4999);
  for (let t = 5001; t < 9000; t++) expect(sum({ k: 1 }, t)).toBe(t);
}, 30_000);

test('a state dict whose step no fold reaches is refused by loadStateDict, the optimizer unchanged', () => {
  const sf = createReferenceOptimizer('adamw_schedule_free', [new Float32Array([1, 2, 3])], {});
  sf.step([new Float32Array([0.1, -0.2, 0.3])]);
  const before = structuredClone(sf.stateDict());
  const far = { ...structuredClone(before), step: 2 ** 40, stepCalls: 2 ** 40 };
  expect(() => sf.loadStateDict(far)).toThrow(/adamw_schedule_free: cannot load this state dict: adamw_schedule_free: the averaging weight at step 1099511627777 follows from every step before it; it is refused/);
  expect(sf.stateDict()).toEqual(before);
}, 30_000);

test('a NAdam state dict of step 2^40 loads (its mu_product has long settled) and steps on', () => {
  const nadam = createReferenceOptimizer('nadam', [new Float32Array([1, 2, 3])], {});
  nadam.step([new Float32Array([0.1, -0.2, 0.3])]);
  const sd = structuredClone(nadam.stateDict());
  const far = { ...sd, step: 2 ** 40, stepCalls: 2 ** 40, state: sd.state.map((s) => ({ ...s, mu_product: 0 })) };
  nadam.loadStateDict(far);
  expect(nadam.stateDict().step).toBe(2 ** 40);
  nadam.step([new Float32Array([0.1, -0.2, 0.3])]);
  expect(nadam.stateDict().step).toBe(2 ** 40 + 1);
});

test("the Python reader's NAdam fold gives the same float32 bits (it checks a file's mu_product against it)", () => {
  const configs = [[0.9, 4e-3], [0.99, 4e-3], [0.5, 2], [0.999, 50], [0.8, 0.05]] as const;
  const steps = [1, 2, 3, 10, 100, 257, 1000, 3000];
  const script = `
import json, sys
sys.path.insert(0, "python")
from webgpu_optim_torch.nadam import mu_product
configs, steps = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps([[mu_product(b1, psi, t) for t in steps] for b1, psi in configs]))
`;
  const python = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
  const out = JSON.parse(execFileSync(python, ['-c', script, JSON.stringify(configs), JSON.stringify(steps)], { encoding: 'utf8' })) as number[][];
  configs.forEach(([b1, psi], c) => {
    const options = { lr: 2e-3, betas: [b1, 0.999] as const, eps: 1e-8, weightDecay: 0, momentumDecay: psi, decoupledWeightDecay: false };
    expect(out[c], `beta1 ${b1}, momentumDecay ${psi}`).toEqual(steps.map((t) => muProduct(options, t)));
  });
}, 60_000);
