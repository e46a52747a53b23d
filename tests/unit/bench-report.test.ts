import { describe, expect, test } from 'vitest';
import { targets, verdict } from '../../bench/report.mjs';

const timing = (median: number) => ({ median, min: median, max: median, samples: [median] });
const adam16M = (results: Record<string, unknown>, q8Bytes?: number) => ({
  optimizer: 'adam',
  workload: '1 × 16M',
  elements: 16 << 20,
  tensors: 1,
  bytesPerElement: 28,
  results,
  ...(q8Bytes === undefined ? {} : { stateBytesPerParam: { f32: 8, q8: q8Bytes } }),
});
const q8Targets = (rows: unknown[]) => targets({ rows }).filter((t: { name: string }) => t.name.includes('q8'));

describe('benchmark targets', () => {
  test("the 8-bit state targets are ceilings, read from the largest single tensor's row", () => {
    const met = q8Targets([adam16M({ fused: timing(0.16), fusedQ8: timing(0.12) }, 2.03)]);
    expect(met.map((t: { name: string }) => t.name)).toEqual([
      'Adam q8-state step / f32-state step (GPU time), 1 × 16M',
      'Adam q8 state, bytes per parameter, 1 × 16M',
    ]);
    expect(met[0].value).toBeCloseTo(0.75, 12);
    expect(met.map(verdict)).toEqual(['met', 'met']);
    const missed = q8Targets([adam16M({ fused: timing(0.1592), fusedQ8: timing(0.1199) }, 2.2)]);
    expect(missed.map(verdict)).toEqual(['missed: 1.004× over', 'missed: 1.048× over']);
  });

  test('a section without 8-bit rows reports no 8-bit target; floors keep their direction', () => {
    expect(q8Targets([adam16M({ fused: timing(0.16), fusedBf16: timing(0.11) })])).toEqual([]);
    expect(verdict({ value: 0.95, goal: 0.9, atMost: false })).toBe('met');
    expect(verdict({ value: 0.8, goal: 0.9, atMost: false })).toBe('missed: 1.13× short');
    expect(verdict({ value: undefined, goal: 0.9, atMost: false })).toBe('–');
  });
});
