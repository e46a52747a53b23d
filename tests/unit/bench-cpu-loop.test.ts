import { describe, expect, test } from 'vitest';
import { cpuLoopFor, fastCpuKernel, makeCpuState } from '../../bench/cpu-kernels.js';
import { terminalTable } from '../../bench/report.mjs';

describe('the benchmark CPU loop', () => {
  test('an optimizer it has no loop for is skipped, saying why, instead of throwing', () => {
    expect(fastCpuKernel({ name: 'signum' })).toBeUndefined();
    expect(fastCpuKernel({ name: 'toString' })).toBeUndefined(); // not an inherited property either
    expect(cpuLoopFor({ name: 'signum' })).toEqual({ skipped: 'no plain-JS loop for signum in bench/cpu-kernels.js' });
  });

  test('an optimizer it has a loop for gets that loop, and the loop steps', () => {
    const loop = cpuLoopFor({ name: 'adam' });
    if (!('kernel' in loop)) throw new Error(`adam has no loop: ${loop.skipped}`);
    const st = makeCpuState(8);
    const before = Float32Array.from(st.param);
    loop.kernel(st, 1, 0, 8);
    // Adam's first step moves every parameter by lr against its gradient's sign (|m̂ / √v̂| = 1).
    for (let i = 0; i < 8; i++) expect(st.param[i]).toBeCloseTo(before[i]! - 1e-3 * Math.sign(st.grad[i]!), 6);
  });

  test("the skipped cell's row says so in the terminal table", () => {
    const timing = (median: number) => ({ median, min: median, max: median });
    const row = { optimizer: 'signum', workload: '1 × 1M', elements: 1 << 20, tensors: 1, bytesPerElement: 16, results: { fused: timing(2), cpuFast: cpuLoopFor({ name: 'signum' }) } };
    const table = terminalTable({ meta: { adapter: { vendor: 'nvidia' }, reps: 3 }, rows: [row] });
    const line = table.split('\n').find((l) => l.startsWith('1 × 1M'))!;
    expect(line).toMatch(/n\/a¹/);
    expect(table).toContain('¹ n/a: no plain-JS loop for signum in bench/cpu-kernels.js.');
  });
});
