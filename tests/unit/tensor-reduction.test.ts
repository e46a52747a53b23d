/**
 * The per-tensor sums' tables and the CPU twin of their summation order (src/passes/tensor-reduction.ts):
 * the GPU side is compared with this twin bit for bit in tests/gpu/layerwise.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { computeLayout } from '../../src/core/layout.js';
import { chunkTensorTable, scratchEntries, SPAN_CHUNKS, tensorSum, tensorSumOfSquares, tensorSumRows, trustRatio } from '../../src/passes/tensor-reduction.js';
import { randomArray, rng } from '../helpers/data.js';

const limits = { maxStorageBufferBindingSize: 128 << 20, maxComputeWorkgroupsPerDimension: 65535, maxBufferSize: 256 << 20 };

describe('tables', () => {
  // 1 element, 130 (3 chunks, the last with 2), an empty tensor, 64 (one full chunk).
  const layout = computeLayout(
    [{ name: 'a', length: 1 }, { name: 'b', length: 130 }, { name: 'e', length: 0 }, { name: 'c', length: 64 }],
    limits,
    256,
  );
  test('chunk → (tensor, scratch entry, elements, group)', () => {
    const table = chunkTensorTable(layout, [0, 1, 1, 2]);
    const rows = Array.from({ length: table.length / 4 }, (_, c) => Array.from(table.subarray(c * 4, c * 4 + 4)));
    expect(layout.paddedLength).toBe(64 * 5);
    // 4 tensors: chunk c's partial lives at entry 4 + c.
    expect(rows).toEqual([
      [0, 4, 1, 0],
      [1, 5, 64, 1],
      [1, 6, 64, 1],
      [1, 7, 2, 1],
      [3, 8, 64, 2],
    ]);
    expect(scratchEntries(layout)).toBe(4 + 5);
  });
  test('one span each: rows (first partial, chunk count, the tensor\'s own entry), no second pass', () => {
    const { spans, tensors } = tensorSumRows(layout);
    expect(Array.from(spans)).toEqual([4, 1, 0, 0, 5, 3, 1, 0, 8, 0, 2, 0, 8, 1, 3, 0]);
    expect(tensors.length).toBe(0);
  });
  test('a tensor of several spans: its spans write span sums after the partials, a second row adds them', () => {
    // 'x': 3 chunks; 'big': 2 · 4096 + 1 chunks (3 spans); 'y': 1 chunk.
    const big = computeLayout([{ name: 'x', length: 130 }, { name: 'big', length: (2 * SPAN_CHUNKS + 1) * 64 }, { name: 'y', length: 5 }], limits, 256);
    const chunks = big.paddedLength / 64; // 3 + 8193 + 1
    const { spans, tensors } = tensorSumRows(big);
    const rows = (t: Uint32Array) => Array.from({ length: t.length / 4 }, (_, r) => Array.from(t.subarray(r * 4, r * 4 + 4)));
    const spanBase = 3 + chunks;
    expect(rows(spans)).toEqual([
      [3, 3, 0, 0],
      [3 + 3, SPAN_CHUNKS, spanBase, 0],
      [3 + 3 + SPAN_CHUNKS, SPAN_CHUNKS, spanBase + 1, 0],
      [3 + 3 + 2 * SPAN_CHUNKS, 1, spanBase + 2, 0],
      [3 + 3 + 2 * SPAN_CHUNKS + 1, 1, 2, 0],
    ]);
    expect(rows(tensors)).toEqual([[spanBase, 3, 1, 0]]);
    expect(scratchEntries(big)).toBe(spanBase + 3);
  });
  test('a set without tensors still has one scratch entry and one table row', () => {
    const empty = computeLayout([], limits, 256);
    expect(scratchEntries(empty)).toBe(1); // one padding chunk, no tensors
    expect(tensorSumRows(empty).spans.length).toBe(4);
  });
});

describe('sums in the GPU order', () => {
  test('equal the float64 sum within f32 accuracy on 1M elements', () => {
    const x = randomArray(1_000_003, rng(3));
    const exact = Array.from(x).reduce((a, v) => a + v * v, 0);
    const twin = tensorSumOfSquares(x);
    // Tree order: error ~ log2(n)·2⁻²⁴ relative, far below 1e-5 (a sequential f32 sum would drift more).
    let sequential = 0;
    for (const v of x) sequential = Math.fround(sequential + Math.fround(v * v));
    console.log(`Σx² of 1M elements, relative error against float64: GPU order ${Math.abs(twin - exact) / exact}, sequential f32 ${Math.abs(sequential - exact) / exact}`);
    expect(Math.abs(twin - exact) / exact).toBeLessThan(1e-5);
  });
  test('several spans: the span sums added in the lane order, which differs from one long lane order', () => {
    // Terms of 1/64 make every chunk partial 1: the span sums (4096, 4096, 1) and their sum are exact.
    const n = (2 * SPAN_CHUNKS + 1) * 64;
    expect(tensorSum(n, () => 1 / 64)).toBe(2 * SPAN_CHUNKS + 1);
    // A tiny term in the third span survives a sum that a single lane order would round away.
    const big = 2 ** 24;
    const terms = (e: number) => (e === 0 ? big : e === 2 * SPAN_CHUNKS * 64 ? 1 : e === 2 * SPAN_CHUNKS * 64 + 64 ? 1 : 0);
    expect(tensorSum(2 * SPAN_CHUNKS * 64 + 128, terms)).toBe(big + 2);
  });
  test('empty, one element, padding lanes ignored, NaN propagated', () => {
    expect(tensorSumOfSquares(new Float32Array(0))).toBe(0);
    expect(tensorSumOfSquares(Float32Array.of(3))).toBe(9);
    expect(tensorSumOfSquares(Float32Array.of(1, 2, 2))).toBe(9);
    expect(tensorSumOfSquares(Float32Array.of(1, NaN))).toBeNaN();
  });
  test('the order is the documented one: (x² + y²) + … per lane, not a sequential sum', () => {
    // 1 + 2⁻²⁴ + 2⁻²⁴ …: sequentially each tiny term rounds away; lane sums keep them.
    const x = new Float32Array(64).fill(2 ** -12);
    x[0] = 1;
    let sequential = 0;
    for (const v of x) sequential = Math.fround(sequential + Math.fround(v * v));
    expect(sequential).toBe(1);
    expect(tensorSumOfSquares(x)).toBeGreaterThan(1);
  });
});

describe('trust ratio', () => {
  test('η‖p‖ / (‖u‖ + eps), and 1 when a norm is 0', () => {
    expect(trustRatio(16, 4, 1, 0)).toBe(2);
    expect(trustRatio(16, 4, 0.001, 0)).toBe(Math.fround(0.002));
    expect(trustRatio(16, 4, 1, 2)).toBe(1);
    expect(trustRatio(0, 4, 1, 0)).toBe(1);
    expect(trustRatio(16, 0, 1, 0)).toBe(1);
    expect(trustRatio(NaN, 4, 1, 0)).toBeNaN();
  });
});
