/**
 * Muon with AdamW beside it, misused: which tensors AdamW takes (`role`, `adamwTensors`) is decided
 * when the optimizer is made (the groups are split, the matrices checked, the state slots and the
 * Newton–Schulz table built by role), so a later change is refused before anything changes.
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer, decodeSafetensors, encodeSafetensors, fromTorchCheckpointPair, toTorchCheckpointPair } from '../../src/index.js';
import { WebGPUOptimizer } from '../../src/tfjs/optimizer.js';
import { randomArray, rng } from '../helpers/data.js';

const TENSORS = [
  { name: 'embed', shape: [6, 4] },
  { name: 'w', shape: [4, 5] },
  { name: 'b', shape: [5] },
];
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const initial = () => TENSORS.map((t, i) => ({ ...t, data: randomArray(size(t.shape), rng(10 + i)) }));
const grads = (k: number) => TENSORS.map((t, i) => randomArray(size(t.shape), rng(100 * k + i)));
const hybrid = () => createReferenceOptimizer('muon' as never, initial(), { lr: 0.02, adamw: { lr: 0.01 }, adamwTensors: ['embed'] } as never);

describe('muon + adamw: misuse', () => {
  test.each([
    ['role adamw on the Muon group (its matrix w)', { role: 'adamw' }, 0],
    ["role muon on the AdamW group (the vector b)", { role: 'muon' }, 1],
    ['role in every group', { role: 'adamw' }, undefined],
    ['adamwTensors', { adamwTensors: ['w'] }, undefined],
  ])('setHyperparameters(%s) is refused, naming the option, and changes nothing', (_, partial, group) => {
    const opt = hybrid();
    opt.step(grads(1));
    const before = JSON.stringify(opt.groups);
    const key = Object.keys(partial)[0]!;
    expect(() => opt.setHyperparameters(partial as never, group)).toThrow(new RegExp(`"${key}" .*cannot change after creation: it is decided when the optimizer is made`));
    expect(JSON.stringify(opt.groups)).toBe(before);
  });

  test('before any step too (the state slots and matrices follow from the roles)', () => {
    const opt = hybrid();
    expect(() => opt.setHyperparameters({ role: 'muon' } as never, 1)).toThrow(/"role" cannot change after creation: it is decided when the optimizer is made/);
  });

  test('the same value, and the AdamW options, still change', () => {
    const opt = hybrid();
    opt.setHyperparameters({ adamwTensors: ['embed'], adamw: { lr: 0.5 } } as never);
    expect((opt.groups[1] as unknown as { adamw: { lr: number } }).adamw.lr).toBe(0.5);
  });

  test('adamwTensors naming a tensor twice is refused, naming it', () => {
    expect(() => createReferenceOptimizer('muon' as never, initial(), { adamw: {}, adamwTensors: ['embed', 'w', 'embed'] } as never)).toThrow(/adamwTensors names "embed" twice/);
  });

  test('a checkpoint pair with the files swapped is refused, naming the file', () => {
    const opt = hybrid();
    opt.step(grads(1));
    const { muon, adamw } = toTorchCheckpointPair(opt.stateDict());
    expect(() => fromTorchCheckpointPair({ muon: adamw, adamw: muon }, opt.stateDict())).toThrow(/fromTorchCheckpointPair: files\.muon: .*torch\.optim\.AdamW/);
    expect(() => fromTorchCheckpointPair({ muon, adamw: muon }, opt.stateDict())).toThrow(/fromTorchCheckpointPair: files\.adamw: .*torch\.optim\.Muon/);
  });

  test("an AdamW file whose parameters took different numbers of steps loads each at its own (PyTorch's step rule: a parameter whose grad was None took fewer)", () => {
    const opt = createReferenceOptimizer('muon' as never, [...initial(), { name: 'g', shape: [3], data: new Float32Array(3) }], { lr: 0.02, adamw: {} } as never);
    opt.step([...grads(1), new Float32Array(3).fill(0.5)]);
    opt.step([...grads(2), new Float32Array(3).fill(0.5)]);
    const { muon, adamw } = toTorchCheckpointPair(opt.stateDict());
    const file = decodeSafetensors(adamw);
    const scalars = JSON.parse(file.metadata.scalars!) as Record<string, Record<string, number>>;
    expect(Object.keys(scalars)).toEqual(['0', '1']);
    scalars['1']!.step = 1;
    const edited = encodeSafetensors({ tensors: file.tensors, metadata: { ...file.metadata, scalars: JSON.stringify(scalars) } });
    const loaded = fromTorchCheckpointPair({ muon, adamw: edited }, opt.stateDict());
    expect(loaded.step).toBe(2);
    expect(loaded.state.map((s) => s.step)).toEqual([2, 2, 2, 1]);
    opt.loadStateDict(loaded as never);
    expect(opt.stateDict().state.map((s) => s.step)).toEqual([2, 2, 2, 1]);
  });

  test('a Muon with adamw whose tensors are all matrices (toTorchCheckpoint refuses its adamw) is a pair, the AdamW file without parameters, and continues bit for bit', () => {
    const make = (data?: readonly Float32Array[]) => createReferenceOptimizer('muon' as never, initial().filter((t) => t.shape.length === 2).map((t, i) => ({ ...t, data: data?.[i]?.slice() ?? t.data })), { adamw: {} } as never);
    const matrices = (k: number) => grads(k).filter((_, i) => TENSORS[i]!.shape.length === 2);
    const a = make();
    a.step(matrices(1));
    a.step(matrices(2));
    const pair = toTorchCheckpointPair(a.stateDict());
    expect(JSON.parse(decodeSafetensors(pair.adamw).metadata.param_groups!)).toEqual([]);
    const b = make(a.params);
    b.loadStateDict(fromTorchCheckpointPair(pair, b.stateDict()) as never);
    expect(b.stepCount).toBe(2);
    a.step(matrices(3));
    b.step(matrices(3));
    a.params.forEach((p, i) => expect(Array.from(b.params[i]!)).toEqual(Array.from(p)));
  });

  test('setHyperparameters({ nsSteps }) is refused (the Newton–Schulz pass records the steps made at creation: raised from 5 to 8, the GPU ran 5 while the twin ran 8)', () => {
    const opt = createReferenceOptimizer('muon' as never, initial().filter((t) => t.shape.length === 2), {} as never);
    expect(() => opt.setHyperparameters({ nsSteps: 8 } as never)).toThrow(/"nsSteps" cannot change after creation: it is decided when the optimizer is made/);
    expect((opt.groups[0] as unknown as { nsSteps: number }).nsSteps).toBe(5);
  });

  test('loadStateDict of a dict with another nsSteps (fixed at creation, as role and adamwTensors) is refused, naming it, before anything changes', () => {
    const source = createReferenceOptimizer('muon' as never, initial(), { lr: 0.02, adamw: {}, adamwTensors: ['embed'], nsSteps: 8 } as never);
    source.step(grads(1));
    const target = hybrid();
    const before = JSON.stringify(target.groups);
    expect(() => target.loadStateDict(source.stateDict() as never)).toThrow(/cannot load this state dict: .*"nsSteps" .*decided when the optimizer is made/);
    expect(JSON.stringify(target.groups)).toBe(before);
    expect(target.stepCount).toBe(0);
  });

  test("TF.js: options naming variables in groups are checked at construction, not refused for the placeholders' shapes (Muon alone takes matrices only)", () => {
    // The constructor checks the options over stand-ins for the variables it has not seen yet: a
    // stand-in that is not a matrix made Muon without adamw refuse a group naming its kernel.
    expect(() => new WebGPUOptimizer('muon' as never, { groups: [{ tensors: ['dense/kernel'], lr: 0.01 }] } as never)).not.toThrow();
    expect(() => new WebGPUOptimizer('muon' as never, { adamw: {}, adamwTensors: ['embed'], groups: [{ tensors: ['dense/kernel'], lr: 0.01 }] } as never)).not.toThrow();
    // The options themselves are still checked there, naming the option.
    expect(() => new WebGPUOptimizer('muon' as never, { groups: [{ tensors: ['dense/kernel'], lr: -1 }] } as never)).toThrow(/lr must be >= 0, got -1/);
    expect(() => new WebGPUOptimizer('muon' as never, { adamwTensors: ['embed'] } as never)).toThrow(/needs the adamw options/);
  });
});
