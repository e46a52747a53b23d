import { describe, expect, test } from 'vitest';
import { markdownSection, targets, verdict } from '../../bench/report.mjs';

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
const q8Targets = (rows: unknown[], gradients: string | null = 'seeded') =>
  targets({ rows, gradients }).filter((t: { name: string }) => t.name.includes('q8'));

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

  test('timed on zero gradients (results from before the benchmark seeded them), the q8 ratio is a lower bound', () => {
    const under = q8Targets([adam16M({ fused: timing(0.16), fusedQ8: timing(0.12) }, 2.03)], null);
    expect(under.map(verdict)).toEqual(['– (a lower bound)', 'met']);
    const over = q8Targets([adam16M({ fused: timing(0.1592), fusedQ8: timing(0.1199) }, 2.03)], null);
    expect(over.map(verdict)).toEqual(['missed: ≥ 1.004× over', 'met']);
  });

  test("a section says what its steps read as gradients, and what zeros mean for its q8 column", () => {
    const meta = { date: '2026-11-27T00:00:00Z', environment: 'Node', adapter: { vendor: 'v' }, runtime: 'r', cpu: 'c', reps: 5, command: 'x' };
    const rows = [adam16M({ fused: timing(0.1592), fusedQ8: timing(0.1199) }, 2.03)];
    const seeded = markdownSection({ meta, rows, gradients: 'seeded', clock: 'gpu-timestamps' });
    expect(seeded).toMatch(/- Gradients: seeded, nonzero/);
    expect(seeded).toMatch(/\| Adam q8-state step \/ f32-state step \(GPU time\), 1 × 16M \| 0\.753× \| ≤ 0\.75× \| missed: 1\.004× over \|/);
    const zero = markdownSection({ meta, rows, clock: 'gpu-timestamps' });
    expect(zero).toMatch(/- Gradients: zero .*the q8 column’s times are lower bounds/);
    expect(zero).toMatch(/\| ≥ 0\.753× \| ≤ 0\.75× \| missed: ≥ 1\.004× over \|/);
    const noQ8 = markdownSection({ meta, rows: [adam16M({ fused: timing(0.16) })], clock: 'gpu-timestamps' });
    expect(noQ8).toMatch(/- Gradients: zero \(timed before the benchmark seeded them\); the f32 and 16-bit kernels do the same work for any values\n/);
  });

  test('a section without 8-bit rows reports no 8-bit target; floors keep their direction', () => {
    expect(q8Targets([adam16M({ fused: timing(0.16), fusedBf16: timing(0.11) })])).toEqual([]);
    expect(verdict({ value: 0.95, goal: 0.9, atMost: false })).toBe('met');
    expect(verdict({ value: 0.8, goal: 0.9, atMost: false })).toBe('missed: 1.13× short');
    expect(verdict({ value: undefined, goal: 0.9, atMost: false })).toBe('–');
  });
});
