/**
 * Optimizer checkpoints in PyTorch's own structure, as one safetensors file:
 * - tensors `state.<i>.<slot>` (float32, the parameter's shape; the flat form is read too):
 *   parameter i's state slots by PyTorch's names;
 * - metadata `format` ("webgpu-optim/torch-optimizer"), `version` ("1"), `optimizer` (the
 *   torch.optim class, e.g. "Adam"), `param_groups` (JSON: PyTorch's keys, `params` as indices and
 *   `param_names` as this library's tensor names) and `scalars` (JSON: `{i: {step, mu_product?}}`).
 * the Python package in python/ (`webgpu_optim_torch`) loads it into a `torch.optim` optimizer and writes one from it.
 * What a valid file is: docs/checkpoint-format.md (section 2); the reader checks all of it.
 *
 * @example
 * const file = toTorchCheckpoint(await adam.stateDict());          // Uint8Array: save it as opt.safetensors
 * await adam.loadStateDict(fromTorchCheckpoint(file, await adam.stateDict()));
 */
import type { OptimizerDefinition } from '../core/definition.js';
import { getDefinition } from '../optimizers/registry.js';
import { checkedDequantized } from '../state/state-dict-dequantize.js';
import type { OptimizerStateDict } from '../state/state-dict-types.js';
import { isCount, refusal, shown, type Fail } from '../core/refusal.js';
import { encodeSafetensors, readSafetensors, type SafetensorsContent } from './safetensors.js';
import { readParamGroups, torchKey } from './torch-groups.js';
import { DECIMAL_INDEX, readScalars } from './torch-scalars.js';

export const TORCH_CHECKPOINT_FORMAT = 'webgpu-optim/torch-optimizer';
export const TORCH_CHECKPOINT_VERSION = 1;

/** torch.optim's class for each optimizer it has (the others have no PyTorch counterpart). */
export const TORCH_CLASSES: Readonly<Record<string, string>> = {
  sgd: 'SGD',
  adagrad: 'Adagrad',
  rmsprop: 'RMSprop',
  adadelta: 'Adadelta',
  adam: 'Adam',
  adamw: 'AdamW',
  adamax: 'Adamax',
  nadam: 'NAdam',
  radam: 'RAdam',
  rprop: 'Rprop',
  // PyTorch 2.9+; with AdamW beside it, a pair of files (torch-pair.ts).
  muon: 'Muon',
};


/**
 * A group's hyperparameters as torch.optim's class takes them: options it lacks are left out at
 * their defaults, and refused at any other value (torch would continue without them).
 */
function torchHyperparameters(definition: OptimizerDefinition<any, any>, hyper: Record<string, unknown>): Record<string, unknown> {
  const omitted = new Set<string>(definition.notInTorch ?? []);
  for (const key of omitted) {
    if (JSON.stringify(hyper[key]) !== JSON.stringify((definition.defaults as Record<string, unknown>)[key])) {
      throw new Error(`webgpu-optim: toTorchCheckpoint: torch.optim.${TORCH_CLASSES[definition.name]} has no "${key}"; a checkpoint of a group with ${key} ${JSON.stringify(hyper[key])} would continue without it in PyTorch`);
    }
  }
  return Object.fromEntries(Object.entries(hyper).filter(([k, v]) => typeof v !== 'function' && !omitted.has(k)));
}

/**
 * The file for `sd` (a state dict from `stateDict()` of an optimizer torch.optim has). 16-bit and
 * 8-bit state (`stateFormat` 'bf16', 'f16', 'q8') is written decoded to f32, as torch.optim keeps
 * it (dequantizeStateDict). The dict is checked first, as a load checks it: a slot of the wrong
 * type or length is refused, naming it, before anything is written.
 */
export function toTorchCheckpoint(stored: OptimizerStateDict<any>): Uint8Array {
  const sd = checkedDequantized(stored, 'toTorchCheckpoint');
  const torchClass = TORCH_CLASSES[sd.optimizer];
  if (!torchClass) throw new Error(`webgpu-optim: torch.optim has no "${sd.optimizer}"; checkpoints in PyTorch's structure exist for ${Object.keys(TORCH_CLASSES).join(', ')}`);
  if (sd.accumulation) throw new Error('webgpu-optim: this state dict holds an unfinished gradient accumulation, which torch.optim has no place for; checkpoint after an optimizer update');
  const index = new Map(sd.tensors.map((t, i) => [t.name, i]));
  const groups = sd.options.groups.filter((g) => g.tensors.length > 0);
  const order = groups.flatMap((g) => g.tensors.map((name: string) => index.get(name)!));
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  const scalars: Record<string, Record<string, number>> = {};
  order.forEach((i, torchIndex) => {
    scalars[torchIndex] = { step: sd.step };
    for (const [slot, value] of Object.entries(sd.state[i]!)) {
      if (typeof value === 'number') scalars[torchIndex]![slot] = value;
      else tensors[`state.${torchIndex}.${slot}`] = { shape: [...(sd.tensors[i]!.shape ?? [(value as Float32Array).length])], data: value as Float32Array }; // dequantized
    }
  });
  let next = 0;
  const paramGroups = groups.map(({ tensors: names, ...hyper }) => ({
    ...Object.fromEntries(Object.entries(torchHyperparameters(getDefinition(sd.optimizer), hyper)).map(([k, v]) => [torchKey(k), v])),
    params: names.map(() => next++),
    param_names: names,
  }));
  return encodeSafetensors({
    tensors,
    metadata: {
      format: TORCH_CHECKPOINT_FORMAT,
      version: String(TORCH_CHECKPOINT_VERSION),
      optimizer: torchClass,
      param_groups: JSON.stringify(paramGroups),
      scalars: JSON.stringify(scalars),
    },
  });
}

/** The metadata an optimizer checkpoint must carry, checked against the target optimizer. */
function checkMetadata(metadata: Record<string, string>, optimizer: string, fail: Fail): { paramGroups: string; scalars: string } {
  for (const key of ['format', 'version', 'optimizer', 'param_groups', 'scalars']) {
    if (metadata[key] === undefined) fail(`metadata.${key} is missing (a ${TORCH_CHECKPOINT_FORMAT} file has format, version, optimizer, param_groups and scalars)`);
  }
  if (metadata.format !== TORCH_CHECKPOINT_FORMAT) fail(`metadata.format is ${shown(metadata.format)}, not "${TORCH_CHECKPOINT_FORMAT}"`);
  if (metadata.version !== String(TORCH_CHECKPOINT_VERSION)) fail(`metadata.version is ${shown(metadata.version)}; this library reads version "${TORCH_CHECKPOINT_VERSION}"`);
  const torchClass = TORCH_CLASSES[optimizer];
  if (!Object.values(TORCH_CLASSES).includes(metadata.optimizer!)) fail(`metadata.optimizer is ${shown(metadata.optimizer)}, not a torch.optim class this library has (${Object.values(TORCH_CLASSES).join(', ')})`);
  if (metadata.optimizer !== torchClass) fail(`the file is for torch.optim.${metadata.optimizer}, the optimizer is ${optimizer}`);
  return { paramGroups: metadata.param_groups!, scalars: metadata.scalars! };
}

/**
 * Each parameter's step count, as the file's scalars give it: torch keeps `state['step']` per
 * parameter, and a parameter whose grad was None on some steps has taken fewer (the dict's `step`
 * is then the largest, and `state[i].step` each one's own). torch.optim.SGD and torch.optim.Muon keep none: a file
 * without it loads as step 1 when it holds state (the momentum buffers exist, so the next step is
 * not a first step), else 0. Every other optimizer must carry it: without it the next step would be
 * taken as the first (bias corrections restart).
 */
function readSteps(scalars: readonly Record<string, number>[], torchClass: string, hasState: boolean, fail: Fail): { step: number; perTensor: number[] | undefined } {
  const steps = scalars.map((entry, t) => {
    const value = entry.step;
    if (value === undefined) {
      if (torchClass !== 'SGD' && torchClass !== 'Muon') fail(`scalars["${t}"].step is missing: torch.optim.${torchClass} keeps a step count with its state (without it the next step would be taken as the first)`);
      return undefined;
    }
    if (!isCount(value)) fail(`scalars["${t}"].step must be an integer 0 … 2^53 − 1, got ${shown(value)}`);
    return value;
  });
  const given = steps.filter((s): s is number => s !== undefined);
  if (given.length === 0) return { step: hasState ? 1 : 0, perTensor: undefined };
  if (given.length !== steps.length) fail(`scalars["${steps.indexOf(undefined)}"].step is missing while other parameters have one`);
  const step = Math.max(...given);
  return { step, perTensor: given.every((s) => s === step) ? undefined : given };
}

/** The file's state tensors by parameter index and slot; any name that is not `state.<i>.<slot>` of a slot the optimizer has is refused. */
function stateTensors(tensors: SafetensorsContent['tensors'], slotsOf: (t: number) => readonly string[], n: number, fail: Fail): Map<string, { shape: number[]; data: Float32Array }> {
  const found = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, tensor] of Object.entries(tensors)) {
    const [prefix, index, slot, ...rest] = name.split('.');
    const t = Number(index);
    if (prefix !== 'state' || rest.length > 0 || !DECIMAL_INDEX.test(index ?? '') || t >= n) fail(`tensor ${JSON.stringify(name)} has no place in this optimizer: state tensors are named state.<i>.<slot>, i a parameter index 0 … ${n - 1}`);
    if (!slotsOf(t).includes(slot!)) fail(`tensor ${JSON.stringify(name)}: parameter ${t} has no slot "${slot}" in this optimizer (its slots: ${slotsOf(t).join(', ') || 'none'})`);
    found.set(name, tensor);
  }
  return found;
}

/** Parameter t's state slot from the file: present, and shaped as the parameter (or flat). */
function stateSlot(found: ReadonlyMap<string, { shape: number[]; data: Float32Array }>, t: number, slot: string, tensor: { name: string; length: number; shape?: number[] }, fail: Fail): Float32Array {
  const key = `state.${t}.${slot}`;
  const entry = found.get(key) ?? fail(`tensor "${key}" is missing: parameter ${t} ("${tensor.name}") has the slot "${slot}" (torch creates state at the first step)`);
  const shape = tensor.shape ?? [tensor.length];
  const flat = entry.shape.length === 1 && entry.shape[0] === tensor.length;
  if (!flat && JSON.stringify(entry.shape) !== JSON.stringify(shape)) {
    fail(`tensor "${key}" has shape ${shown(entry.shape)}; parameter ${t} ("${tensor.name}") has shape ${shown(shape)} (or the flat [${tensor.length}])`);
  }
  return entry.data;
}

/** Parameter t's scalar state (e.g. NAdam's mu_product): present, and what the step count gives under the group's options. */
function scalarSlot(definition: OptimizerDefinition<any, any>, entry: Record<string, number>, t: number, slot: string, group: object, step: number, fail: Fail): number {
  const value = entry[slot] ?? fail(`scalars["${t}"].${slot} is missing`);
  const expected = definition.scalarState?.[slot]?.(group, step);
  if (value !== expected) fail(`scalars["${t}"].${slot} is ${value}; at step ${step} with the file's hyperparameters it is ${expected} (it follows from the steps taken)`);
  return value;
}

/**
 * The state dict a file holds, shaped like `like` (the target optimizer's own `stateDict()`: its
 * tensor names, shapes and groups). The file is checked field by field before anything is
 * returned (docs/checkpoint-format.md): its metadata, its groups (matched to the optimizer's in
 * order, hyperparameters validated as `loadStateDict` validates them), each parameter's step count, and a
 * state tensor of the parameter's shape (or flat) for every slot, with no tensor left over. A
 * refusal names the file's field and its value. The state is f32 (no `stateFormat`); an optimizer
 * with 16- or 8-bit state rounds or quantizes it on load.
 */
export function fromTorchCheckpoint<H extends object>(file: Uint8Array, like: OptimizerStateDict<H>): OptimizerStateDict<H> {
  const what = 'fromTorchCheckpoint';
  const fail = refusal(what);
  checkedDequantized(like, `${what}: the optimizer's state dict (its second argument)`);
  const torchClass = TORCH_CLASSES[like.optimizer] ?? fail(`torch.optim has no "${like.optimizer}"; checkpoints in PyTorch's structure exist for ${Object.keys(TORCH_CLASSES).join(', ')}`);
  const definition = getDefinition(like.optimizer);
  const { tensors, metadata } = readSafetensors(file, what);
  const text = checkMetadata(metadata, like.optimizer, fail);
  const all = like.options.groups as unknown as (Record<string, unknown> & { tensors: string[] })[];
  const ours = all.filter((g) => g.tensors.length > 0);
  const merged = readParamGroups(definition, text.paramGroups, all, ours, fail);
  // Parameter t of the file is the t-th tensor of the optimizer's groups, in group order.
  const byName = new Map(like.tensors.map((t, i) => [t.name, i]));
  const order = ours.flatMap((g) => g.tensors.map((name) => byName.get(name)!));
  const groupOf = ours.flatMap((_, k) => ours[k]!.tensors.map(() => merged[k]!));
  const scalars = readScalars(text.scalars, order.length, fail);
  const isTensorSlot = (i: number) => Object.keys(like.state[i]!).filter((slot) => typeof like.state[i]![slot] !== 'number');
  const found = stateTensors(tensors, (t) => isTensorSlot(order[t]!), order.length, fail);
  const { step, perTensor } = readSteps(scalars, torchClass, found.size > 0, fail);
  const state: OptimizerStateDict<H>['state'] = like.state.map(() => ({}));
  order.forEach((i, t) => {
    const scalarNames = Object.keys(like.state[i]!).filter((slot) => slot !== 'step' && typeof like.state[i]![slot] === 'number');
    const own = perTensor?.[t] ?? step;
    for (const name of Object.keys(scalars[t]!)) if (name !== 'step' && !scalarNames.includes(name)) fail(`scalars["${t}"].${name}: torch.optim.${torchClass} keeps no scalar "${name}" here (its scalars: ${['step', ...scalarNames].join(', ')})`);
    state[i] = Object.fromEntries([
      ...isTensorSlot(i).map((slot) => [slot, stateSlot(found, t, slot, like.tensors[i]!, fail)] as const),
      ...scalarNames.map((slot) => [slot, scalarSlot(definition, scalars[t]!, t, slot, groupOf[t]!, own, fail)] as const),
      ...(perTensor ? [['step', own] as const] : []),
    ]);
  });
  const groups = all.map((g) => (merged[ours.indexOf(g)] ?? g) as H & { tensors: string[] });
  // The file holds f32 state: the dict is f32 (no stateFormat, no quantization); a 16- or 8-bit optimizer rounds it on load.
  const { stateFormat: _stored, quantization: _quantization, ...shape } = like;
  const result: OptimizerStateDict<H> = { ...shape, step, stepCalls: step, state, options: { groups }, scaler: like.scaler, accumulation: undefined };
  return checkedDequantized(result, what);
}
