/**
 * The optimizer's state as TF.js weights (what `model.save({ includeOptimizer: true })` stores):
 * `iter` (applyGradients calls, as TF.js's own optimizers), `step` (updates taken, PyTorch's
 * count: it differs only when non-finite gradients were skipped), then `<variable>/<slot>` for
 * each state slot under its PyTorch name (`dense/kernel/exp_avg`, …), in the variable's shape (a
 * factored slot, Adafactor's `row_var` / `col_var`, in its own).
 * Per-tensor scalar state (NAdam's `mu_product`) follows from `step` and is not stored. The
 * whole-set scalars of an optimizer that keeps them (Prodigy's `d`, `d_numerator`, …: the state
 * dict's `setState`) are float32 scalars named `setState.<name>`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getDefinition } from '../optimizers/registry.js';
import type { OptimizerStateDict } from '../state/state-dict-types.js';
import { scalarStateOf } from '../state/state-dict-slots.js';

/** TF.js's `{ name, tensor }` pair (tfjs-core uses it in `Optimizer` but does not export the type). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** The prefix of the weights that hold a state dict's `setState` entries. */
const SET_STATE_PREFIX = 'setState.';

export function weightsFromStateDict(sd: OptimizerStateDict<any>, iterations: number): NamedTensor[] {
  const weights: NamedTensor[] = [
    { name: 'iter', tensor: tf.scalar(iterations, 'int32') },
    { name: 'step', tensor: tf.scalar(sd.step, 'int32') },
  ];
  for (const [name, value] of Object.entries(sd.setState ?? {})) weights.push({ name: `${SET_STATE_PREFIX}${name}`, tensor: tf.scalar(value, 'float32') });
  const shaped = getDefinition(sd.optimizer).shapedSlots;
  sd.tensors.forEach((t, i) => {
    const shape = t.shape ?? [t.length];
    const own = new Map((shaped?.(shape) ?? []).map((s) => [s.name, s.shape]));
    for (const [slot, value] of Object.entries(sd.state[i]!)) {
      if (value instanceof Float32Array) weights.push({ name: `${t.name}/${slot}`, tensor: tf.tensor(value, [...(own.get(slot) ?? shape)], 'float32') });
    }
  });
  return weights;
}

/**
 * `current` (the optimizer's own dict: its tensors, slots and options) with the counts and slot
 * values of `weights`. As in TF.js, weights go to variables by position: the k-th
 * `<name>/<slot>` prefix in order is the k-th variable (a reloaded model renames its layers).
 * Every slot the dict needs must be there, and nothing else.
 */
export async function stateDictFromWeights(current: OptimizerStateDict<any>, weights: readonly NamedTensor[]): Promise<{ stateDict: OptimizerStateDict<any>; iterations: number }> {
  const fail = (why: string): never => {
    throw new Error(`webgpu-optim/tfjs: setWeights: ${why}`);
  };
  if (!Array.isArray(weights)) fail('it needs an array of { name, tensor }');
  const counts = new Map<string, tf.Tensor>();
  const groups = new Map<string, Map<string, tf.Tensor>>();
  for (const w of weights) {
    if (typeof w?.name !== 'string' || !(w.tensor instanceof tf.Tensor) || w.tensor.isDisposed) fail('every weight must be { name: string, tensor: a live tf.Tensor }');
    const cut = w.name.lastIndexOf('/');
    if (cut < 0 && w.name !== 'iter' && w.name !== 'step' && !w.name.startsWith(SET_STATE_PREFIX)) fail(`unknown weights "${w.name}"`);
    const [prefix, slot] = cut < 0 ? ['', w.name] : [w.name.slice(0, cut), w.name.slice(cut + 1)];
    const group = cut < 0 ? counts : (groups.get(prefix) ?? groups.set(prefix, new Map()).get(prefix)!);
    if (group.has(slot)) fail(`two weights are named "${w.name}"`);
    group.set(slot, w.tensor);
  }
  const count = async (name: string): Promise<number> => {
    const t = counts.get(name) ?? fail(`no "${name}" weight`);
    const [value] = await t.data();
    if (t.size !== 1 || !Number.isSafeInteger(value) || value! < 0) fail(`"${name}" must be one integer >= 0`);
    return value!;
  };
  const setState = await setStateOf(current, counts, fail);
  const iterations = await count('iter');
  const step = counts.has('step') ? await count('step') : iterations;
  const prefixes = [...groups.keys()];
  const stateless = current.state.every((slots) => !Object.values(slots).some((v) => v instanceof Float32Array));
  if (stateless && prefixes.length === 0) return { stateDict: { ...current, step, stepCalls: Math.max(iterations, step), ...setState }, iterations };
  if (prefixes.length !== current.tensors.length) {
    fail(`the weights hold state for ${prefixes.length} variables (${prefixes.map((p) => `"${p}"`).join(', ')}), this optimizer updates ${current.tensors.length}`);
  }
  const state = await Promise.all(
    current.tensors.map(async (t, i) => {
      const given = groups.get(prefixes[i]!)!;
      const wanted = Object.entries(current.state[i]!).filter(([, v]) => v instanceof Float32Array).map(([slot]) => slot);
      const unknown = [...given.keys()].filter((slot) => !wanted.includes(slot));
      if (unknown.length) fail(`unknown weights ${unknown.map((slot) => `"${prefixes[i]}/${slot}"`).join(', ')} (variable ${i} keeps ${wanted.join(', ')})`);
      const slots: Record<string, Float32Array> = {};
      for (const slot of wanted) {
        const name = `${prefixes[i]}/${slot}`;
        const tensor = given.get(slot) ?? fail(`no "${name}" weight (variable ${i} keeps ${wanted.join(', ')})`);
        const length = (current.state[i]![slot] as Float32Array).length;
        if (tensor.dtype !== 'float32' || tensor.size !== length) fail(`"${name}" must be float32 with ${length} values (variable ${i}, "${t.name}"), got ${tensor.dtype} with ${tensor.size}`);
        slots[slot] = (await tensor.data()) as Float32Array;
      }
      return slots;
    }),
  );
  const stateDict: OptimizerStateDict<any> = { ...current, step, stepCalls: Math.max(iterations, step), state, ...setState };
  const scalars = scalarStateOf(getDefinition(current.optimizer), stateDict);
  stateDict.state = state.map((slots, i) => ({ ...slots, ...scalars[i] }));
  return { stateDict, iterations };
}

/**
 * The `setState` the weights give (`setState.<name>`, each one float32 value), where `current`'s
 * optimizer keeps whole-set scalars; refused where it keeps none. Which names are needed, and
 * their values, are checked by the load (loadStateDict), before anything changes.
 */
async function setStateOf(current: OptimizerStateDict<any>, counts: ReadonlyMap<string, tf.Tensor>, fail: (why: string) => never): Promise<{ setState?: Record<string, number> }> {
  const given = [...counts.keys()].filter((name) => name.startsWith(SET_STATE_PREFIX));
  if (!current.setState) {
    if (given.length) fail(`unknown weights ${given.map((n) => `"${n}"`).join(', ')} (${current.optimizer} keeps no whole-set scalars)`);
    return {};
  }
  const setState: Record<string, number> = {};
  for (const name of given) {
    const t = counts.get(name)!;
    if (t.dtype !== 'float32' || t.size !== 1) fail(`"${name}" must be one float32 value, got ${t.dtype} with ${t.size}`);
    setState[name.slice(SET_STATE_PREFIX.length)] = (await t.data())[0]!;
  }
  return { setState };
}

/** `sd` for other tensors of the same sizes, in the same order (the state of a renamed model). */
export function renamedStateDict(sd: OptimizerStateDict<any>, names: readonly string[]): OptimizerStateDict<any> {
  const rename = new Map(sd.tensors.map((t, i) => [t.name, names[i]!]));
  return {
    ...sd,
    tensors: sd.tensors.map((t, i) => ({ ...t, name: names[i]! })),
    options: { groups: sd.options.groups.map((g) => ({ ...g, tensors: g.tensors.map((n: string) => rename.get(n) ?? n) })) },
  };
}
