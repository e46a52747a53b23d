import { describe, expect, test } from 'vitest';
import { SEGMENT_ALIGN_ELEMENTS, computeLayout } from '../../src/core/layout.js';
import { kernelSource } from '../../src/engine/wgsl.js';
import type { KernelVariant } from '../../src/engine/kernel-variant.js';
import type { KernelDefines, OptimizerDefinition } from '../../src/core/definition.js';
import { preprocess } from '../../src/core/wgsl-preprocess.js';
import { storageBufferCount } from '../../src/engine/bindings.js';
import { kernelDefines } from '../../src/core/config.js';
import { adam } from '../../src/optimizers/adam/definition.js';
import { lamb } from '../../src/optimizers/lamb/definition.js';
import { muon } from '../../src/optimizers/muon/definition.js';
import { prodigy } from '../../src/optimizers/prodigy/definition.js';
import { newtonSchulzPassWith } from '../../src/passes/newton-schulz.js';
import { stateFormatDefines } from '../../src/state/state-format.js';

const big = { maxStorageBufferBindingSize: 128 << 20, maxComputeWorkgroupsPerDimension: 65535, maxBufferSize: 256 << 20 };

describe('computeLayout', () => {
  test('tensor shapes: kept as given, [length] by default; a shape that does not hold the values is refused', () => {
    const layout = computeLayout([{ name: 'w', length: 6, shape: [2, 3] }, { name: 'b', length: 3 }, { name: 'k', length: 24, shape: [2, 3, 4] }, { name: 's', length: 1, shape: [] }], big, 256);
    expect(layout.tensors.map((t) => t.shape)).toEqual([[2, 3], [3], [2, 3, 4], []]);
    expect(() => computeLayout([{ name: 'w', length: 5, shape: [2, 3] }], big, 256)).toThrow('tensor "w" has shape [2, 3] (6 elements) but 5 values');
    expect(() => computeLayout([{ name: 'w', length: 6, shape: [2, -3] as number[] }], big, 256)).toThrow(/shape \[2,-3\]; a shape is an array of integers >= 0/);
    expect(() => computeLayout([{ name: 'w', length: 6, shape: [2.5, 2] }], big, 256)).toThrow(/a shape is an array of integers/);
    expect(() => computeLayout([{ name: 'w', length: 6, shape: '2x3' as never }], big, 256)).toThrow(/has shape "2x3"/);
  });

  test('offsets on 64-element boundaries, padded length a multiple of 64', () => {
    const layout = computeLayout([1, 3, 63, 64, 65, 0, 100_003].map((length, i) => ({ name: `t${i}`, length })), big, 256);
    expect(layout.tensors.map((t) => t.offset)).toEqual([0, 64, 128, 192, 256, 384, 384]);
    expect(layout.tensors.every((t) => t.byteOffset === t.offset * 4 && t.byteLength === t.length * 4)).toBe(true);
    expect(layout.paddedLength).toBe(384 + 100_032);
    expect(layout.segments).toEqual([{ firstElement: 0, elementCount: 100_416, workgroupsX: 99, workgroupsY: 1 }]);
  });

  test('splits by binding size; segments cover everything exactly once', () => {
    const layout = computeLayout([{ name: 'w', length: 50_000 }], { ...big, maxStorageBufferBindingSize: 40_000 }, 256);
    // 10 000 elements fit a binding; segments are multiples of 4096 elements: 8192.
    expect(layout.segments.map((s) => s.elementCount)).toEqual([8192, 8192, 8192, 8192, 8192, 8192, 896]); // 50 048 padded − 6·8192
    expect(layout.paddedLength).toBe(50_048);
    let next = 0;
    for (const s of layout.segments) {
      expect(s.firstElement).toBe(next);
      expect(s.firstElement % SEGMENT_ALIGN_ELEMENTS).toBe(0);
      next += s.elementCount;
    }
    expect(next).toBe(layout.paddedLength);
  });

  test('2-D dispatch when workgroups exceed one dimension, split when they exceed its square', () => {
    const twoD = computeLayout([{ name: 'w', length: 20_000 }], { ...big, maxComputeWorkgroupsPerDimension: 8 }, 64);
    // 20 032 elements / 256 per workgroup = 79 workgroups → 8 × 10 would exceed 8, so split:
    // capacity 8·8·256 = 16 384 elements per segment.
    expect(twoD.segments.map((s) => [s.elementCount, s.workgroupsX, s.workgroupsY])).toEqual([[16384, 8, 8], [3648, 8, 2]]);
    for (const s of twoD.segments) expect(s.workgroupsX * s.workgroupsY * 256).toBeGreaterThanOrEqual(s.elementCount);
  });

  test('clear errors', () => {
    expect(() => computeLayout([{ name: 'w', length: 1 }, { name: 'w', length: 2 }], big, 256)).toThrow(/used twice/);
    expect(() => computeLayout([{ name: '', length: 1 }], big, 256)).toThrow(/non-empty string name/);
    expect(() => computeLayout([{ name: 'w', length: 1.5 }], big, 256)).toThrow(/invalid length/);
    expect(() => computeLayout([{ name: 'w', length: 1e6 }], { ...big, maxBufferSize: 1e6 }, 256)).toThrow(/maxBufferSize/);
    expect(() => computeLayout([{ name: 'w', length: 10 }], { ...big, maxStorageBufferBindingSize: 1024 }, 256)).toThrow(/fewer than 4096/);
  });
});

/** A kernel variant of `main` (a tile of `laneVectors` vec4s per lane when given). */
function variant(definition: OptimizerDefinition<any, any>, flags: KernelDefines, laneVectors?: number): KernelVariant {
  const stateFormat = flags.Q8 ? 'q8' : 'f32';
  if (laneVectors === undefined) return { definition, flags, stateFormat, entryPoint: 'main', grid: { kind: 'vectors', workgroupSize: 64, vectorsPerInvocation: 1 } };
  return { definition, flags, stateFormat, entryPoint: 'mainBlockwise', grid: { kind: 'tile', tile: { lanes: 64, laneVectors, elements: 256 * laneVectors } } };
}

describe('shader preprocessing', () => {
  test('flags select the code', () => {
    const src = 'a\n#if X\nb\n#else\nc\n#endif\nd';
    expect(preprocess(src, { X: true }).replace(/\s+/g, '')).toBe('abd');
    expect(preprocess(src, { X: false }).replace(/\s+/g, '')).toBe('acd');
    expect(() => preprocess(src, {})).toThrow(/flag X has no value/);
  });
  test('variants bind only the state they use', () => {
    const plain = kernelSource(variant(adam, { AMSGRAD: false, MAXIMIZE: false, DECOUPLED: false, CAUTIOUS: false, MULTI_GROUP: false, GRAD_CONTROL: false, LAYERWISE: false, NS_GROUPS: false, Q8: false }));
    const ams = kernelSource(variant(adam, { AMSGRAD: true, MAXIMIZE: true, DECOUPLED: true, CAUTIOUS: false, MULTI_GROUP: true, GRAD_CONTROL: true, LAYERWISE: false, NS_GROUPS: false, Q8: false }));
    expect(plain).not.toMatch(/maxExpAvgSq|chunkGroup\[|var<storage, read> control|#/);
    expect(ams).toMatch(/@binding\(7\) var<storage, read_write> maxExpAvgSq/);
    expect(ams).not.toMatch(/chunkTensor|tensorScratch|tensorPartials/);
    expect(ams).toMatch(/chunkGroup\[i \/ 16u\]/);
    expect(ams).toMatch(/let d = -g;/);
    expect(ams).toMatch(/@binding\(4\) var<storage, read> control: Control/);
    expect(ams).toMatch(/struct Hyper \{\n  beta1: f32/);
    expect(ams).toMatch(/h.negStepSize = h.negStepSize \/ s.x;\n  h.bc2Sqrt = s.y;/);
  });
  test("an 8-bit kernel keeps one private value per vec4 of a lane, as many as the pipeline's tile holds", () => {
    const defines = { AMSGRAD: false, MAXIMIZE: false, DECOUPLED: false, CAUTIOUS: false, MULTI_GROUP: false, GRAD_CONTROL: false, LAYERWISE: false, NS_GROUPS: false, STOCHASTIC: false, ...stateFormatDefines('q8') };
    const two = kernelSource(variant(adam, defines, 2));
    expect(two).toMatch(/const LANE_VECTORS = 2u;/);
    expect(two).toMatch(/var<private> expAvgSqPending1: vec4<f32>;/);
    expect(two).not.toMatch(/Pending2/);
    expect(two).toMatch(/bits = max\(bits, q8AbsBits\(expAvgPending1, 1u\)\);/);
    expect(two).toMatch(/case 1u: \{ return expAvgSqPending1; \}/);
    const one = kernelSource(variant(adam, defines, 1));
    expect(one).toMatch(/const LANE_VECTORS = 1u;/);
    expect(one).toMatch(/var<private> expAvgSqPending0: vec4<f32>;/);
    expect(one).not.toMatch(/Pending1/);
    const four = kernelSource(variant(adam, defines, 4));
    expect(four).toMatch(/const LANE_VECTORS = 4u;/);
    expect(four).toMatch(/var<private> expAvgSqPending3: vec4<f32>;/);
    expect(four).toMatch(/case 3u: \{ expAvgPending3 = x; \}/);
    expect(() => kernelSource(variant(adam, defines, 3))).toThrow(/8-bit tiles hold 1, 2 or 4 vec4s per lane, got 3/);
  });
  test('a layer-wise variant reads its group from the chunk → tensor table and has the partials pass', () => {
    const lw = kernelSource(variant(lamb, { MAXIMIZE: false, MULTI_GROUP: true, GRAD_CONTROL: true, LAYERWISE: true, CHUNKS_IN_SCRATCH: false, NS_GROUPS: false, Q8: false }));
    expect(lw).not.toMatch(/chunkGroup/);
    expect(lw).toMatch(/return chunkInfo\(i\)\.w;/);
    expect(lw).toMatch(/fn chunkInfo\(i: u32\) -> vec4<u32> \{\s*return chunkTensor\[i \/ 16u\];/);
    expect(lw).toMatch(/@binding\(4\) var<storage, read> chunkTensor: array<vec4<u32>>/);
    expect(lw).toMatch(/@binding\(5\) var<storage, read_write> tensorScratch/);
    expect(lw).toMatch(/fn tensorPartials\(/);
    // hyper, param, grad, control, chunkTensor, tensorScratch, two moments: within the default 8.
    expect(storageBufferCount(variant(lamb, { MAXIMIZE: false, MULTI_GROUP: true, GRAD_CONTROL: true, LAYERWISE: true, Q8: false }))).toBe(8);
  });
  test("Muon with AdamW beside it reads its group from the Newton–Schulz table: 7 storage buffers (8 with gradient control: within the default limit)", () => {
    const hybrid = { ...muon.defaults, adamw: {} };
    const flags = { ...kernelDefines(muon, [hybrid, { ...hybrid, role: 'adamw' as const }]), GRAD_CONTROL: false, Q8: false };
    expect(flags).toMatchObject({ HYBRID: true, MULTI_GROUP: true, NS_GROUPS: true });
    const source = kernelSource(variant(muon, flags));
    expect(source).not.toMatch(/chunkGroup/);
    expect(source).toMatch(/return nsGroupAt\(i\);/);
    // hyper, param, grad, muonTable, muonScratch, momentum_buffer (exp_avg stored in it), exp_avg_sq.
    expect(storageBufferCount(variant(muon, flags))).toBe(7);
    expect(storageBufferCount(variant(muon, { ...flags, GRAD_CONTROL: true }))).toBe(8);
    expect(source).toMatch(/fn expAvgLoad\(i: u32\) -> vec4<f32> \{ return momentumBuffer\[i\]; \}/);
  });
  test('Prodigy keeps its chunk → tensor table in the sums\' scratch: 8 storage buffers with β₁ > 0 (the default limit), 9 with gradient control', () => {
    const flags = { ...kernelDefines(prodigy, [prodigy.defaults, prodigy.defaults]), GRAD_CONTROL: false, Q8: false };
    expect(flags).toMatchObject({ FIRST_MOMENT: true, LAYERWISE: true, CHUNKS_IN_SCRATCH: true });
    const source = kernelSource(variant(prodigy, flags));
    expect(source).not.toMatch(/chunkTensor|chunkGroup/);
    expect(source).toMatch(/@binding\(3\) var<uniform> chunkSegment: vec4<u32>;/);
    expect(source).toMatch(/return bitcast<vec4<u32>>\(tensorScratch\[chunkSegment\.x \+ i \/ 16u\]\);/);
    // hyper, param, grad, tensorScratch, exp_avg, exp_avg_sq, s, p0 (the segment uniform is not a storage buffer).
    expect(storageBufferCount(variant(prodigy, flags))).toBe(8);
    expect(storageBufferCount(variant(prodigy, { ...flags, GRAD_CONTROL: true }))).toBe(9);
  });
  test("a device with 'subgroups': the module of Muon with newtonSchulzPassWith({ subgroups: true }) enables the extension and its GEMMs broadcast; without the device's feature, or with Muon's default pass, or Adam, nothing changes", () => {
    const flags = { ...kernelDefines(muon, [muon.defaults]), GRAD_CONTROL: false, Q8: false };
    const withSubgroups = { ...muon, passes: [newtonSchulzPassWith({ subgroups: true })] };
    const plain = kernelSource(variant(withSubgroups, flags));
    const sub = kernelSource(variant(withSubgroups, flags), { subgroups: true });
    expect(kernelSource(variant(muon, flags), { subgroups: true })).toBe(kernelSource(variant(muon, flags)));
    expect(() => newtonSchulzPassWith({ subgroups: 1 as never })).toThrow(/subgroups must be true or false, got 1/);
    expect(plain).not.toMatch(/enable subgroups|subgroup[A-Z]\w*\(|subgroup_invocation_id/);
    expect(sub.startsWith('enable subgroups;\n')).toBe(true);
    expect(sub.match(/subgroupBroadcast\(own, [0-3]u\)/g)?.length).toBe(4 * 3);
    expect(sub).toMatch(/@builtin\(subgroup_invocation_id\) sgLane: u32/);
    const adamFlags = { AMSGRAD: false, MAXIMIZE: false, DECOUPLED: false, CAUTIOUS: false, MULTI_GROUP: false, GRAD_CONTROL: false, LAYERWISE: false, NS_GROUPS: false, Q8: false };
    expect(kernelSource(variant(adam, adamFlags), { subgroups: true })).toBe(kernelSource(variant(adam, adamFlags)));
  });
});
