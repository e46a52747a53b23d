/**
 * Muon's benchmark table (bench/muon-report.mjs): GFLOP/s from the Newton–Schulz FLOPs and the
 * Muon step, the share of a known card's f32 peak (none for unknown or software adapters), the
 * ratios, and a line for every skipped or failed cell.
 */
import { describe, expect, test } from 'vitest';
import { f32Peak, muonTable } from '../../bench/muon-report.mjs';
import { nsFlops } from '../../bench/muon.js';

const m = (median: number) => ({ median, min: median, max: median, steps: 1, samples: [median], clock: 'wall' });

describe('bench Muon table', () => {
  test('FLOPs of 5 full Newton–Schulz steps: 4m²n + 2m³ each, m = min(rows, cols)', () => {
    expect(nsFlops([[4096, 4096]])).toBe(5 * (4 * 4096 ** 3 + 2 * 4096 ** 3));
    expect(nsFlops([[3072, 768]])).toBe(5 * (4 * 768 * 768 * 3072 + 2 * 768 ** 3));
  });

  test('GFLOP/s, share of the H100 peak, Muon ÷ AdamW, jax-js ÷ Muon; skipped and failed cells listed', () => {
    const results = {
      meta: { adapter: { vendor: 'nvidia', description: 'NVIDIA H100 80GB HBM3' } },
      muon: [
        { set: 'A', matrices: 1, elements: 16, nsFlops: 2e9, muon: m(10), adamw: m(1), jax: m(50) },
        { set: 'B', matrices: 1, elements: 16, nsFlops: 1e9, muon: { skipped: 'too big' }, adamw: m(1), jax: { error: 'boom' } },
      ],
    };
    expect(f32Peak(results.meta)).toBe(67);
    const lines = muonTable(results, false) as string[];
    // 2e9 FLOP in 10 ms: 200 GFLOP/s, 0.30 % of 67 TFLOP/s.
    expect(lines).toContain('| A | 1 | 2.00 | 10.0 | 200 | 0.30 % | 1.00 | 10.0× | 50.0 | 5.00× |');
    expect(lines).toContain('| B | 1 | 1.00 | n/a | – | – | 1.00 | – | error | – |');
    expect(lines).toContain('- B, muon: too big');
    expect(lines).toContain('- B, jax: error: boom');
    expect(f32Peak({ adapter: { description: 'SwiftShader' } })).toBeUndefined();
    expect(muonTable({ meta: {}, muon: [] }, true)).toEqual([]);
    // The GEMM variant that ran, where the run recorded it.
    expect(lines.some((l) => l.startsWith('Newton–Schulz GEMMs:'))).toBe(false);
    const recorded = muonTable({ ...results, muon: results.muon.map((r) => ({ ...r, gemms: 'workgroup-memory staging (x)' })) }, false) as string[];
    expect(recorded).toContain('Newton–Schulz GEMMs: workgroup-memory staging (x).');
  });
});
