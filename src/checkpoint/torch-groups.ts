/**
 * An optimizer checkpoint's `param_groups` (PyTorch's keys, `params` as indices), checked against
 * the target optimizer's groups: the same groups with the same number of tensors, parameters
 * 0 … n−1 in order, and every hyperparameter this library knows validated as loadStateDict
 * validates it. Keys torch has and this library does not (`foreach`, `capturable`, …) are ignored.
 */
import { kernelDefines } from '../core/config.js';
import type { OptimizerDefinition } from '../core/definition.js';
import { isCount, isObject, rethrownAs, shown, type Fail } from '../core/refusal.js';
import { parseStrictJson } from '../core/strict-json.js';

/** PyTorch's name of an option (`weightDecay` → `weight_decay`). */
export const torchKey = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A group as a state dict holds it: complete hyperparameters and its tensors' names. */
type Group = Record<string, unknown> & { tensors: string[] };

/** A check's message without the library's prefix and the optimizer's name (the caller names the field). */
const checked = (f: () => void, fail: Fail, prefix = '') =>
  rethrownAs(f, (why) => fail(`${prefix}${why.replace(/^[a-z_]+: /, '')}`));

/** One file group's `params` and `param_names`, checked; `next` is the first parameter index it must hold. */
function checkParams(group: Record<string, unknown>, k: number, own: Group, next: number, fail: Fail): void {
  const { params, param_names: names } = group;
  if (!Array.isArray(params) || !params.every(isCount)) fail(`param_groups[${k}].params must be an array of parameter indices, got ${shown(params)}`);
  const indices = params as number[];
  if (indices.length !== own.tensors.length) fail(`param_groups[${k}].params has ${indices.length} parameters, this optimizer's group has ${own.tensors.length}`);
  indices.forEach((index, j) => {
    if (index !== next + j) fail(`param_groups[${k}].params[${j}] is ${index}; the groups must hold parameters 0 … n−1 in order (expected ${next + j})`);
  });
  if (names === undefined) return;
  if (!Array.isArray(names) || names.length !== indices.length || !names.every((n) => typeof n === 'string')) {
    fail(`param_groups[${k}].param_names must be an array of ${indices.length} strings, got ${shown(names)}`);
  }
  if (new Set(names as string[]).size !== (names as string[]).length) fail(`param_groups[${k}].param_names names a parameter twice: ${shown(names)}`);
}

/** The hyperparameters one file group sets, by this library's names, each checked. */
function fileHyperparameters(definition: OptimizerDefinition<any, any>, group: Record<string, unknown>, k: number, fail: Fail): Record<string, unknown> {
  const options = new Map(Object.keys(definition.defaults).map((key) => [torchKey(key), key] as const));
  const checks = definition.checks as Record<string, (optimizer: string, name: string, value: unknown) => void>;
  const known: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(group)) {
    const option = options.get(key);
    if (option === undefined) continue;
    checked(() => checks[option]!(definition.name, `param_groups[${k}].${key}`, value), fail);
    known[option] = value;
  }
  return known;
}

/** When the file's groups need another kernel than the optimizer's, the refusal names the option. */
function checkKernel(definition: OptimizerDefinition<any, any>, ours: readonly Group[], merged: readonly Group[], all: readonly Group[], fail: Fail): void {
  const next = all.map((g) => merged[ours.indexOf(g)] ?? g);
  const before = kernelDefines(definition, all as never[]);
  const after = kernelDefines(definition, next as never[]);
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  ours.forEach((own, k) => {
    for (const key of definition.structural as string[]) {
      if (JSON.stringify(merged[k]![key]) !== JSON.stringify(own[key])) {
        fail(`param_groups[${k}].${torchKey(key)} is ${shown(merged[k]![key])}, this optimizer's is ${shown(own[key])}: it chooses the kernel (create the optimizer with the file's value)`);
      }
    }
  });
  fail(`the file's param_groups need another kernel variant than this optimizer's (${shown(after)}, this optimizer ${shown(before)}): create it with the file's hyperparameters`);
}

/**
 * The groups the file gives the optimizer: `ours` (the target's groups that hold tensors, in
 * order) each with the file's hyperparameters over its own. `all` is every group of the target.
 */
export function readParamGroups(definition: OptimizerDefinition<any, any>, text: string, all: readonly Group[], ours: readonly Group[], fail: Fail): Group[] {
  const groups = parseStrictJson(text, 'metadata.param_groups', fail);
  if (!Array.isArray(groups)) fail(`metadata.param_groups must be a JSON array of groups, got ${shown(groups)}`);
  const list = groups as unknown[];
  if (list.length !== ours.length) fail(`metadata.param_groups has ${list.length} groups, this optimizer ${ours.length}`);
  let next = 0;
  const merged = list.map((group, k) => {
    if (!isObject(group)) fail(`param_groups[${k}] must be an object, got ${shown(group)}`);
    checkParams(group as Record<string, unknown>, k, ours[k]!, next, fail);
    next += ours[k]!.tensors.length;
    // A key a torch.optim file leaves out means what torch does (torchWhenAbsent), else the optimizer keeps its own.
    const result = { ...ours[k]!, ...definition.torchWhenAbsent, ...fileHyperparameters(definition, group as Record<string, unknown>, k, fail) };
    if (definition.validate) checked(() => definition.validate!(result), fail, `param_groups[${k}]: `);
    return result;
  });
  checkKernel(definition, ours, merged, all, fail);
  return merged;
}
