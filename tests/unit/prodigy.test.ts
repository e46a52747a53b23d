/**
 * Prodigy off the GPU: every option refused with its name and value before anything is made; the
 * global options equal in every group; 8-bit state refused with the reason; state dicts'
 * setState checked as a stranger's (a refused load changes nothing); growthRate's Infinity through
 * JSON; and the f32 twin against the float64 one (reference.ts) on a quadratic.
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer, registerOptimizer, stateDictFromJSON, stateDictToJSON, type ProdigyOptions, type ReferenceOptimizer } from '../../src/index.js';
import { prodigy } from '../../src/optimizers/prodigy/definition.js';
import { createProdigyReference } from '../../src/optimizers/prodigy/reference.js';
import { prodigyPass } from '../../src/optimizers/prodigy/scalars-pass.js';
import { computeLayout } from '../../src/core/layout.js';
import { scratchEntries } from '../../src/passes/tensor-reduction.js';

const tensors = () => [
  { name: 'a', data: Float32Array.from({ length: 50 }, (_, i) => Math.sin(i)) },
  { name: 'b', data: Float32Array.from({ length: 7 }, (_, i) => Math.cos(i)) },
];
const make = (options: Record<string, unknown> = {}) => createReferenceOptimizer('prodigy' as never, tensors(), options as never) as unknown as ReferenceOptimizer<ProdigyOptions>;
const grads = (ref: { params: readonly Float32Array[] }) => ref.params.map((p) => Float32Array.from(p, (x, i) => x - 0.5 + 0.01 * Math.sin(3 * i)));

describe('prodigy options', () => {
  test.each([
    ['lr', 0],
    ['lr', -1],
    ['betas', [0.9, 1]],
    ['betas', [-0.1, 0.9]],
    ['beta3', 1],
    ['eps', 0],
    ['weightDecay', -0.1],
    ['decouple', 'yes'],
    ['useBiasCorrection', 1],
    ['safeguardWarmup', null],
    ['d0', 0],
    ['dCoef', -1],
    ['growthRate', 0],
    ['growthRate', -Infinity],
    ['growthRate', NaN],
    ['sliceP', 1.5],
    ['sliceP', 0],
    // An f32 scalar of the kernel: every integer up to 2²⁴.
    ['sliceP', 2 ** 24 + 1],
  ] as const)('%s = %j is refused, naming the option and the value', (name, value) => {
    expect(() => make({ [name]: value })).toThrow(new RegExp(`prodigy: ${name}(\\[\\d\\])? .*${String(Array.isArray(value) ? '' : value).replace('.', '\\.')}`));
  });

  test('the defaults are the authors\'', () => {
    expect(make().groups[0]).toMatchObject({ lr: 1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decouple: true, useBiasCorrection: false, safeguardWarmup: false, d0: 1e-6, dCoef: 1, growthRate: Infinity, sliceP: 1 });
  });

  test('8-bit state is refused with the reason; 16-bit state and sliceP ≠ 1 are taken', () => {
    expect(make({ sliceP: 11 }).groups[0]!.sliceP).toBe(11);
    expect(make({ sliceP: 2 ** 24 }).groups[0]!.sliceP).toBe(2 ** 24);
    expect(() => make({ stateFormat: 'q8' })).toThrow(/not moving averages/);
    expect(make({ stateFormat: 'bf16' }).stateFormat).toBe('bf16');
  });

  test.each(['betas', 'beta3', 'decouple', 'useBiasCorrection', 'd0', 'dCoef', 'growthRate', 'sliceP', 'lr'])('%s must be the same in every group (d is one estimate for the set)', (name) => {
    const other = { betas: [0.8, 0.99], beta3: 0.5, decouple: false, useBiasCorrection: true, d0: 1e-5, dCoef: 2, growthRate: 1.5, sliceP: 2, lr: 0.5 }[name];
    expect(() => make({ groups: [{ tensors: ['b'], [name]: other }] })).toThrow(new RegExp(`"${name}" chooses the kernel and must be the same in every group`));
  });

  test('lr changes for every group at once (d is one estimate); one group alone is refused and nothing changes', () => {
    const ref = make({ groups: [{ tensors: ['b'], weightDecay: 0.1 }] });
    ref.setHyperparameters({ lr: 0.5 });
    expect(ref.groups.map((g) => g.lr)).toEqual([0.5, 0.5]);
    expect(() => ref.setHyperparameters({ lr: 0.25 }, 1)).toThrow(/"lr" chooses the kernel and must be the same in every group/);
    expect(ref.groups.map((g) => g.lr)).toEqual([0.5, 0.5]);
  });

  test('weightDecay, eps and safeguardWarmup may differ per group', () => {
    expect(() => make({ groups: [{ tensors: ['b'], weightDecay: 0.1, eps: 1e-4, safeguardWarmup: true }] })).not.toThrow();
  });
});

describe('prodigy\'s scratch binding', () => {
  test('a set whose scratch (the sums, the chunk table, each tensor\'s first element and group, the scalars) is over maxStorageBufferBindingSize is refused, naming both', () => {
    const big = { maxStorageBufferBindingSize: 2 ** 30, maxComputeWorkgroupsPerDimension: 65535, maxBufferSize: 2 ** 30 };
    const layout = computeLayout([{ name: 'a', length: 5000 }, { name: 'b', length: 70 }, { name: 'c', length: 3 }], big, 64);
    // 5 tensors or fewer: one vec4 each for the first elements and the groups, 4 for the 16 scalar words.
    const bytes = (scratchEntries(layout) + layout.paddedLength / 64 + 1 + 1 + 4) * 16;
    const limits = (n: number) => ({ maxStorageBufferBindingSize: n }) as GPUSupportedLimits;
    expect(() => prodigyPass.check!('createOptimizer', layout, limits(bytes))).not.toThrow();
    expect(() => prodigyPass.check!('createOptimizer', layout, limits(bytes - 16))).toThrow(
      new RegExp(`^webgpu-optim: createOptimizer: the per-tensor sums, chunk table and Prodigy's scalars of 3 tensors need a ${bytes}-byte scratch binding, over the device's maxStorageBufferBindingSize \\(${bytes - 16}\\)`),
    );
  });
});

describe('prodigy state dicts', () => {
  const stepped = () => {
    const ref = make({ weightDecay: 0.01 });
    for (let s = 0; s < 4; s++) ref.step(grads(ref));
    return ref;
  };

  test('setState holds the authors\' names; through JSON (growthRate Infinity included) a load continues bit for bit', () => {
    const ref = stepped();
    const sd = ref.stateDict();
    expect(Object.keys(sd.setState!).sort()).toEqual(['d', 'd_hat', 'd_max', 'd_numerator', 'k']);
    expect(sd.setState!.k).toBe(4);
    expect(sd.setState!.d).toBeGreaterThan(1e-6);
    const json = stateDictToJSON(sd);
    expect(json).toContain('{"number":"Infinity"}');
    const other = make({ weightDecay: 0.01 });
    other.loadStateDict(stateDictFromJSON(json));
    other.params.forEach((p, i) => p.set(ref.params[i]!));
    const g = grads(ref);
    ref.step(g);
    other.step(g);
    expect(other.params).toEqual(ref.params);
    expect(other.setState).toEqual(ref.setState);
  });

  test('before any step the dict has no d_hat, and a fresh load keeps d = d0', () => {
    const sd = make().stateDict();
    expect(sd.setState).toEqual({ d: Math.fround(1e-6), d_numerator: 0, d_max: Math.fround(1e-6), k: 0 });
  });

  test.each([
    ['no setState', undefined, /holds no setState/],
    ['setState not an object', 3, /setState must be an object/],
    ['an unknown entry', { d: 1, d_numerator: 0, d_max: 1, k: 1, lr: 1 }, /entry "lr"/],
    ['d ≤ 0', { d: 0, d_numerator: 0, d_max: 1, k: 1 }, /setState\.d must be a float32 > 0, got 0/],
    ['d NaN', { d: NaN, d_numerator: 0, d_max: 1, k: 1 }, /setState\.d must be a float32 > 0, got NaN/],
    ['d_numerator past float32', { d: 1, d_numerator: 1e39, d_max: 1, k: 1 }, /setState\.d_numerator must be a float32/],
    ['d_max negative', { d: 1, d_numerator: 0, d_max: -1, k: 1 }, /setState\.d_max/],
    ['d_numerator a string', { d: 1, d_numerator: '0', d_max: 1, k: 1 }, /setState\.d_numerator/],
    ['k fractional', { d: 1, d_numerator: 0, d_max: 1, k: 1.5 }, /setState\.k must be an integer/],
    ['k past 2^24', { d: 1, d_numerator: 0, d_max: 1, k: 2 ** 24 + 1 }, /setState\.k/],
    ['k past the dict\'s step', { d: 1, d_numerator: 0, d_max: 1, k: 5 }, /setState\.k is 5, more than the dict's step 4/],
  ] as const)('a dict with %s is refused, naming it, and the optimizer is unchanged', (_label, setState, message) => {
    const target = stepped();
    const before = { params: target.params.map((p) => p.slice()), words: target.setState!.slice(), sd: stateDictToJSON(target.stateDict()) };
    const sd = stepped().stateDict();
    if (setState === undefined) delete sd.setState;
    else sd.setState = setState as never;
    expect(() => target.loadStateDict(sd)).toThrow(message);
    expect(target.params).toEqual(before.params);
    expect(target.setState).toEqual(before.words);
    expect(stateDictToJSON(target.stateDict())).toBe(before.sd);
  });

  test("k under the dict's step loads (a step with Σ|s| = 0 leaves d and k, as the authors' early return)", () => {
    const sd = stepped().stateDict();
    sd.setState = { ...sd.setState!, k: 3 };
    const target = make({ weightDecay: 0.01 });
    target.loadStateDict(sd);
    expect(target.stateDict().setState!.k).toBe(3);
  });

  test('another optimizer\'s dict with a setState is refused', () => {
    const adam = createReferenceOptimizer('adam', tensors());
    const sd = adam.stateDict();
    expect(() => adam.loadStateDict({ ...sd, setState: { d: 1 } })).toThrow(/does not keep/);
  });

  test('JSON: { number } takes only the three non-finite spellings', () => {
    const json = stateDictToJSON(make().stateDict()).replace('{"number":"Infinity"}', '{"number":"1e400"}');
    expect(() => stateDictFromJSON(json)).toThrow(/number must be "Infinity", "-Infinity" or "NaN", got "1e400"/);
  });
});

/**
 * Ten steps: d grows from d0 = 1e-6 to about 1e-2. Measured: d 5.8e-3, parameters 1.7e-2 (relative
 * to |p| + 1e-3). Not closer, by nature: in the first steps p moves by ~d ≈ 1e-6, so p0 − p keeps only
 * a few significant bits in float32 (the authors' tensors are float32 too; the goldens agree far
 * better because they round the same way).
 */
const STEPS = 10;

describe('prodigy: the f32 twin against the float64 reference', () => {
  test(`${STEPS} steps on a quadratic: d and the parameters within the measured bounds`, () => {
    const start = tensors().map((t) => t.data);
    const f32 = createReferenceOptimizer('prodigy' as never, tensors(), { weightDecay: 0.01 } as never);
    const f64 = createProdigyReference({ params: start, options: { weightDecay: 0.01 }, precision: 'f64' });
    let worstParam = 0;
    let worstD = 0;
    for (let s = 0; s < STEPS; s++) {
      const g = grads(f32);
      f32.step(g);
      f64.step(g);
      f32.params.forEach((p, i) => p.forEach((x, e) => (worstParam = Math.max(worstParam, Math.abs(x - f64.params[i]![e]!) / (Math.abs(f64.params[i]![e]!) + 1e-3)))));
      worstD = Math.max(worstD, Math.abs(f32.setState![0]! - f64.scalars.d) / f64.scalars.d);
    }
    console.log(`prodigy f32 twin vs float64: parameters ${worstParam.toExponential(2)}, d ${worstD.toExponential(2)}`);
    expect(f64.scalars.d).toBeGreaterThan(1e-3);
    expect(worstD).toBeLessThan(1.5e-2);
    expect(worstParam).toBeLessThan(5e-2);
  });
});

describe('prodigy: its definition as registerOptimizer checks it', () => {
  test('whole-set state comes with its twin and its state-dict form: one without the others is refused, naming them', () => {
    const { setStateDict: _dict, ...withoutDict } = prodigy;
    expect(() => registerOptimizer({ ...withoutDict, name: 'prodigy_no_dict' })).toThrow(/setState, setReference and setStateDict must be given together .* got "setState, setReference"/);
    expect(() => registerOptimizer({ ...prodigy, name: 'prodigy_bad_dict', setStateDict: { read: () => ({}) } as never })).toThrow(/setStateDict must be \{ read, words \}/);
  });
});
