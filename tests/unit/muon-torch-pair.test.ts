/**
 * Muon with AdamW beside it as a PyTorch checkpoint pair: the Muon file in torch.optim.Muon's
 * structure (PyTorch 2.9+), the AdamW file in torch.optim.AdamW's, loaded into Debian's torch 1.13
 * (tests/helpers/torch_roundtrip.py): one more step there gives our AdamW tensors' bits; and the
 * pair back into a fresh optimizer continues bit for bit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { createReferenceOptimizer, decodeSafetensors, encodeSafetensors, fromTorchCheckpoint, fromTorchCheckpointPair, toTorchCheckpoint, toTorchCheckpointPair } from '../../src/index.js';
import { randomArray, rng } from '../helpers/data.js';

const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
const work = mkdtempSync(join(tmpdir(), 'muon-pair-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const TENSORS = [
  { name: 'embed', shape: [6, 4] },
  { name: 'w', shape: [4, 5] },
  { name: 'b', shape: [5] },
  { name: 'head', shape: [5, 3] },
];
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const initial = () => TENSORS.map((t, i) => ({ ...t, data: randomArray(size(t.shape), rng(10 + i)) }));
const grads = (k: number) => TENSORS.map((t, i) => randomArray(size(t.shape), rng(100 * k + i)));
const OPTIONS = { lr: 0.02, adamw: { lr: 0.01, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 }, adamwTensors: ['embed'], groups: [{ tensors: ['head', 'b'], lr: 0.05, adamw: { lr: 0.002 } }] };
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function trained() {
  const opt = createReferenceOptimizer('muon', initial(), OPTIONS as never);
  for (let k = 1; k <= 3; k++) opt.step(grads(k));
  return opt;
}

describe('muon + adamw: the PyTorch checkpoint pair', { timeout: 30_000 }, () => {
  test("the Muon file has torch.optim.Muon's keys and the matrices; the AdamW file AdamW's and the rest", () => {
    const { muon, adamw } = toTorchCheckpointPair(trained().stateDict());
    const m = decodeSafetensors(muon), a = decodeSafetensors(adamw);
    expect(m.metadata.optimizer).toBe('Muon');
    expect(a.metadata.optimizer).toBe('AdamW');
    const muonGroups = JSON.parse(m.metadata.param_groups!) as Record<string, unknown>[];
    expect(muonGroups.map((g) => g.param_names)).toEqual([['w'], ['head']]);
    expect(Object.keys(muonGroups[0]!).sort()).toEqual(['adjust_lr_fn', 'eps', 'lr', 'momentum', 'nesterov', 'ns_coefficients', 'ns_precision', 'ns_steps', 'param_names', 'params', 'weight_decay']);
    expect(Object.keys(m.tensors).sort()).toEqual(['state.0.momentum_buffer', 'state.1.momentum_buffer']);
    const adamwGroups = JSON.parse(a.metadata.param_groups!) as Record<string, unknown>[];
    expect(adamwGroups.map((g) => [g.param_names, g.lr, g.betas])).toEqual([[['embed'], 0.01, [0.8, 0.95]], [['b'], 0.002, [0.8, 0.95]]]);
    expect(Object.keys(a.tensors).sort()).toEqual(['state.0.exp_avg', 'state.0.exp_avg_sq', 'state.1.exp_avg', 'state.1.exp_avg_sq']);
  });

  test('the pair into a fresh optimizer: one more step gives the same bits', () => {
    const a = trained();
    const b = createReferenceOptimizer('muon', a.params.map((p, i) => ({ ...TENSORS[i]!, data: p.slice() })), OPTIONS as never);
    b.loadStateDict(fromTorchCheckpointPair(toTorchCheckpointPair(a.stateDict()), b.stateDict()));
    expect(b.stepCount).toBe(3);
    a.step(grads(4));
    b.step(grads(4));
    a.params.forEach((p, i) => expect(bits(b.params[i]!), TENSORS[i]!.name).toEqual(bits(p)));
  });

  test('AdamW file → torch 1.13 AdamW: one more step there gives our bits', () => {
    const ours = trained();
    const { adamw } = toTorchCheckpointPair(ours.stateDict());
    const byAdamw = ['embed', 'b'];
    const index = byAdamw.map((name) => TENSORS.findIndex((t) => t.name === name));
    const next = grads(4);
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    index.forEach((i, k) => {
      tensors[`param.${k}`] = { shape: [ours.params[i]!.length], data: ours.params[i]!.slice() };
      tensors[`grad.0.${k}`] = { shape: [next[i]!.length], data: next[i]! };
    });
    const { metadata } = decodeSafetensors(adamw);
    const io = join(work, 'io.safetensors'), ckpt = join(work, 'adamw.safetensors'), out = join(work, 'out.safetensors');
    writeFileSync(io, encodeSafetensors({ tensors, metadata: { optimizer: 'AdamW', param_groups: metadata.param_groups!, shapes: JSON.stringify(index.map((i) => TENSORS[i]!.shape)), steps: '1' } }));
    writeFileSync(ckpt, adamw);
    execFileSync(PYTHON, ['tests/helpers/torch_roundtrip.py', 'forward', io, ckpt, out], { env: { ...process.env, ATEN_CPU_CAPABILITY: 'default' }, stdio: ['ignore', 'pipe', 'pipe'] });
    ours.step(next);
    const torchParams = decodeSafetensors(new Uint8Array(readFileSync(out))).tensors;
    index.forEach((i, k) => expect(bits(torchParams[`param.${k}`]!.data), TENSORS[i]!.name).toEqual(bits(ours.params[i]!)));
  });

  test("refusals: another optimizer, Muon without AdamW (toTorchCheckpoint writes it); files at unequal step counts load each tensor at its file's (PyTorch's step rule: torch's two optimizers count apart)", () => {
    expect(() => toTorchCheckpointPair(createReferenceOptimizer('adamw', initial(), {}).stateDict())).toThrow(/a checkpoint pair is Muon with AdamW beside it/);
    const bare = createReferenceOptimizer('muon', initial().filter((t) => t.shape.length === 2), {});
    expect(() => toTorchCheckpointPair(bare.stateDict())).toThrow(/no AdamW beside it/);
    expect(decodeSafetensors(toTorchCheckpoint(bare.stateDict())).metadata.optimizer).toBe('Muon');
    const a = trained();
    const fresh = createReferenceOptimizer('muon', initial(), OPTIONS as never);
    fresh.step(grads(1));
    const pair = { muon: toTorchCheckpointPair(a.stateDict()).muon, adamw: toTorchCheckpointPair(fresh.stateDict()).adamw };
    const loaded = fromTorchCheckpointPair(pair, a.stateDict());
    expect(loaded.step).toBe(3);
    // embed and b are AdamW's (1 step), w and head Muon's (3 steps).
    expect(loaded.state.map((s) => s.step)).toEqual([1, 3, 1, 3]);
  });

  test("a malformed state dict (a stranger's) is refused with the dict's own check, never a TypeError, in both directions", () => {
    const sd = trained().stateDict();
    const pair = toTorchCheckpointPair(sd);
    const broken = [
      { ...sd, options: null },
      { ...sd, options: { groups: 'all' } },
      { ...sd, options: { groups: [null] } },
      { ...sd, options: { groups: [{ ...(sd.options.groups as object[])[0], tensors: 7 }] } },
    ];
    for (const bad of broken) {
      for (const call of [() => toTorchCheckpointPair(bad as never), () => fromTorchCheckpointPair(pair, bad as never)]) {
        let error: unknown;
        try {
          call();
        } catch (e) {
          error = e;
        }
        expect(error, JSON.stringify(bad.options)).toBeInstanceOf(Error);
        expect(error, JSON.stringify(bad.options)).not.toBeInstanceOf(TypeError);
        expect((error as Error).message, JSON.stringify(bad.options)).toMatch(/^webgpu-optim: (to|from)TorchCheckpointPair: /);
      }
    }
  });

  test("a Muon file without step counts (torch.optim.Muon keeps none) takes the AdamW file's", () => {
    const a = trained();
    const { muon, adamw } = toTorchCheckpointPair(a.stateDict());
    const file = decodeSafetensors(muon);
    const scalars = JSON.parse(file.metadata.scalars!) as Record<string, Record<string, number>>;
    for (const entry of Object.values(scalars)) delete entry.step;
    const stepless = encodeSafetensors({ tensors: file.tensors, metadata: { ...file.metadata, scalars: JSON.stringify(scalars) } });
    const loaded = fromTorchCheckpointPair({ muon: stepless, adamw }, a.stateDict());
    expect(loaded.step).toBe(3);
    expect(loaded.state).toEqual(a.stateDict().state);
  });

  test("nsPrecision travels as the group key ns_precision: 'bf16' is written (torch.optim.Muon's arithmetic), read back, and a file without it is torch's bf16", () => {
    const opt = createReferenceOptimizer('muon', initial(), { ...OPTIONS, nsPrecision: 'bf16', groups: [{ ...OPTIONS.groups[0]!, nsPrecision: 'f32' }] } as never);
    opt.step(grads(1));
    const { muon, adamw } = toTorchCheckpointPair(opt.stateDict());
    const file = decodeSafetensors(muon);
    const groups = JSON.parse(file.metadata.param_groups!) as Record<string, unknown>[];
    expect(groups.map((g) => g.ns_precision)).toEqual(['bf16', 'f32']);
    // Into an optimizer made with the other precisions: the file's win.
    const target = createReferenceOptimizer('muon', opt.params.map((p, i) => ({ ...TENSORS[i]!, data: p.slice() })), { ...OPTIONS, nsPrecision: 'f32', groups: [{ ...OPTIONS.groups[0]!, nsPrecision: 'bf16' }] } as never);
    const loaded = fromTorchCheckpointPair({ muon, adamw }, target.stateDict());
    const muonGroups = (loaded.options.groups as Record<string, unknown>[]).filter((g) => g.role === 'muon');
    expect(muonGroups.map((g) => g.nsPrecision)).toEqual(['bf16', 'f32']);
    target.loadStateDict(loaded);
    opt.step(grads(2));
    target.step(grads(2));
    opt.params.forEach((p, i) => expect(bits(target.params[i]!), TENSORS[i]!.name).toEqual(bits(p)));
    // A file without the key (torch's own Muon writes none) is torch's recipe: bf16 in every group.
    for (const g of groups) delete g.ns_precision;
    const keyless = encodeSafetensors({ tensors: file.tensors, metadata: { ...file.metadata, param_groups: JSON.stringify(groups) } });
    const fromTorch = fromTorchCheckpointPair({ muon: keyless, adamw }, target.stateDict());
    expect((fromTorch.options.groups as Record<string, unknown>[]).filter((g) => g.role === 'muon').map((g) => g.nsPrecision)).toEqual(['bf16', 'bf16']);
    // Muon alone: one file, the same key.
    const bare = createReferenceOptimizer('muon', initial().filter((t) => t.shape.length === 2), { nsPrecision: 'bf16' } as never);
    bare.step(grads(1).filter((_, i) => TENSORS[i]!.shape.length === 2));
    const single = toTorchCheckpoint(bare.stateDict());
    expect((JSON.parse(decodeSafetensors(single).metadata.param_groups!) as Record<string, unknown>[])[0]!.ns_precision).toBe('bf16');
    const fresh = createReferenceOptimizer('muon', initial().filter((t) => t.shape.length === 2), {} as never);
    expect(fromTorchCheckpoint(single, fresh.stateDict()).options.groups[0]!.nsPrecision).toBe('bf16');
  });

  test("a stranger's ns_precision: refused naming the group and the key, or loaded exactly (fuzzed)", () => {
    const opt = trained();
    const { muon, adamw } = toTorchCheckpointPair(opt.stateDict());
    const file = decodeSafetensors(muon);
    const withValue = (value: unknown, group: number) => {
      const groups = JSON.parse(file.metadata.param_groups!) as Record<string, unknown>[];
      groups[group]!.ns_precision = value;
      return encodeSafetensors({ tensors: file.tensors, metadata: { ...file.metadata, param_groups: JSON.stringify(groups) } });
    };
    expect(() => fromTorchCheckpointPair({ muon: withValue('fp8', 1), adamw }, opt.stateDict())).toThrow(/files\.muon: .*param_groups\[1\]\.ns_precision must be 'f32' or 'bf16', got "fp8"/);
    const seen = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom('f32', 'bf16', 'BF16', 'bfloat16', 'float32', '', null, 0, 1, true, [], {}, ['bf16']), fc.jsonValue({ maxDepth: 1 })), fc.integer({ min: 0, max: 1 }), (value, group) => {
        let loaded;
        try {
          loaded = fromTorchCheckpointPair({ muon: withValue(value, group), adamw }, opt.stateDict());
        } catch (error) {
          seen.refused++;
          expect((error as Error).constructor).toBe(Error);
          expect((error as Error).message).toMatch(new RegExp(`^webgpu-optim: fromTorchCheckpointPair: files\\.muon: param_groups\\[${group}\\]\\.ns_precision must be 'f32' or 'bf16'`));
          return;
        }
        seen.accepted++;
        const muonGroups = (loaded.options.groups as Record<string, unknown>[]).filter((g) => g.role === 'muon');
        expect(muonGroups[group]!.nsPrecision).toBe(value);
      }),
      { seed: 20261207, numRuns: 200 },
    );
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });
});
