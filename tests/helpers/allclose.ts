/**
 * Closeness with a written tolerance: |a − e| ≤ atol + rtol·|e| element by element. NaN passes
 * only against NaN, ±Inf only against the same infinity.
 */
export interface Tolerance {
  atol: number;
  rtol: number;
}

export interface Mismatch {
  index: number;
  actual: number;
  expected: number;
}

/** The first mismatches (at most `limit`), and the largest |a − e| over finite pairs. */
export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, limit = 5) {
  const mismatches: Mismatch[] = [];
  let maxAbs = 0;
  let maxRel = 0;
  if (actual.length !== expected.length) {
    return { mismatches: [{ index: -1, actual: actual.length, expected: expected.length }], maxAbs, maxRel };
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    let ok: boolean;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      ok = Number.isNaN(e) && Number.isNaN(a);
    } else if (!Number.isFinite(e) || !Number.isFinite(a)) {
      ok = a === e;
    } else {
      const diff = Math.abs(a - e);
      maxAbs = Math.max(maxAbs, diff);
      if (e !== 0) maxRel = Math.max(maxRel, diff / Math.abs(e));
      ok = diff <= tol.atol + tol.rtol * Math.abs(e);
    }
    if (!ok && mismatches.length < limit) mismatches.push({ index: i, actual: a, expected: e });
  }
  return { mismatches, maxAbs, maxRel };
}

/** Throws with the first mismatches when `actual` is not close to `expected`. */
export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what: string) {
  const result = compare(actual, expected, tol);
  if (result.mismatches.length > 0) {
    const detail = result.mismatches.map((m) => `[${m.index}] got ${m.actual}, expected ${m.expected}`).join('; ');
    throw new Error(`${what}: not within atol=${tol.atol} rtol=${tol.rtol}: ${detail}`);
  }
  return result;
}
