/**
 * Muon's twin under PyTorch's step rule, checked against the rule itself (Debian's torch 1.13 has no
 * torch.optim.Muon to make a golden with): torch.optim.Muon's `_init_group` passes a parameter whose
 * grad is None by, and each tensor's Muon step reads only its own gradient and momentum, each
 * AdamW tensor's only its own moments and state['step']. So a skipping sequence over a set equals,
 * for each tensor, the non-skipping sequence of that tensor alone over the steps where it had a
 * gradient, bit for bit. And a checkpoint pair carries each tensor's own step count.
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer, fromTorchCheckpointPair, toTorchCheckpointPair } from '../../src/index.js';
import { kernelDefines } from '../../src/core/config.js';
import { storageBufferCount } from '../../src/engine/bindings.js';
import type { KernelVariant } from '../../src/engine/kernel-variant.js';
import { perTensorVariant } from '../../src/engine/per-tensor-step.js';
import { kernelSource } from '../../src/engine/wgsl.js';
import { muon } from '../../src/optimizers/muon/definition.js';
import { randomArray, rng } from '../helpers/data.js';

// A 1 × n, a tall (transposed) and a wide matrix, a 4-D kernel; two vectors (AdamW's, with `adamw`).
const MATRICES = [[1, 40], [37, 5], [7, 33], [3, 2, 2, 2]];
const VECTORS = [[7], [130]];
// PRESENT[step][tensor]: late first steps, a step with no gradient at all, one with all.
const PRESENT = [
  [true, false, true, false, true, false],
  [true, true, false, true, false, true],
  [false, false, false, false, false, false],
  [true, true, true, true, true, true],
  [false, true, true, false, true, true],
  [true, false, true, true, false, true],
];

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const tensorsOf = (shapes: readonly (readonly number[])[]) => shapes.map((shape, i) => ({ name: `t${i}`, shape, data: randomArray(size(shape), rng(60 + i)) }));
const gradFor = (step: number, i: number, length: number) => randomArray(length, rng(step * 7919 + i));
const bits = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
const slotBits = (state: Record<string, unknown>) => Object.fromEntries(Object.entries(state).map(([k, v]) => [k, v instanceof Float32Array ? bits(v) : v]));

const ROWS = [
  ['f32, Nesterov, weight decay', { lr: 0.02, weightDecay: 0.1 }, MATRICES],
  ["bf16 nsPrecision, no Nesterov, 'match_rms_adamw'", { lr: 0.01, nesterov: false, adjustLrFn: 'match_rms_adamw', nsPrecision: 'bf16', nsSteps: 3 }, MATRICES],
  ['with AdamW beside it (its vectors at their own step counts)', { lr: 0.02, adamw: { lr: 0.01, betas: [0.8, 0.9], weightDecay: 0.1 } }, [...MATRICES, ...VECTORS]],
] as const;

describe('muon twin: a skipping sequence is each tensor\'s own non-skipping sequence', () => {
  test.each(ROWS)('%s', (_label, options, shapes) => {
    const tensors = tensorsOf(shapes);
    const present = PRESENT.map((row) => row.slice(0, shapes.length));
    const set = createReferenceOptimizer('muon', tensors.map((t) => ({ ...t, data: t.data.slice() })), options as never);
    present.forEach((row, s) => set.step(tensors.map((t, i) => (row[i] ? gradFor(s + 1, i, t.data.length) : null))));
    const sd = set.stateDict();
    tensors.forEach((t, i) => {
      // Tensor i alone (its own name: its gradients' seeds are tensor i's), every step with its gradient.
      const alone = createReferenceOptimizer('muon', [{ ...t, data: t.data.slice() }], options as never);
      present.forEach((row, s) => row[i] && alone.step([gradFor(s + 1, i, t.data.length)]));
      expect(bits(set.params[i]!), `${t.name} parameters`).toEqual(bits(alone.params[0]!));
      const { step: ownStep, ...slots } = sd.state[i]!;
      const { step: aloneStep, ...aloneSlots } = alone.stateDict().state[0]!;
      expect(slotBits(slots), `${t.name} state`).toEqual(slotBits(aloneSlots));
      expect(ownStep, `${t.name} step`).toBe(aloneStep ?? alone.stepCount);
    });
  });
});

describe('muon + adamw checkpoint pair with per-tensor step counts', () => {
  test("each tensor's own step goes through the pair (torch.optim.AdamW's state['step']); the loaded twin continues bit for bit", () => {
    const tensors = tensorsOf([...MATRICES, ...VECTORS]);
    const options = { lr: 0.02, adamw: { lr: 0.01 } };
    const a = createReferenceOptimizer('muon', tensors.map((t) => ({ ...t, data: t.data.slice() })), options as never);
    PRESENT.slice(0, 5).forEach((row, s) => a.step(tensors.map((t, i) => (row[i] ? gradFor(s + 1, i, t.data.length) : null))));
    const own = a.stateDict().state.map((s) => s.step);
    expect(new Set(own).size).toBeGreaterThan(1);
    const b = createReferenceOptimizer('muon', tensors.map((t, i) => ({ ...t, data: a.params[i]!.slice() })), options as never);
    b.loadStateDict(fromTorchCheckpointPair(toTorchCheckpointPair(a.stateDict()), b.stateDict()) as never);
    expect(b.stateDict().state.map((s) => s.step)).toEqual(own);
    const last = PRESENT[5]!;
    for (const opt of [a, b]) opt.step(tensors.map((t, i) => (last[i] ? gradFor(6, i, t.data.length) : null)));
    tensors.forEach((t, i) => expect(bits(b.params[i]!), t.name).toEqual(bits(a.params[i]!)));
  });
});

describe("muon's per-tensor kernel variant", () => {
  test("reads each chunk's row through the per-tensor Newton–Schulz table (no chunkRow): as many storage buffers as the plain kernel, 7 with AdamW beside it, 8 with gradient control", () => {
    const hybrid = { ...muon.defaults, adamw: {} };
    const flags = { ...kernelDefines(muon, [hybrid, { ...hybrid, role: 'adamw' as const }]), GRAD_CONTROL: false, Q8: false };
    const plain: KernelVariant = { definition: muon, flags, stateFormat: 'f32', entryPoint: 'main', grid: { kind: 'vectors', workgroupSize: 64, vectorsPerInvocation: 1 } };
    const perTensor = perTensorVariant(plain);
    const source = kernelSource(perTensor);
    expect(source).toMatch(/let h = hyper\[nsGroupAt\(i\)\];/);
    expect(source).not.toMatch(/chunkRow\s*[:\[]/);
    expect(source).toMatch(/if \(h\.gradientAbsent != 0\.0\) \{\n    return;\n  \}\n  let g = controlledGradient/);
    expect(storageBufferCount(perTensor)).toBe(storageBufferCount(plain));
    expect(storageBufferCount(perTensor)).toBe(7);
    expect(storageBufferCount(perTensorVariant({ ...plain, flags: { ...flags, GRAD_CONTROL: true } }))).toBe(8);
  });
});
