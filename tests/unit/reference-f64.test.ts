/**
 * The f32 reference against an independent float64 implementation of each algorithm written from
 * the pseudo-code in PyTorch's docs (https://pytorch.org/docs/1.13/optim.html), over 10 steps and
 * the whole option matrix, parameters and every state slot. A misplaced eps, a wrong bias
 * correction or a step-1 rule shows up far above the tolerance; f32 rounding over 10 steps stays
 * below it (rtol 1e-4, atol 1e-6).
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer } from '../../src/index.js';
import { compare, type Tolerance } from '../helpers/allclose.js';
import { OPTION_MATRIX } from '../helpers/cases.js';
import { randomArray, rng } from '../helpers/data.js';
import { RECORDS, type TestOptimizerName } from '../helpers/records/index.js';
import type { ElementState, ElementTwin, TensorTwin } from '../helpers/records/record.js';
import { adamElementTwin } from '../helpers/records/adam.js';

const TOLERANCE: Tolerance = { atol: 1e-6, rtol: 1e-4 };

/**
 * Compares every state slot of the reference (one tensor) against the twin's, by PyTorch slot name:
 * returns one line per slot that has no twin counterpart or differs beyond the tolerance. A slot
 * the reference keeps as one number (NAdam's mu_product) is compared with every element's twin value.
 */
function stateMismatches(name: TestOptimizerName, slots: Readonly<Record<string, unknown>>, twinSlot: (key: string) => readonly (number | undefined)[] | undefined) {
  const problems: string[] = [];
  for (const [slot, value] of Object.entries(slots)) {
    const key = RECORDS[name].twinSlots[slot];
    const twinValues = key === undefined ? undefined : twinSlot(key);
    if (twinValues === undefined || twinValues.length === 0 || twinValues.some((x) => x === undefined)) {
      problems.push(`${slot}: no twin counterpart (${key === undefined ? 'unmapped' : `twin key ${key} unset`})`);
      continue;
    }
    const expected = twinValues as readonly number[];
    const actual = typeof value === 'number' ? expected.map(() => value) : (value as Float32Array);
    const r = compare(actual, expected, TOLERANCE);
    if (r.mismatches.length > 0) problems.push(`${slot}: ${JSON.stringify(r.mismatches)}`);
  }
  return problems;
}

describe.each(Object.entries(OPTION_MATRIX))('%s', (name, matrix) => {
  test.each(matrix.map((o) => [JSON.stringify(o), o] as const))('%s matches float64 over 10 steps, parameters and state', (_l, options) => {
    const random = rng(42);
    const p0 = randomArray(257, random);
    const ref = createReferenceOptimizer(name as never, [p0.slice()], options as never);
    const expected = Array.from(p0);
    const states: ElementState[] = expected.map(() => ({}));
    const tensorState: Record<string, number[]> = {};
    const twin = RECORDS[name as TestOptimizerName].twin as ElementTwin | TensorTwin;
    for (let t = 1; t <= 10; t++) {
      const g = randomArray(257, rng(t));
      ref.step([g]);
      if ('tensor' in twin) twin.tensor(options, expected, g, tensorState, t, [257]);
      else for (let i = 0; i < expected.length; i++) expected[i] = twin(options, expected[i]!, g[i]!, states[i]!, t);
    }
    const r = compare(ref.params[0]!, expected, TOLERANCE);
    expect(r.mismatches).toEqual([]);
    const twinSlot = (key: string) => ('tensor' in twin ? tensorState[key] : states.map((s) => s[key]));
    expect(stateMismatches(name as TestOptimizerName, ref.stateDict().state[0]!, twinSlot)).toEqual([]);
  });
});

test('the twins are sensitive: eps inside instead of outside the root is caught', () => {
  const o = { eps: 0.1 };
  const ref = createReferenceOptimizer('adam', [new Float32Array([1])], o);
  ref.step([new Float32Array([0.05])]);
  const s: ElementState = {};
  const outside = adamElementTwin(o, 1, 0.05, s, 1);
  const inside = 1 - (1e-3 * 0.05) / Math.sqrt(0.05 * 0.05 + 0.1);
  expect(Math.abs(ref.params[0]![0]! - outside)).toBeLessThan(1e-7);
  expect(Math.abs(ref.params[0]![0]! - inside)).toBeGreaterThan(1e-5);
});

test.each([[12, 21], [2, 3, 5], [40, 1]])('adafactor on a matrix of shape %j (factored state) matches float64 over 10 steps', (...shape) => {
  const length = shape.reduce((a, b) => a * b, 1);
  for (const options of OPTION_MATRIX.adafactor) {
    const p0 = randomArray(length, rng(7));
    const ref = createReferenceOptimizer('adafactor', [{ name: 'w', data: p0.slice(), shape }], options);
    const expected = Array.from(p0);
    const state: Record<string, number[]> = {};
    for (let t = 1; t <= 10; t++) {
      const g = randomArray(length, rng(t));
      ref.step([g]);
      RECORDS.adafactor.twin.tensor(options, expected, g, state, t, shape);
    }
    expect(compare(ref.params[0]!, expected, TOLERANCE).mismatches, JSON.stringify(options)).toEqual([]);
    const slots = ref.stateDict().state[0]!;
    expect(Object.keys(slots).sort()).toEqual(['col_var', 'row_var']);
    expect(stateMismatches('adafactor', slots, (key) => state[key]), JSON.stringify(options)).toEqual([]);
  }
});
