/**
 * Muon with AdamW beside it (`adamw`, `adamwTensors`), on the CPU twin: the AdamW tensors step bit
 * for bit as `adamw` alone, the matrices as `muon` alone, under one step count and one lr schedule;
 * groups, state dicts and the refusals.
 */
import { describe, expect, test } from 'vitest';
import { cosineWithWarmup, createReferenceOptimizer, listOptimizers, registerOptimizer, stateDictFromJSON, stateDictToJSON } from '../../src/index.js';
import { muon } from '../../src/optimizers/muon/definition.js';
import { randomArray, rng } from '../helpers/data.js';

if (!listOptimizers().includes('muon')) registerOptimizer(muon);

const TENSORS = [
  { name: 'embed', shape: [12, 5] },
  { name: 'w1', shape: [5, 8] },
  { name: 'b1', shape: [8] },
  { name: 'w2', shape: [8, 3, 2] },
  { name: 'gain', shape: [1] },
  { name: 'head', shape: [6, 4] },
] as const;

const ADAMW = { lr: 0.01, betas: [0.8, 0.95] as const, eps: 1e-3, weightDecay: 0.1 };
const MUON = { lr: 0.02, weightDecay: 0.05, momentum: 0.9 };

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const params = (names: readonly string[]) => TENSORS.filter((t) => names.includes(t.name)).map((t, i) => ({ name: t.name, shape: [...t.shape], data: randomArray(size(t.shape), rng(TENSORS.indexOf(t) + 1)) }));
const grads = (names: readonly string[], step: number) => TENSORS.filter((t) => names.includes(t.name)).map((t) => randomArray(size(t.shape), rng(100 * step + TENSORS.indexOf(t))));
const ALL = TENSORS.map((t) => t.name);
const BY_ADAMW = ['embed', 'b1', 'gain', 'head'];
const BY_MUON = ['w1', 'w2'];

/** Hybrid over every tensor against adamw over its AdamW tensors and muon over its matrices, `steps` steps: each parameter and slot bit for bit. */
function expectSplitEqualsHybrid(training: Record<string, unknown>, steps: number): void {
  const hybrid = createReferenceOptimizer('muon' as never, params(ALL), { ...MUON, adamw: ADAMW, adamwTensors: ['embed', 'head'], ...training } as never);
  const adamw = createReferenceOptimizer('adamw', params(BY_ADAMW), { ...ADAMW, ...training } as never);
  const alone = createReferenceOptimizer('muon' as never, params(BY_MUON), { ...MUON, ...training } as never);
  for (let t = 1; t <= steps; t++) {
    const g = grads(ALL, t);
    hybrid.step(g);
    adamw.step(g.filter((_, i) => BY_ADAMW.includes(ALL[i]!)));
    alone.step(g.filter((_, i) => BY_MUON.includes(ALL[i]!)));
  }
  const [sd, a, m] = [hybrid.stateDict(), adamw.stateDict(), alone.stateDict()];
  ALL.forEach((name, i) => {
    const [other, k] = BY_ADAMW.includes(name) ? [a, BY_ADAMW.indexOf(name)] : [m, BY_MUON.indexOf(name)];
    expect(Array.from(hybrid.params[i]!), name).toEqual(Array.from((BY_ADAMW.includes(name) ? adamw : alone).params[k]!));
    expect(Object.keys(sd.state[i]!).sort(), name).toEqual(Object.keys(other.state[k]!).sort());
    for (const slot of Object.keys(other.state[k]!)) expect(Array.from(sd.state[i]![slot] as Float32Array), `${name} ${slot}`).toEqual(Array.from(other.state[k]![slot] as Float32Array));
  });
}

describe('muon + adamw (twin)', () => {
  test('the AdamW tensors step as adamw alone, the matrices as muon alone, bit for bit', () => expectSplitEqualsHybrid({}, 4));
  test('under an lr schedule (both lrs scheduled), clipping by value (element-wise: the split sees the same) and accumulation', () => {
    expectSplitEqualsHybrid({ lrSchedule: cosineWithWarmup({ warmupSteps: 2, totalSteps: 6 }) }, 5);
    expectSplitEqualsHybrid({ gradClipping: { maxValue: 0.3 }, accumulation: { steps: 2 } }, 4);
  });

  test("the AdamW tensors form groups of role 'adamw' after the user's, with their group's options; the state names are torch's", () => {
    const opt = createReferenceOptimizer('muon' as never, params(ALL), { ...MUON, adamw: {}, groups: [{ tensors: ['w2', 'gain'], lr: 0.5 }] } as never);
    const groups = opt.stateDict().options.groups as unknown as { tensors: string[]; role: string; lr: number; adamw: unknown }[];
    expect(groups.map((g) => [g.role, g.lr, g.tensors])).toEqual([
      ['muon', 0.02, ['embed', 'w1', 'head']],
      ['muon', 0.5, ['w2']],
      ['adamw', 0.02, ['b1']],
      ['adamw', 0.5, ['gain']],
    ]);
    expect(groups[2]!.adamw).toEqual({ lr: 3e-4, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.01 });
    const sd = opt.stateDict();
    expect(sd.state.map((s) => Object.keys(s))).toEqual([['momentum_buffer'], ['momentum_buffer'], ['exp_avg', 'exp_avg_sq'], ['momentum_buffer'], ['exp_avg', 'exp_avg_sq'], ['momentum_buffer']]);
  });

  test('a state dict through JSON restores both optimizers: one more step gives the same bits', () => {
    const options = { ...MUON, adamw: ADAMW, adamwTensors: ['head'] } as never;
    const a = createReferenceOptimizer('muon' as never, params(ALL), options);
    for (let t = 1; t <= 2; t++) a.step(grads(ALL, t));
    const b = createReferenceOptimizer('muon' as never, a.params.map((p, i) => ({ name: ALL[i]!, shape: [...TENSORS[i]!.shape], data: p.slice() })), options);
    b.loadStateDict(stateDictFromJSON(JSON.parse(JSON.stringify(stateDictToJSON(a.stateDict())))));
    a.step(grads(ALL, 3));
    b.step(grads(ALL, 3));
    a.params.forEach((p, i) => expect(Array.from(b.params[i]!), ALL[i]).toEqual(Array.from(p)));
  });

  test('refusals name the option and value, before anything is made', () => {
    const make = (o: Record<string, unknown>) => () => createReferenceOptimizer('muon' as never, params(ALL), o as never);
    expect(make({})).toThrow(/tensor "b1" of shape \[8\] is not a matrix.*pass adamw: \{\}/);
    expect(make({ adamw: {}, adamwTensors: ['head', 'tail'] })).toThrow(/adamwTensors\[1\] names unknown tensor "tail"/);
    expect(make({ adamwTensors: ['head'] })).toThrow(/adamwTensors \["head"\] \(an array\) needs the adamw options \(pass adamw: \{\}/);
    expect(make({ adamw: { lr: -1 } })).toThrow(/adamw\.lr must be >= 0, got -1/);
    expect(make({ adamw: { betas: [0.9, 1] } })).toThrow(/adamw\.betas/);
    expect(make({ adamw: { momentum: 0.9 } })).toThrow(/unknown option "momentum" in adamw/);
    expect(make({ adamw: 3e-4 })).toThrow(/adamw must be an object of AdamW options/);
    expect(make({ adamw: {}, adamwTensors: 'head' })).toThrow(/adamwTensors must be an array of tensor names/);
    const matrices = params(BY_MUON);
    expect(() => createReferenceOptimizer('muon' as never, matrices, { role: 'adamw' } as never)).toThrow(/role 'adamw' needs the adamw options/);
    expect(() => createReferenceOptimizer('muon' as never, matrices, { adamw: {}, stateFormat: 'q8' } as never)).toThrow(/stateFormat "q8": Muon stores its momentum in muonGather/);
  });

  test("setHyperparameters: AdamW's options change in every group; a change of kernel variant is refused", () => {
    const opt = createReferenceOptimizer('muon' as never, params(ALL), { adamw: {} } as never);
    opt.setHyperparameters({ adamw: { lr: 0.1 } } as never);
    expect((opt.groups[1] as unknown as { adamw: { lr: number } }).adamw.lr).toBe(0.1);
    // The keys given change; the others keep their values (as a group's adamw merges over the options').
    const tuned = createReferenceOptimizer('muon' as never, params(ALL), { adamw: { betas: [0.8, 0.95], weightDecay: 0.2 } } as never);
    tuned.setHyperparameters({ adamw: { lr: 0.1 } } as never);
    expect((tuned.groups[1] as unknown as { adamw: object }).adamw).toEqual({ lr: 0.1, betas: [0.8, 0.95], eps: 1e-8, weightDecay: 0.2 });
    expect(() => tuned.setHyperparameters({ adamw: { lr: -1 } } as never)).toThrow(/adamw\.lr/);
    expect((tuned.groups[1] as unknown as { adamw: { lr: number } }).adamw.lr).toBe(0.1);
    const bare = createReferenceOptimizer('muon' as never, params(BY_MUON), {} as never);
    expect(() => bare.setHyperparameters({ adamw: {} } as never)).toThrow(/another kernel variant/);
    // A group's role decides which tensors hold exp_avg_sq (packed over AdamW's): refused, nothing changed.
    expect(() => opt.setHyperparameters({ role: 'muon' } as never, 1)).toThrow(/muon: "role" cannot change after creation/);
    expect(() => opt.setHyperparameters({ role: 'adamw' } as never)).toThrow(/"role" cannot change after creation/);
    expect(opt.groups.map((g) => (g as unknown as { role: string }).role)).toEqual(['muon', 'adamw']);
    opt.setHyperparameters({ role: 'adamw' } as never, 1);
  });
});
