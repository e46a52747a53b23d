/**
 * The packing of a slot only some tensors hold (src/core/compact-layout.ts), over random sets and
 * segment sizes: every holder's elements in the buffer, none overlapping, from a 64-element
 * boundary congruent to its place mod 128; each segment's binding starts on a 128-element boundary,
 * covers every holder element of the segment, and is never longer than the segment itself.
 */
import { describe, expect, test } from 'vitest';
import { compactLayout, COMPACT_BINDING_ALIGNMENT } from '../../src/core/compact-layout.js';
import { computeLayout } from '../../src/core/layout.js';
import { rng } from '../helpers/data.js';

function randomCase(seed: number) {
  const random = rng(seed);
  const count = 1 + Math.floor(random() * 12);
  const specs = Array.from({ length: count }, (_, i) => ({ name: `t${i}`, length: 1 + Math.floor(random() ** 3 * 20000) }));
  const holders = specs.map(() => random() < 0.5);
  const binding = 4096 * 4 * (1 + Math.floor(random() * 3));
  const layout = computeLayout(specs, { maxStorageBufferBindingSize: binding, maxComputeWorkgroupsPerDimension: 65535, maxBufferSize: 1 << 30 }, 64);
  return { layout, holders, compact: compactLayout(layout, (i) => holders[i]!) };
}

describe('compactLayout', () => {
  test.each(Array.from({ length: 200 }, (_, k) => k))('random set %i', (seed) => {
    const { layout, holders, compact } = randomCase(seed);
    const used: [number, number][] = [];
    layout.tensors.forEach((t, i) => {
      const base = compact.base[i];
      if (!holders[i]) return expect(base).toBeUndefined();
      expect(base! % 64).toBe(0);
      expect(Math.abs((base! - t.offset) % COMPACT_BINDING_ALIGNMENT)).toBe(0);
      expect(base! + t.length).toBeLessThanOrEqual(compact.length);
      used.push([base!, base! + t.length]);
    });
    used.sort((a, b) => a[0] - b[0]).forEach(([, end], k) => k + 1 < used.length && expect(end).toBeLessThanOrEqual(used[k + 1]![0]));
    expect(compact.length % COMPACT_BINDING_ALIGNMENT).toBe(0);
    layout.segments.forEach((segment, s) => {
      const part = compact.segments[s]!;
      expect(part.first % COMPACT_BINDING_ALIGNMENT).toBe(0);
      expect(part.count).toBeLessThanOrEqual(Math.max(segment.elementCount, COMPACT_BINDING_ALIGNMENT));
      expect(part.first + part.count).toBeLessThanOrEqual(compact.length);
      layout.tensors.forEach((t, i) => {
        const from = Math.max(t.offset, segment.firstElement), to = Math.min(t.offset + t.length, segment.firstElement + segment.elementCount);
        if (!holders[i] || from >= to) return;
        expect(compact.base[i]! + from - t.offset).toBeGreaterThanOrEqual(part.first);
        expect(compact.base[i]! + to - t.offset).toBeLessThanOrEqual(part.first + part.count);
      });
    });
  });

  test('no holder: one aligned block, bound whole by every segment', () => {
    const layout = computeLayout([{ name: 'a', length: 100 }], { maxStorageBufferBindingSize: 1 << 20, maxComputeWorkgroupsPerDimension: 65535, maxBufferSize: 1 << 30 }, 64);
    expect(compactLayout(layout, () => false)).toEqual({ base: [undefined], length: 128, segments: [{ first: 0, count: 128 }] });
  });
});
