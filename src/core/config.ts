/**
 * Option handling shared by the GPU optimizer and its CPU reference: defaults, validation, param
 * groups and kernel flags. Both paths go through here, so they cannot disagree on what the options
 * mean. Resolved groups are frozen: what the API hands back cannot be changed behind its back.
 */
import { declaredPasses, type KernelDefines, type OptimizerDefinition } from './definition.js';
import type { OptionCheck } from './validate.js';
import { describeValue } from './describe-value.js';

/** A parameter group: the tensors it holds (names, or indices in tensor order) and its overrides. */
export type ParamGroup<H> = Partial<H> & { tensors: readonly (string | number)[] };

/** Options of `createOptimizer`: hyperparameters for every tensor, and groups that override them. */
export type OptimizerOptions<H> = Partial<H> & { groups?: readonly ParamGroup<H>[] };

/** A resolved group: complete hyperparameters and the names of its tensors. */
export type ResolvedGroup<H> = H & { tensors: string[] };

export interface ResolvedConfig<H extends object> {
  readonly definition: OptimizerDefinition<H>;
  /** Group 0 holds every tensor that no explicit group names; groups 1… are `options.groups`. */
  readonly groups: H[];
  /** Group index of each tensor, in tensor order. */
  readonly tensorGroup: number[];
  /** Kernel flags, MULTI_GROUP included. */
  readonly defines: KernelDefines;
}

/** A frozen copy (arrays inside too): groups are read-only; changes go through setHyperparameters. */
function copyOptions<H extends object>(options: H): H {
  const copy = { ...options } as Record<string, unknown>;
  for (const [key, value] of Object.entries(copy)) {
    if (Array.isArray(value)) copy[key] = Object.freeze([...value]);
  }
  return Object.freeze(copy) as H;
}

/** Throws unless `value` is a plain options object (not null, an array, a number…). */
export function checkOptionsObject(value: unknown, what: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`webgpu-optim: ${what} must be an object, got ${describeValue(value)}`);
  }
}

function checkKeys(definition: OptimizerDefinition<any>, object: object, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key) && !Object.hasOwn(definition.defaults, key)) {
      throw new Error(
        `webgpu-optim: ${definition.name}: unknown option "${key}" ${where}; ` +
          `known: ${Object.keys(definition.defaults).join(', ')}`,
      );
    }
  }
}

function definedEntries(object: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
}

/** Throws when the optimizer refuses lr schedules and one is given. */
export function checkScheduleAllowed(definition: OptimizerDefinition<any, any>, schedule: unknown): void {
  if (schedule !== undefined && definition.noLrSchedule) {
    throw new Error(`webgpu-optim: ${definition.name}: no lrSchedule: ${definition.noLrSchedule}`);
  }
}

/** Every option's check, then the definition's cross-option rules. */
function validateGroup<H extends object>(definition: OptimizerDefinition<H, any>, options: H): void {
  for (const [key, check] of Object.entries(definition.checks) as [keyof H & string, OptionCheck][]) {
    check(definition.name, key, options[key]);
  }
  definition.validate?.(options);
}

/**
 * Flags of the kernel the groups need: the definition's, MULTI_GROUP, and those of its passes
 * (LAYERWISE, FACTORED…). LAYERWISE, CHUNKS_IN_SCRATCH and NS_GROUPS are always given a value: common.wgsl's `groupAt`
 * reads the group from the per-tensor sums' chunk table when there is one (layerwise.wgsl's chunkInfo: a binding or the scratch).
 */
export function kernelDefines<H extends object>(definition: OptimizerDefinition<H>, groups: readonly H[]): KernelDefines {
  const own = definition.defines(groups);
  return Object.assign({ ...own, MULTI_GROUP: groups.length > 1, LAYERWISE: false, CHUNKS_IN_SCRATCH: false, NS_GROUPS: false }, ...declaredPasses(definition, own).map((pass) => pass.flags));
}

/** Structural values compare by value (a pair such as Prodigy's betas is copied into each group). */
const sameStructural = (a: unknown, b: unknown) => a === b || (Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]));

function checkStructural<H extends object>(definition: OptimizerDefinition<H>, groups: readonly H[]): void {
  for (const key of definition.structural) {
    const first = groups[0]![key];
    for (const group of groups) {
      if (!sameStructural(group[key], first)) {
        throw new Error(
          `webgpu-optim: ${definition.name}: "${key}" chooses the kernel and must be the same in every group`,
        );
      }
    }
  }
}

export function resolveConfig<H extends object>(
  definition: OptimizerDefinition<H>,
  tensorNames: readonly string[],
  options: OptimizerOptions<H> = {},
): ResolvedConfig<H> {
  checkOptionsObject(options, `${definition.name}: options`);
  checkKeys(definition, options, ['groups'], 'in options');
  const { groups: groupSpecs = [], ...base } = options;
  for (const key of definition.required) {
    if ((base as Record<string, unknown>)[key] === undefined) {
      throw new Error(`webgpu-optim: ${definition.name}: option "${key}" is required`);
    }
  }
  const baseOptions = copyOptions({ ...definition.defaults, ...definedEntries(base) } as H);
  const groups: H[] = [baseOptions];
  const tensorGroup = tensorNames.map(() => 0);
  const claimedBy = new Map<number, number>();
  if (!Array.isArray(groupSpecs)) {
    throw new TypeError(`webgpu-optim: ${definition.name}: groups must be an array`);
  }
  groupSpecs.forEach((spec, g) => {
    if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.tensors)) {
      throw new TypeError(`webgpu-optim: ${definition.name}: groups[${g}] needs a "tensors" array`);
    }
    checkKeys(definition, spec, ['tensors'], `in groups[${g}]`);
    const { tensors, ...overrides } = spec;
    groups.push(copyOptions({ ...baseOptions, ...definedEntries(overrides) } as H));
    for (const ref of tensors) {
      const index = typeof ref === 'number' ? ref : tensorNames.indexOf(ref);
      if (!Number.isInteger(index) || index < 0 || index >= tensorNames.length) {
        throw new Error(`webgpu-optim: ${definition.name}: groups[${g}] names unknown tensor ${JSON.stringify(ref)}`);
      }
      const other = claimedBy.get(index);
      if (other !== undefined) {
        throw new Error(
          `webgpu-optim: ${definition.name}: tensor "${tensorNames[index]}" is in groups[${other}] and groups[${g}]`,
        );
      }
      claimedBy.set(index, g);
      tensorGroup[index] = g + 1;
    }
  });
  for (const group of groups) validateGroup(definition, group);
  checkStructural(definition, groups);
  return { definition, groups, tensorGroup, defines: kernelDefines(definition, groups) };
}

/**
 * The first of `keys` whose value differs between `next` and `current` (group by group, compared
 * as JSON: pairs by value), with the group; undefined when none does. setHyperparameters and
 * loadStateDict both refuse a change to an option the optimizer fixes (`fixedAtCreation`,
 * `fixedOnceStarted`).
 */
export function changedOption<H extends object>(keys: readonly (keyof H & string)[] | undefined, next: readonly H[], current: readonly H[]): { key: keyof H & string; group: number } | undefined {
  for (const key of keys ?? []) {
    const group = next.findIndex((options, g) => JSON.stringify(options[key]) !== JSON.stringify(current[g]![key]));
    if (group >= 0) return { key, group };
  }
  return undefined;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A group's options with `changes` set: an option whose value is an object of options (Muon's
 * `adamw`) takes the keys given over its current ones, as `createOptimizer` merges a group's over
 * the options' (`{ adamw: { lr } }` changes AdamW's lr, not its betas); any other value replaces.
 */
function mergedOver(options: object, changes: Record<string, unknown>): object {
  const current = options as Record<string, unknown>;
  return { ...current, ...Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, isPlainObject(v) && isPlainObject(current[k]) ? { ...current[k], ...v } : v])) };
}

/**
 * Hyperparameters after `setHyperparameters(partial, group)`, checked: unknown keys, invalid values
 * and changes that would need another kernel throw, and nothing is changed then.
 */
export function updatedGroups<H extends object>(
  config: ResolvedConfig<H>,
  partial: Partial<H>,
  group: number | undefined,
  started: boolean,
): H[] {
  const { definition } = config;
  checkOptionsObject(partial, `${definition.name}: setHyperparameters' argument`);
  checkKeys(definition, partial, [], 'in setHyperparameters');
  if (group !== undefined && (!Number.isInteger(group) || group < 0 || group >= config.groups.length)) {
    throw new RangeError(`webgpu-optim: ${definition.name}: no group ${group} (there are ${config.groups.length})`);
  }
  const changes = definedEntries(partial);
  const next = config.groups.map((options, g) =>
    group === undefined || group === g ? copyOptions(mergedOver(options, changes) as H) : options,
  );
  for (const options of next) validateGroup(definition, options);
  checkStructural(definition, next);
  const fixed = changedOption(definition.fixedAtCreation, next, config.groups);
  if (fixed) {
    throw new Error(`webgpu-optim: ${definition.name}: "${fixed.key}" cannot change after creation: it is decided when the optimizer is made (create a new optimizer; stateDict/loadStateDict carry the state over)`);
  }
  const historic = started ? changedOption(definition.fixedOnceStarted, next, config.groups) : undefined;
  if (historic) {
    throw new Error(`webgpu-optim: ${definition.name}: "${historic.key}" cannot change once steps were taken (the optimizer's state follows from its history)`);
  }
  const before = JSON.stringify(config.defines);
  const after = JSON.stringify(kernelDefines(definition, next));
  if (before !== after) {
    throw new Error(
      `webgpu-optim: ${definition.name}: this change needs another kernel variant (${before} → ${after}); ` +
        'create a new optimizer (stateDict/loadStateDict carry the state over)',
    );
  }
  return next;
}
