/**
 * The 8-bit block-wise quantizer (src/state/q8.ts, the twin of shaders/q8.wgsl): the dynamic maps,
 * nearest-code search against a scan of the map, the special values, runs per tensor, and the
 * accuracy of a stored block.
 */
import { describe, expect, test, vi } from 'vitest';
import { computeLayout, SEGMENT_ALIGN_ELEMENTS } from '../../src/core/layout.js';
import { decodeQ8, dequantizePacked, dynamicMap, encodeQ8, Q8_MAPS, Q8_MIN_TILE_LANES, Q8_TILE_ELEMENTS, Q8_TILE_LANES, q8Chunks, q8TileShape, quantizePacked, resolveQuantization, tensorRuns, zeroCode } from '../../src/state/q8.js';
import { randomArray, rng } from '../helpers/data.js';
import { getDefinition } from '../../src/optimizers/registry.js';
import { TESTED } from '../helpers/records/index.js';
import { createQ8StateBuffers } from '../../src/state/q8-state.js';

const limits = { maxStorageBufferBindingSize: 128 << 20, maxComputeWorkgroupsPerDimension: 65535, maxBufferSize: 256 << 20 };

describe("the dynamic maps (bitsandbytes' construction)", () => {
  test.each([['signed', true], ['unsigned', false]] as const)('%s: 256 sorted distinct f32 values in [-1, 1] with 0 and 1, 7 decades', (_name, signed) => {
    const map = dynamicMap(signed);
    expect(map.length).toBe(256);
    for (let k = 1; k < 256; k++) expect(map[k]!).toBeGreaterThan(map[k - 1]!);
    expect(map.includes(0) && map.includes(1)).toBe(true);
    expect(map[255]).toBe(1);
    const positive = Array.from(map).filter((x) => x > 0);
    expect(positive.length).toBe(signed ? 128 : 255); // 127 (or 254) grid midpoints, and 1
    expect(Math.min(...positive)).toBeCloseTo(1e-6 * (0.1 + 0.9 / 2 / (signed ? 1 : 2)), 12);
    if (signed) expect(map[0]).toBeCloseTo(-(0.1 + (0.9 * 63.5) / 64), 6); // no −1: the most negative is −0.993
    else expect(map[0]).toBe(0);
  });
});

describe('codes', () => {
  test('the nearest map value, ties to the lower, as a scan of the whole map finds it', () => {
    const random = rng(5);
    for (const map of [Q8_MAPS.signed, Q8_MAPS.unsigned]) {
      for (let k = 0; k < 20_000; k++) {
        const absmax = Math.fround(10 ** (random() * 6 - 3));
        const x = Math.fround((map === Q8_MAPS.signed ? 2 * random() - 1 : random()) * absmax * (random() < 0.1 ? 1e-5 : 1));
        const n = Math.fround(x / absmax);
        let best = 0;
        for (let c = 1; c < 256; c++) if (Math.fround(Math.abs(Math.fround(map[c]! - n))) < Math.fround(Math.abs(Math.fround(map[best]! - n)))) best = c;
        expect(encodeQ8(map, x, absmax), `${x} / ${absmax}`).toBe(best);
      }
    }
  });

  test('special values: absmax 0 → 0, absmax NaN → NaN for every element, ±Inf at the ends of the map', () => {
    const map = Q8_MAPS.signed;
    expect(decodeQ8(map, encodeQ8(map, 0, 0), 0)).toBe(0);
    for (const x of [0, 1, -3]) expect(decodeQ8(map, encodeQ8(map, x, NaN), NaN)).toBeNaN();
    expect(decodeQ8(map, encodeQ8(map, Infinity, Infinity), Infinity)).toBe(Infinity);
    expect(decodeQ8(map, encodeQ8(map, -Infinity, Infinity), Infinity)).toBe(-Infinity);
    expect(decodeQ8(map, encodeQ8(map, 5, Infinity), Infinity)).toBe(0); // finite values of an Inf run
    expect(encodeQ8(map, 0, 1)).toBe(zeroCode(map));
    expect(decodeQ8(map, 255, 3)).toBe(3); // the absmax itself is exact
  });

  test('a block of moments is stored to within 1.5 % of its absmax, and its largest element exactly', () => {
    const values = randomArray(256, rng(8));
    const layout = computeLayout([{ name: 'm', length: 256 }], limits, 256);
    const chunks = q8Chunks(layout, { blockSize: 256, minQuantizedElements: 0 });
    const stored = quantizePacked(values, chunks, Q8_MAPS.signed);
    const back = dequantizePacked(stored, chunks, Q8_MAPS.signed);
    const absmax = Math.max(...Array.from(values, Math.abs));
    expect(stored.absmax[0]).toBe(absmax);
    let worst = 0;
    values.forEach((x, e) => (worst = Math.max(worst, Math.abs(back[e]! - x) / absmax)));
    console.log(`q8 block of 256 random moments: largest error ${worst.toExponential(2)} of the absmax`);
    expect(worst).toBeLessThan(0.015);
  });
});

describe('runs: blocks cut at tensor boundaries, small tensors in f32', () => {
  test('each tensor has a scale of its own in a shared block; side chunks counted; runs per tensor', () => {
    // 'a' 100 (side under 150), 'b' 300 at 128, 'c' 200 at 448: block 256 holds b's head and tail.
    const layout = computeLayout([{ name: 'a', length: 100 }, { name: 'b', length: 300 }, { name: 'c', length: 200 }], limits, 256);
    const chunks = q8Chunks(layout, { blockSize: 256, minQuantizedElements: 150 });
    expect(layout.tensors.map((t) => t.offset)).toEqual([0, 128, 448]);
    expect(Array.from(chunks.kind)).toEqual([-1, -2, 64, 64, 64, 64, 44, 64, 64, 64, 8]);
    // b: chunks 2-3 (block 0), 4-6 (block 1); c: chunk 7 (block 1), chunks 8-10 (block 2).
    expect(Array.from(chunks.run)).toEqual([-1, -1, 0, 0, 1, 1, 1, 2, 3, 3, 3]);
    expect(chunks.runs).toBe(4);
    expect(layout.tensors.map((t) => tensorRuns(t, 256))).toEqual([1, 2, 2]);
    // Different scales in one block stay apart: c's small values are not rounded against b's.
    const values = new Float32Array(layout.paddedLength);
    values.fill(1000, 128, 428);
    values.fill(1e-3, 448, 648);
    const stored = quantizePacked(values, chunks, Q8_MAPS.unsigned);
    expect(Array.from(stored.absmax)).toEqual([1000, 1000, Math.fround(1e-3), Math.fround(1e-3)]);
    expect(dequantizePacked(stored, chunks, Q8_MAPS.unsigned)[448]).toBe(Math.fround(1e-3));
  });

  test('options', () => {
    expect(resolveQuantization(undefined, 8, 'x')).toEqual({ blockSize: 256, minQuantizedElements: 4096 });
    expect(resolveQuantization(undefined, undefined, 'x')).toBeUndefined();
    expect(resolveQuantization({ blockSize: 1024 }, 8, 'x')).toEqual({ blockSize: 1024, minQuantizedElements: 4096 });
    expect(resolveQuantization({ blockSize: 4096 }, 8, 'x')).toEqual({ blockSize: 4096, minQuantizedElements: 4096 });
    expect(() => resolveQuantization({ blockSize: 32 }, 8, 'createOptimizer')).toThrow(/createOptimizer: quantization.blockSize must be a power of two in \[64, 4096\], got 32/);
    expect(() => resolveQuantization({ blockSize: 8192 }, 8, 'createOptimizer')).toThrow(/got 8192/);
  });

  test("a workgroup's tile holds whole blocks: segments start at multiples of it", () => {
    expect(SEGMENT_ALIGN_ELEMENTS % Q8_TILE_ELEMENTS).toBe(0);
    expect(Q8_TILE_ELEMENTS % 4096).toBe(0);
    for (let blockSize = 64; blockSize <= 4096; blockSize *= 2) {
      const { lanes, laneVectors, elements } = q8TileShape(blockSize);
      expect(elements % blockSize, `blockSize ${blockSize}`).toBe(0);
      expect(Q8_TILE_ELEMENTS % elements).toBe(0);
      expect(elements).toBe(lanes * 4 * laneVectors);
      expect(lanes).toBeGreaterThanOrEqual(Q8_MIN_TILE_LANES);
      expect(lanes).toBeLessThanOrEqual(Q8_TILE_LANES);
      // The smallest such tile: half of it would not hold a block, or would be under the fewest lanes.
      expect(elements / 2 < blockSize || lanes === Q8_MIN_TILE_LANES, `blockSize ${blockSize}`).toBe(true);
      // 16 vec4s per chunk: a chunk's lanes share it evenly.
      expect(16 % laneVectors).toBe(0);
      expect(laneVectors).toBeLessThanOrEqual(4);
    }
    expect(q8TileShape(256)).toEqual({ lanes: Q8_MIN_TILE_LANES, laneVectors: 2, elements: Q8_MIN_TILE_LANES * 8 });
    expect(q8TileShape(2048)).toEqual({ lanes: 256, laneVectors: 2, elements: 2048 });
    expect(q8TileShape(4096)).toEqual({ lanes: 256, laneVectors: 4, elements: 4096 });
  });
});

describe('the q8 buffers respect the binding limit', () => {
  // Only chunks with a run have codes (¼ word per element, absmax at most 1/64), side values take
  // one word per element: a segment's q8 binding never exceeds its parameters', which the layout
  // keeps within maxStorageBufferBindingSize.
  test.each([
    ['small tensors only', Array.from({ length: 300 }, () => 64), 4096, 256],
    ['quantized only, blocks of 64', [9000, 9000, 5000], 0, 64],
    ['mixed, blocks of 4096', [5000, 100, 9000, 3, 4099], 4096, 4096],
  ] as const)('%s: every segment, every slot', (_label, lengths, minQuantizedElements, blockSize) => {
    const limit = 64 * 1024;
    const layout = computeLayout(lengths.map((length, i) => ({ name: `t${i}`, length })), { ...limits, maxStorageBufferBindingSize: limit }, 256);
    expect(layout.segments.length).toBeGreaterThan(1);
    vi.stubGlobal('GPUBufferUsage', { STORAGE: 0x80, UNIFORM: 0x40, COPY_SRC: 0x4, COPY_DST: 0x8 });
    const device = { limits: { maxStorageBufferBindingSize: limit }, createBuffer: () => ({}), queue: { writeBuffer: () => undefined } } as unknown as GPUDevice;
    const slots = [{ name: 'exp_avg', wgsl: 'expAvg' }, { name: 'exp_avg_sq', wgsl: 'expAvgSq', squared: true }];
    const state = createQ8StateBuffers({ device, label: 'test', layout, slots, quantization: { blockSize, minQuantizedElements }, tensorGroup: [] });
    for (const segment of layout.segments) {
      for (const slot of slots) expect(state.range(slot.name, segment).size).toBeLessThanOrEqual(segment.elementCount * 4);
    }
    vi.unstubAllGlobals();
  });
});

describe('partialsStore', () => {
  /** The body of `fn partials(...)` in a kernel's WGSL (up to the next top-level function). */
  const partialsBody = (source: string) => source.slice(source.indexOf('fn partials('), source.indexOf('\nfn ', source.indexOf('fn partials(') + 1));

  // 8-bit state quantizes what partials() stores in the per-tensor pass only when the definition
  // says so (else the update pass would requantize it): the flag must follow the kernel's source.
  test.each(TESTED.filter((name) => getDefinition(name).tensorSums && !getDefinition(name).shapedSlots))('%s: set exactly when its partials() stores a state slot', (name) => {
    const definition = getDefinition(name);
    const body = partialsBody(definition.kernel.source);
    expect(body).toContain('fn partials(');
    const stores = definition.slots({}).filter((slot) => body.includes(`${slot.wgsl}Store(`));
    expect(stores.length > 0, stores.map((slot) => slot.name).join(', ')).toBe(definition.partialsStore !== undefined);
  });
});

