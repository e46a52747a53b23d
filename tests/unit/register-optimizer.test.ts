/**
 * registerOptimizer: an optimizer defined outside the library (the test-only Signum) is accepted by
 * name everywhere a built-in one is, and a name clash or a malformed definition is refused before
 * anything is registered, naming the field and the value.
 */
import { describe, expect, test } from 'vitest';
import {
  createReferenceOptimizer,
  listOptimizers,
  optimizerNames,
  registerOptimizer,
  stateDictFromJSON,
  stateDictToJSON,
  toTorchCheckpoint,
  type OptimizerDefinition,
  type OptimizerName,
} from '../../src/index.js';
import { sgd } from '../../src/optimizers/sgd/definition.js';
import { signum } from '../helpers/signum/definition.js';
import { TEST_OPTIMIZERS } from '../helpers/test-optimizers.js';

const one = () => [new Float32Array([1, -2, 3])];
/** Signum with `change` applied, under another name (so that only the change can be refused). */
const variant = (change: Record<string, unknown>) => ({ ...signum, name: 'signum_variant', kernel: { ...signum.kernel, name: 'signum_variant' }, ...change }) as unknown as OptimizerDefinition;

describe('a registered optimizer', () => {
  test('is listed after the built-in ones; optimizerNames keeps the built-in ones only', () => {
    expect(Object.keys(TEST_OPTIMIZERS)).toEqual(['signum', 'nsgd']);
    expect(listOptimizers()).toEqual([...optimizerNames, 'signum', 'nsgd']);
    expect(optimizerNames).not.toContain('signum');
    expect(Object.isFrozen(optimizerNames)).toBe(true);
  });

  test('runs on the CPU twin and round-trips its state dict through JSON; torch checkpoints refuse it by name', () => {
    const ref = createReferenceOptimizer('signum' as OptimizerName, one(), { lr: 0.5, momentum: 0.5 } as never);
    ref.step([new Float32Array([0.1, 0.2, -0.3])]);
    expect(Array.from(ref.params[0]!)).toEqual([0.5, -2.5, 3.5]);
    const sd = ref.stateDict();
    expect(sd.optimizer).toBe('signum');
    const copy = createReferenceOptimizer('signum' as OptimizerName, one(), { lr: 0.5, momentum: 0.5 } as never);
    copy.loadStateDict(stateDictFromJSON(stateDictToJSON(sd)) as never);
    expect(copy.stateDict()).toEqual(sd);
    expect(() => toTorchCheckpoint(sd)).toThrow(/torch.optim has no "signum"/);
  });

  test('an unknown name lists the registered ones too', () => {
    expect(() => createReferenceOptimizer('signun' as OptimizerName, one())).toThrow(/unknown optimizer "signun"; known: sgd, .*, signum, nsgd$/);
  });
});

describe('registerOptimizer refuses, registering nothing', () => {
  const refused = (definition: unknown, message: RegExp) => {
    const before = listOptimizers();
    expect(() => registerOptimizer(definition as OptimizerDefinition)).toThrow(message);
    expect(listOptimizers()).toEqual(before);
  };

  test('a name taken by a built-in or a registered optimizer', () => {
    refused(sgd, /registerOptimizer: an optimizer named "sgd" exists already; known: sgd, ema_momentum/);
    refused({ ...signum, kernel: { ...signum.kernel, name: 'other' } }, /an optimizer named "signum" exists already/);
  });

  test("another optimizer's kernel name with another source (it keys the pipeline cache)", () => {
    refused(variant({ kernel: { name: 'adam', source: signum.kernel.source } }), /signum_variant: kernel.name "adam" is adam's kernel, with another source/);
  });

  test.each([
    ['not an object', null, /the definition must be an object \(from defineOptimizer\), got null/],
    ['a name with upper case', variant({ name: 'Signum' }), /Signum: name must be a lower-case name \(a-z, 0-9, _\), got "Signum" \(a string\)/],
    ['no kernel', variant({ kernel: undefined }), /signum_variant: kernel must be an object \{ name, source \}, got undefined/],
    ['a kernel without fn update', variant({ kernel: { name: 'signum_variant', source: 'fn step() {}' } }), /kernel.source must be WGSL defining fn update\(i: u32, h: Hyper, g: vec4<f32>\), got "fn step\(\) \{\}" \(a string\)/],
    ['no defaults', variant({ defaults: [1] }), /defaults must be an object of option defaults, got \[1\]/],
    ['a required option that is not one', variant({ required: ['lr', 'beta'] }), /required\[1\] must be an option of defaults \(lr, momentum, weightDecay, maximize\), got "beta"/],
    ['a structural list that is not an array', variant({ structural: 'maximize' }), /structural must be an array of option names, got "maximize"/],
    ['an option without a check', variant({ checks: { ...signum.checks, momentum: undefined } }), /checks.momentum must be an option check \(a function, e.g. optionChecks.nonNegative\), got undefined/],
    ['a check of no option', variant({ checks: { ...signum.checks, beta: () => {} } }), /checks.beta must be an option of defaults/],
    ['no twin', variant({ reference: 'signumReference' }), /reference must be a function, got "signumReference"/],
    ['no slots function', variant({ slots: [] }), /slots must be a function, got \[\]/],
    ['a scalar without value or perStep', variant({ scalars: { ...signum.scalars, negLr: { doc: 'f(−lr)' } } }), /scalars.negLr.value must be a function \(options\) => number, got undefined/],
    ['a scalar that is no WGSL name', variant({ scalars: { ...signum.scalars, 'neg-lr': { doc: '', value: () => 0 } } }), /scalars.neg-lr must be a WGSL identifier as its name, got "neg-lr"/],
    ['a step scalar with a bad combine', variant({ scalars: { first: { doc: '', perStep: () => 1, combine: 'add' } } }), /scalars.first.combine must be 'divide' or 'replace', got "add"/],
    ['no scalars at all', variant({ scalars: {} }), /scalars must be an object of at least one scalar spec, got \{\}/],
    ['a slot whose WGSL name is no identifier', variant({ slots: () => [{ name: 'momentum_buffer', wgsl: 'momentum buffer' }] }), /slots\(…\)\[0\] must be \{ name: its PyTorch state name, wgsl: a WGSL identifier \}/],
    ['slots that throw', variant({ slots: () => { throw new Error('boom'); } }), /slots\(defines\(\[defaults\]\)\) must be to return the state slots, got "a throw: boom"/],
    ['modes without a twin', variant({ modes: { initial: 'train' } }), /modes must be \{ initial: 'train', switchTwin \}/],
  ])('%s', (_label, definition, message) => refused(definition, message));
});

test('what was registered is a frozen copy: changing the definition afterwards changes nothing', () => {
  const definition = variant({ name: 'signum_copy', kernel: { ...signum.kernel, name: 'signum_copy' } }) as { -readonly [K in keyof OptimizerDefinition]: OptimizerDefinition[K] };
  registerOptimizer(definition as OptimizerDefinition);
  definition.reference = 'broken' as never;
  const ref = createReferenceOptimizer('signum_copy' as OptimizerName, one(), { lr: 0.5 } as never);
  ref.step([new Float32Array([0.1, 0.2, -0.3])]);
  expect(Array.from(ref.params[0]!)).toEqual([0.5, -2.5, 3.5]);
});
