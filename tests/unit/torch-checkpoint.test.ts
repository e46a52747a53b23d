/**
 * Checkpoints in PyTorch's structure, both ways, against PyTorch itself (Debian's python3-torch
 * 1.13, portable CPU kernels as in torch-golden): train in JS, export, load into torch.optim, one
 * more step in both — identical bits; and state made by torch, loaded here, one more step —
 * identical. The JS side is the float32 reference, which the GPU kernels match bit for bit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { createReferenceOptimizer, decodeSafetensors, decodeWeights, encodeSafetensors, encodeWeights, fromTorchCheckpoint, toTorchCheckpoint, type OptimizerName } from '../../src/index.js';
import { randomArray, rng } from '../helpers/data.js';

const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
const work = mkdtempSync(join(tmpdir(), 'torch-checkpoint-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Two tensors (a vector and a 2 × 3 matrix) in two groups, 3 steps before the checkpoint. */
const SHAPES = [[5], [2, 3]];
const STEPS = 3;
const CASES: [OptimizerName, Record<string, unknown>][] = [
  ['sgd', { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }],
  ['sgd', { lr: 0.1, momentum: 0.9, dampening: 0.1, maximize: true }],
  ['adagrad', { lr: 0.1, lrDecay: 0.01, weightDecay: 0.01, initialAccumulatorValue: 0.1 }],
  ['rmsprop', { lr: 0.01, momentum: 0.9, centered: true, weightDecay: 0.01 }],
  ['adadelta', { rho: 0.9, weightDecay: 0.01 }],
  ['adam', { lr: 0.01, amsgrad: true, weightDecay: 0.01 }],
  ['adamw', { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99] }],
  ['adamax', { lr: 0.01, weightDecay: 0.01 }],
  ['nadam', { lr: 0.01, momentumDecay: 0.004 }],
  ['radam', { lr: 0.01 }],
  ['rprop', { lr: 0.01 }],
];

const lengths = SHAPES.map((s) => s.reduce((a, b) => a * b, 1));
const initial = () => lengths.map((n, i) => ({ name: `t${i}`, data: randomArray(n, rng(100 + i)), shape: SHAPES[i]! }));
const grad = (k: number) => lengths.map((n, i) => randomArray(n, rng(1000 * (k + 1) + i)));
const withGroups = (options: Record<string, unknown>) => ({ ...options, groups: [{ tensors: ['t1'], lr: 0.5 * ((options.lr as number) ?? 1) }] });

/** The io file of one case: parameters, gradients, the optimizer and its torch param groups. */
function ioFile(torchClassCheckpoint: Uint8Array, params: Float32Array[], grads: Float32Array[][], steps: number): string {
  const { metadata } = decodeSafetensors(torchClassCheckpoint);
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  params.forEach((p, i) => (tensors[`param.${i}`] = { shape: [p.length], data: p }));
  grads.forEach((g, k) => g.forEach((x, i) => (tensors[`grad.${k}.${i}`] = { shape: [x.length], data: x })));
  const path = join(work, `io-${Math.random().toString(36).slice(2)}.safetensors`);
  writeFileSync(path, encodeSafetensors({ tensors, metadata: { optimizer: metadata.optimizer!, param_groups: metadata.param_groups!, shapes: JSON.stringify(SHAPES), steps: String(steps) } }));
  return path;
}

function python(args: string[]) {
  execFileSync(PYTHON, ['tests/helpers/torch_roundtrip.py', ...args], { env: { ...process.env, ATEN_CPU_CAPABILITY: 'default' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const readParams = (path: string) => lengths.map((_, i) => decodeSafetensors(new Uint8Array(readFileSync(path))).tensors[`param.${i}`]!.data);

// Each case starts Python and imports torch (about 1.5 s): a generous per-test limit.
describe('PyTorch checkpoints (python3-torch 1.13)', { timeout: 60_000 }, () => {
  test.each(CASES)('%s %j: JS → torch: one more step is identical', (name, options) => {
    const ours = createReferenceOptimizer(name, initial(), withGroups(options) as never);
    for (let k = 0; k < STEPS; k++) ours.step(grad(k));
    const checkpoint = toTorchCheckpoint(ours.stateDict());
    // Each tensor's shape travels: in the state dict and on every slot in the file.
    expect(ours.stateDict().tensors.map((t) => t.shape)).toEqual(SHAPES);
    for (const [key, { shape }] of Object.entries(decodeSafetensors(checkpoint).tensors)) expect(shape, key).toEqual(SHAPES[Number(key.split('.')[1])]);
    const ckptPath = join(work, `${name}-${Math.random().toString(36).slice(2)}.safetensors`);
    writeFileSync(ckptPath, checkpoint);
    const next = grad(STEPS);
    const io = ioFile(checkpoint, ours.params.map((p) => p.slice()), [next], 1);
    const out = `${io}.out`;
    python(['forward', io, ckptPath, out]);
    ours.step(next);
    readParams(out).forEach((p, i) => expect(bits(p), `param ${i}`).toEqual(bits(ours.params[i]!)));
    const back = fromTorchCheckpoint(new Uint8Array(readFileSync(`${out}.ckpt`)), ours.stateDict());
    // torch.optim.SGD keeps no step count of its own: the one the file gave it comes back unchanged.
    expect(back.step).toBe(name === 'sgd' ? STEPS : STEPS + 1);
    back.state.forEach((slots, i) => {
      for (const [slot, value] of Object.entries(slots)) {
        const mine = ours.state[i]![slot] ?? (ours.stateDict().state[i]![slot] as number);
        if (typeof value === 'number') expect(Math.fround(value), `${slot} of tensor ${i}`).toBe(Math.fround(mine as number));
        else expect(bits(value as Float32Array), `${slot} of tensor ${i}`).toEqual(bits(mine as Float32Array));
      }
    });
  });

  test.each(CASES)('%s %j: torch → JS: state made by torch, one more step here is identical', (name, options) => {
    const fresh = createReferenceOptimizer(name, initial(), withGroups(options) as never);
    const grads = Array.from({ length: STEPS + 1 }, (_, k) => grad(k));
    const io = ioFile(toTorchCheckpoint(fresh.stateDict()), initial().map((t) => t.data), grads.slice(0, STEPS), STEPS);
    const out = `${io}.out`;
    python(['reverse', io, out]);
    const target = createReferenceOptimizer(name, initial(), withGroups(options) as never);
    readParams(out).forEach((p, i) => target.params[i]!.set(p));
    target.loadStateDict(fromTorchCheckpoint(new Uint8Array(readFileSync(`${out}.ckpt`)), target.stateDict()));
    // The same run made here from the start, for comparison.
    const here = createReferenceOptimizer(name, initial(), withGroups(options) as never);
    for (let k = 0; k <= STEPS; k++) here.step(grads[k]!);
    target.step(grads[STEPS]!);
    target.params.forEach((p, i) => expect(bits(p), `param ${i}`).toEqual(bits(here.params[i]!)));
    // A file from torch.optim.SGD has no step count: it loads as step 1 (the buffers exist).
    expect(target.stateDict().step).toBe(name === 'sgd' ? 2 : STEPS + 1);
  });

  test('bad files are refused with the reason', () => {
    const ours = createReferenceOptimizer('adam', initial(), {});
    expect(() => fromTorchCheckpoint(new Uint8Array(4), ours.stateDict())).toThrow(/not a float32 safetensors file/);
    const sgd = createReferenceOptimizer('sgd', initial(), { lr: 0.1, momentum: 0.9 });
    expect(() => fromTorchCheckpoint(toTorchCheckpoint(sgd.stateDict()), ours.stateDict())).toThrow(/torch\.optim\.SGD, the optimizer is adam/);
    expect(() => toTorchCheckpoint(createReferenceOptimizer('lion', initial(), {}).stateDict())).toThrow(/torch\.optim has no "lion"/);
  });
});

describe('model weights, JavaScript ↔ PyTorch', () => {
  // A model of PyTorch's naming (`model.state_dict()` keys) in both languages: the file written by
  // encodeWeights loads into an nn.Module by name and shape, and torch's file comes back exactly.
  const TENSORS = [{ name: 'fc.weight', shape: [2, 3] }, { name: 'fc.bias', shape: [2] }];
  const SCRIPT = `
import sys, torch
sys.path.insert(0, "python")
import webgpu_optim_torch as w
model = torch.nn.Sequential()
model.add_module("fc", torch.nn.Linear(3, 2))
w.load_weights(model, sys.argv[1])
print(repr([float(x) for x in model.fc.weight.detach().reshape(-1)] + [float(x) for x in model.fc.bias.detach()]))
with torch.no_grad():
    model.fc.weight.mul_(2)
    model.fc.bias.add_(1)
w.save_weights(model, sys.argv[2])
`;
  test('encodeWeights → load_weights into torch.nn.Linear; save_weights → decodeWeights', () => {
    const values = [randomArray(6, rng(7)), randomArray(2, rng(8))];
    const into = join(work, 'model.safetensors');
    const back = join(work, 'model-back.safetensors');
    writeFileSync(into, encodeWeights(values, TENSORS));
    const printed = execFileSync(PYTHON, ['-c', SCRIPT, into, back], { encoding: 'utf8' });
    const loaded = JSON.parse(printed.trim()) as number[];
    expect(Float32Array.from(loaded)).toEqual(Float32Array.from([...values[0]!, ...values[1]!]));
    const [weight, bias] = decodeWeights(new Uint8Array(readFileSync(back)), TENSORS);
    expect(weight).toEqual(values[0]!.map((x) => Math.fround(x * 2)));
    expect(bias).toEqual(values[1]!.map((x) => Math.fround(x + 1)));
    // Torch's file by another name is refused, naming the tensor, not loaded by position.
    expect(() => decodeWeights(new Uint8Array(readFileSync(back)), [{ name: 'weight', shape: [2, 3] }, { name: 'bias', shape: [2] }])).toThrow(/^webgpu-optim: decodeWeights: the file holds tensor "fc\.(weight|bias)", which is not a parameter here/);
  }, 60_000);
});
