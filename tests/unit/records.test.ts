/**
 * The test records themselves: one per optimizer the library accepts now (built-in and registered),
 * and an eps-sensitive row that really sets eps, for exactly the optimizers that take it (the
 * compiler asks for the row; this checks what it holds).
 */
import { expect, test } from 'vitest';
import { listOptimizers } from '../../src/index.js';
import { getDefinition } from '../../src/optimizers/registry.js';
import { OPTION_MATRIX } from '../helpers/cases.js';
import { RECORDS, TESTED } from '../helpers/records/index.js';

test('one record per optimizer the library accepts, the test-only ones included, in registration order', () => {
  expect(TESTED).toEqual(listOptimizers());
  expect(Object.keys(RECORDS).sort()).toEqual([...listOptimizers()].sort());
  expect(TESTED).toContain('signum');
});

test.each(TESTED)('%s: an eps-sensitive row (eps far above its default) exactly when it takes eps, before the richest row', (name) => {
  const defaults = getDefinition(name).defaults as Record<string, unknown>;
  const row = RECORDS[name].epsSensitive as Record<string, unknown> | undefined;
  expect(row !== undefined, 'has an epsSensitive row').toBe('eps' in defaults);
  if (row === undefined) return;
  // Adafactor's eps is a pair (ε₁, ε₂): each at least 1000 times its default; else eps itself.
  const given = [row.eps].flat() as number[];
  const fallback = [defaults.eps].flat() as number[];
  given.forEach((eps, i) => expect(eps, `eps[${i}]`).toBeGreaterThanOrEqual(1000 * (fallback[i] ?? 0)));
  expect(given.every((eps) => eps >= 1e-3), JSON.stringify(row)).toBe(true);
  const matrix = OPTION_MATRIX[name];
  expect(matrix.at(-2)).toBe(row);
});
