/**
 * The shape check of an optimizer definition handed in from outside the library
 * (`registerOptimizer`): every field the engine and the CPU twin read is there and of the right
 * kind, so that a malformed definition is refused when it is registered, naming the field, not
 * later inside a step. What it cannot see (the WGSL compiling, the twin matching the kernel) the
 * first `createOptimizer` and the parity tests find.
 */
import type { OptimizerDefinition } from './definition.js';
import { describeValue } from './describe-value.js';

/** A WGSL identifier (a scalar name becomes a field of `struct Hyper`, a slot's `wgsl` a binding). */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An optimizer or kernel name: lower case, as the built-in ones (it keys state dicts and pipelines). */
const NAME = /^[a-z][a-z0-9_]*$/;

type Fail = (field: string, expected: string, value: unknown) => never;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectFunction(d: Record<string, unknown>, field: string, fail: Fail, optional = false): void {
  if (optional && d[field] === undefined) return;
  if (typeof d[field] !== 'function') fail(field, 'a function', d[field]);
}

/** `field` is an array of option names (keys of `defaults`). */
function expectOptionList(d: Record<string, unknown>, field: string, defaults: Record<string, unknown>, fail: Fail, optional = false): void {
  const value = d[field];
  if (optional && value === undefined) return;
  if (!Array.isArray(value)) fail(field, 'an array of option names', value);
  (value as unknown[]).forEach((key, i) => {
    if (typeof key !== 'string' || !Object.hasOwn(defaults, key)) fail(`${field}[${i}]`, `an option of defaults (${Object.keys(defaults).join(', ')})`, key);
  });
}

function checkKernel(d: Record<string, unknown>, fail: Fail): void {
  const kernel = d.kernel;
  if (!isRecord(kernel)) fail('kernel', 'an object { name, source }', kernel);
  if (typeof kernel.name !== 'string' || !NAME.test(kernel.name)) fail('kernel.name', 'a lower-case name (a-z, 0-9, _)', kernel.name);
  if (typeof kernel.source !== 'string' || !/\bfn\s+update\s*\(/.test(kernel.source)) {
    fail('kernel.source', 'WGSL defining fn update(i: u32, h: Hyper, g: vec4<f32>)', kernel.source);
  }
}

function checkOptions(d: Record<string, unknown>, fail: Fail): Record<string, unknown> {
  const defaults = d.defaults;
  if (!isRecord(defaults)) fail('defaults', 'an object of option defaults', defaults);
  expectOptionList(d, 'required', defaults, fail);
  expectOptionList(d, 'structural', defaults, fail);
  expectOptionList(d, 'fixedOnceStarted', defaults, fail, true);
  expectOptionList(d, 'fixedAtCreation', defaults, fail, true);
  const checks = d.checks;
  if (!isRecord(checks)) fail('checks', 'an object with a check per option', checks);
  for (const key of Object.keys(defaults)) {
    if (typeof checks[key] !== 'function') fail(`checks.${key}`, 'an option check (a function, e.g. optionChecks.nonNegative)', checks[key]);
  }
  for (const key of Object.keys(checks)) {
    if (!Object.hasOwn(defaults, key)) fail(`checks.${key}`, `an option of defaults (${Object.keys(defaults).join(', ')})`, checks[key]);
  }
  return defaults;
}

function checkScalars(d: Record<string, unknown>, fail: Fail): void {
  const scalars = d.scalars;
  if (!isRecord(scalars) || Object.keys(scalars).length === 0) fail('scalars', 'an object of at least one scalar spec', scalars);
  for (const [key, spec] of Object.entries(scalars)) {
    const field = `scalars.${key}`;
    if (!IDENTIFIER.test(key)) fail(field, 'a WGSL identifier as its name', key);
    if (!isRecord(spec) || typeof spec.doc !== 'string') fail(field, 'a spec { doc, value } or { doc, perStep, combine }', spec);
    if ('perStep' in spec) {
      if (typeof spec.perStep !== 'function') fail(`${field}.perStep`, 'a function (options, t) => number', spec.perStep);
      if (spec.combine !== 'divide' && spec.combine !== 'replace') fail(`${field}.combine`, "'divide' or 'replace'", spec.combine);
      if (spec.combine === 'divide' && typeof spec.base !== 'function') fail(`${field}.base`, "a function (options) => number for combine 'divide'", spec.base);
      if (spec.onDeviceStep !== undefined && (!isRecord(spec.onDeviceStep) || typeof spec.onDeviceStep.wgsl !== 'string' || typeof spec.onDeviceStep.twin !== 'function')) {
        fail(`${field}.onDeviceStep`, '{ wgsl: string, twin: (h) => number }', spec.onDeviceStep);
      }
    } else if (typeof spec.value !== 'function') {
      fail(`${field}.value`, 'a function (options) => number', spec.value);
    }
  }
}

/** The slots of the default variant: each named, with a WGSL identifier. */
function checkSlots(definition: OptimizerDefinition<any, any>, defaults: Record<string, unknown>, fail: Fail): void {
  let slots: unknown;
  try {
    slots = definition.slots(definition.defines([defaults]));
  } catch (error) {
    fail('slots(defines([defaults]))', 'to return the state slots', `a throw: ${(error as Error).message}`);
  }
  if (!Array.isArray(slots)) fail('slots(defines([defaults]))', 'an array of { name, wgsl }', slots);
  (slots as unknown[]).forEach((slot, i) => {
    if (!isRecord(slot) || typeof slot.name !== 'string' || slot.name === '' || typeof slot.wgsl !== 'string' || !IDENTIFIER.test(slot.wgsl)) {
      fail(`slots(…)[${i}]`, '{ name: its PyTorch state name, wgsl: a WGSL identifier }', slot);
    }
  });
}

/**
 * Throws a TypeError naming the first malformed field of `definition` (`where`: the public call,
 * for the message); returns when the definition has every field the library reads.
 */
const BINDING_TYPES: readonly string[] = ['uniform', 'storage', 'read-only-storage'];

/**
 * `passes`: each a PassDeclaration (src/core/passes.ts) with its flags, bindings and create(); or a
 * function of the kernel flags returning them, checked on what it returns for the defaults' flags.
 */
function checkPasses(d: Record<string, unknown>, fail: Fail): void {
  if (d.passes === undefined) return;
  let passes: unknown = d.passes;
  let where = 'passes';
  if (typeof passes === 'function') {
    where = 'passes(defines of the defaults)';
    passes = (passes as (defines: unknown) => unknown)((d.defines as (groups: unknown[]) => unknown)([d.defaults]));
  }
  if (!Array.isArray(passes)) return fail(where, 'an array of pass declarations (or a function of the kernel flags returning one)', passes);
  passes.forEach((pass: unknown, k) => {
    const field = `${where}[${k}]`;
    if (!isRecord(pass)) return fail(field, 'a pass declaration (src/core/passes.ts)', pass);
    if (typeof pass.name !== 'string') fail(`${field}.name`, 'a string', pass.name);
    if (!isRecord(pass.flags) || !Object.entries(pass.flags).every(([flag, on]) => IDENTIFIER.test(flag) && typeof on === 'boolean')) fail(`${field}.flags`, 'an object of boolean kernel flags', pass.flags);
    if (!Array.isArray(pass.bindings)) return fail(`${field}.bindings`, 'an array of bindings', pass.bindings);
    pass.bindings.forEach((b: unknown, j) => {
      if (!isRecord(b) || typeof b.name !== 'string' || typeof b.declaration !== 'string' || !BINDING_TYPES.includes(b.type as string)) {
        fail(`${field}.bindings[${j}]`, `{ name, declaration, type: ${BINDING_TYPES.join(' | ')} }`, b);
      }
    });
    expectFunction(pass, 'create', (f, e, v) => fail(`${field}.${f}`, e, v));
    for (const optional of ['check', 'wgsl']) expectFunction(pass, optional, (f, e, v) => fail(`${field}.${f}`, e, v), true);
  });
}

/** Whole-set scalar state comes with its twin and its state-dict form, or not at all. */
function checkSetState(d: Record<string, unknown>, fail: Fail): void {
  for (const field of ['setState', 'setReference']) expectFunction(d, field, fail, true);
  const dict = d.setStateDict;
  if (dict !== undefined && !(isRecord(dict) && typeof dict.read === 'function' && typeof dict.words === 'function')) fail('setStateDict', '{ read, words } (functions)', dict);
  const given = ['setState', 'setReference', 'setStateDict'].filter((field) => d[field] !== undefined);
  if (given.length > 0 && given.length < 3) fail('setState, setReference and setStateDict', 'given together (whole-set state, its twin, its state-dict form)', given.join(', '));
}

export function checkDefinition(definition: unknown, where: string): asserts definition is OptimizerDefinition<any, any> {
  if (!isRecord(definition)) throw new TypeError(`webgpu-optim: ${where}: the definition must be an object (from defineOptimizer), got ${describeValue(definition)}`);
  const d = definition;
  const label = typeof d.name === 'string' ? d.name : 'definition';
  const fail: Fail = (field, expected, value) => {
    throw new TypeError(`webgpu-optim: ${where}: ${label}: ${field} must be ${expected}, got ${describeValue(value)}`);
  };
  if (typeof d.name !== 'string' || !NAME.test(d.name)) fail('name', 'a lower-case name (a-z, 0-9, _)', d.name);
  checkKernel(d, fail);
  const defaults = checkOptions(d, fail);
  for (const field of ['defines', 'slots', 'groupSlots', 'initialValue', 'reference']) expectFunction(d, field, fail);
  for (const field of ['validate', 'shapedSlots', 'noQ8State', 'checkTensors', 'expandOptions', 'scheduleLrs']) expectFunction(d, field, fail, true);
  for (const field of ['noLrSchedule', 'noGradientSkip', 'groupStepCount', 'tensorSums', 'partialsStore']) {
    if (d[field] !== undefined && typeof d[field] !== 'string') fail(field, 'a string or undefined', d[field]);
  }
  if (d.initialFromParams !== undefined && !(Array.isArray(d.initialFromParams) && d.initialFromParams.every((s) => typeof s === 'string'))) {
    fail('initialFromParams', 'an array of slot names', d.initialFromParams);
  }
  if (d.scalarState !== undefined && !(isRecord(d.scalarState) && Object.values(d.scalarState).every((f) => typeof f === 'function'))) {
    fail('scalarState', 'an object of functions (options, step) => number', d.scalarState);
  }
  if (d.modes !== undefined && !(isRecord(d.modes) && d.modes.initial === 'train' && typeof d.modes.switchTwin === 'function')) {
    fail('modes', "{ initial: 'train', switchTwin }", d.modes);
  }
  checkSetState(d, fail);
  checkPasses(d, fail);
  checkScalars(d, fail);
  checkSlots(definition as unknown as OptimizerDefinition<any, any>, defaults, fail);
}
