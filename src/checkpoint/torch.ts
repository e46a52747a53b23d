/**
 * Optimizer checkpoints in PyTorch's own structure, as one safetensors file:
 * - tensors `state.<i>.<slot>` (float32, flat): tensor i's state slots by PyTorch's names;
 * - metadata `format` ("webgpu-optim/torch-optimizer"), `version` ("1"), `optimizer` (the
 *   torch.optim class, e.g. "Adam"), `param_groups` (JSON: PyTorch's keys, `params` as indices and
 *   `param_names` as this library's tensor names) and `scalars` (JSON: `{i: {step, mu_product?}}`).
 * python/webgpu_optim_torch.py loads it into a `torch.optim` optimizer and writes one from it.
 *
 * @example
 * const file = toTorchCheckpoint(await adam.stateDict());          // Uint8Array: save it as opt.safetensors
 * await adam.loadStateDict(fromTorchCheckpoint(file, await adam.stateDict()));
 */
import { checkedDequantized, type OptimizerStateDict } from '../state-dict.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

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
};

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

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
    ...Object.fromEntries(Object.entries(hyper).filter(([, v]) => typeof v !== 'function').map(([k, v]) => [snake(k), v])),
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

/**
 * The state dict a file holds, shaped like `like` (the target optimizer's own `stateDict()`: its
 * tensor names, lengths and groups). Hyperparameters come from the file's groups, matched by
 * their tensors; every tensor must share one step count (this library keeps one). The state is f32
 * (no `stateFormat`); an optimizer with 16-bit state rounds it on load.
 */
export function fromTorchCheckpoint<H extends object>(file: Uint8Array, like: OptimizerStateDict<H>): OptimizerStateDict<H> {
  const { tensors, metadata } = decodeSafetensors(file);
  const fail = (why: string): never => {
    throw new Error(`webgpu-optim: fromTorchCheckpoint: ${why}`);
  };
  if (metadata.format !== TORCH_CHECKPOINT_FORMAT) fail(`format is ${JSON.stringify(metadata.format)}, not "${TORCH_CHECKPOINT_FORMAT}"`);
  if (Number(metadata.version) !== TORCH_CHECKPOINT_VERSION) fail(`version ${metadata.version} is not ${TORCH_CHECKPOINT_VERSION}`);
  if (metadata.optimizer !== TORCH_CLASSES[like.optimizer]) fail(`the file is for torch.optim.${metadata.optimizer}, the optimizer is ${like.optimizer}`);
  const groups = JSON.parse(metadata.param_groups ?? 'null') as { params: number[]; param_names?: string[] }[] | null;
  const scalars = JSON.parse(metadata.scalars ?? 'null') as Record<string, Record<string, number>> | null;
  if (!Array.isArray(groups) || !scalars) fail('param_groups or scalars metadata missing');
  const torchIndex = new Map<string, number>();
  let next = 0;
  const ours = like.options.groups.filter((g) => g.tensors.length > 0);
  if (ours.length !== groups!.length) fail(`${groups!.length} param groups in the file, ${ours.length} in the optimizer`);
  ours.forEach((g, k) => {
    if (groups![k]!.params.length !== g.tensors.length) fail(`param group ${k} has ${groups![k]!.params.length} tensors in the file, ${g.tensors.length} here`);
    for (const name of g.tensors) torchIndex.set(name, next++);
  });
  // torch.optim.SGD keeps no step count: a file with state but no count loads as step 1 (the
  // momentum buffers exist, so the next step is not a first step), an empty one as step 0.
  const counted = Object.values(scalars!).map((s) => s.step).filter((v) => v !== undefined);
  const steps = new Set(counted.length ? counted : [Object.keys(tensors).length > 0 ? 1 : 0]);
  if (steps.size !== 1) fail(`the tensors have different step counts (${[...steps].join(', ')}); this library keeps one`);
  const state = like.tensors.map(({ name, length }, i) => {
    const t = torchIndex.get(name)!;
    const entry: Record<string, Float32Array | number> = {};
    for (const [slot, value] of Object.entries(like.state[i]!)) {
      if (typeof value === 'number') {
        if (typeof scalars![t]?.[slot] !== 'number') fail(`tensor ${t} ("${name}") has no scalar "${slot}"`);
        entry[slot] = scalars![t]![slot]!;
        continue;
      }
      const data = tensors[`state.${t}.${slot}`]?.data ?? fail(`tensor ${t} ("${name}") has no state "${slot}" (torch creates state at the first step)`);
      if (data.length !== length) fail(`state.${t}.${slot} has ${data.length} values, tensor "${name}" has ${length}`);
      entry[slot] = data;
    }
    return entry;
  });
  const options = {
    groups: like.options.groups.map((g) => {
      const k = ours.indexOf(g);
      if (k < 0) return g;
      const { params: _p, param_names: _n, ...hyper } = groups![k]! as Record<string, unknown>;
      const known = Object.fromEntries(Object.entries(hyper).map(([key, v]) => [camel(key), v] as const).filter(([key]) => key in g));
      return { ...g, ...known };
    }),
  };
  const step = [...steps][0]!;
  // The file holds f32 state: the dict is f32 (no stateFormat, no quantization); a 16- or 8-bit optimizer rounds it on load.
  const { stateFormat: _stored, quantization: _quantization, ...shape } = like;
  return { ...shape, step, stepCalls: step, state, options, scaler: like.scaler, accumulation: undefined };
}
