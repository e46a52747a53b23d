/**
 * Muon with AdamW beside it as PyTorch runs it: two optimizers, so two checkpoint files, each in
 * this library's torch format (torch.ts): `muon`, torch.optim.Muon's (PyTorch 2.9+) param groups
 * (lr, weight_decay, momentum, nesterov, ns_coefficients, eps, ns_steps, adjust_lr_fn; and this
 * library's ns_precision, which a file without it reads as torch's 'bf16') and
 * `momentum_buffer` of the matrices; `adamw`, torch.optim.AdamW's of the other tensors (`exp_avg`,
 * `exp_avg_sq`, `step`), which loads into torch.optim.AdamW (1.13 and later) as an `adamw` file does.
 *
 * @example
 * const { muon, adamw } = toTorchCheckpointPair(await opt.stateDict());     // two .safetensors files
 * await opt.loadStateDict(fromTorchCheckpointPair({ muon, adamw }, await opt.stateDict()));
 */
import { refusal } from '../core/refusal.js';
import { adamwOf } from '../optimizers/muon/hybrid.js';
import { checkedDequantized } from '../state/state-dict-dequantize.js';
import type { OptimizerStateDict } from '../state/state-dict-types.js';
import { readSafetensors } from './safetensors.js';
import { fromTorchCheckpoint, toTorchCheckpoint } from './torch.js';

/** Whether a (checked) file's scalars give a step: torch.optim.Muon's own files have none. */
function hasStep(file: Uint8Array): boolean {
  const scalars = JSON.parse(readSafetensors(file, 'fromTorchCheckpointPair').metadata.scalars ?? '{}') as Record<string, Record<string, unknown>>;
  return Object.values(scalars).some((entry) => entry.step !== undefined);
}

type Group = Record<string, unknown> & { tensors: string[] };
type Role = 'muon' | 'adamw';

const roleOf = (g: Group): Role => (g.role === 'adamw' ? 'adamw' : 'muon');

/** A Muon group as torch.optim.Muon's: the hybrid's own options at their defaults (a torch file leaves them out). */
function muonGroup(g: Group): Group {
  const { adamw: _adamw, ...rest } = g;
  return { ...rest, adamwTensors: [], role: 'muon' };
}

/** An AdamW group as `adamw`'s: the group's AdamW options, torch.optim.AdamW's flags off. */
function adamwGroup(g: Group): Group {
  const a = adamwOf(g as unknown as { adamw: undefined });
  return { lr: a.lr, betas: [...a.betas], eps: a.eps, weightDecay: a.weightDecay, amsgrad: false, maximize: false, cautious: false, tensors: g.tensors };
}

/** The dict of one role's tensors and groups, as the `muon` or the `adamw` optimizer would keep it. */
function roleDict(sd: OptimizerStateDict<any>, role: Role): OptimizerStateDict<any> {
  const all = sd.options.groups as Group[];
  const own = all.filter((g) => roleOf(g) === role);
  // No tensor takes AdamW: a group without tensors (torch's file then has no parameters).
  const groups = own.length > 0 || role === 'muon' ? own : [{ ...all[0]!, tensors: [] }];
  const names = new Set(groups.flatMap((g) => g.tensors));
  const kept = sd.tensors.flatMap((t, i) => (names.has(t.name) ? [i] : []));
  return {
    ...sd,
    optimizer: role,
    tensors: kept.map((i) => sd.tensors[i]!),
    state: kept.map((i) => sd.state[i]!),
    options: { groups: groups.map((g) => (role === 'muon' ? muonGroup(g) : adamwGroup(g))) },
  };
}

/** One file of the pair read as fromTorchCheckpoint reads it; a refusal names the file (`files.muon`, `files.adamw`). */
function readFile(files: { muon: Uint8Array; adamw: Uint8Array }, role: Role, like: OptimizerStateDict<any>): OptimizerStateDict<any> {
  let dict: OptimizerStateDict<any>;
  try {
    dict = fromTorchCheckpoint(files?.[role], like);
  } catch (error) {
    throw new Error(`webgpu-optim: fromTorchCheckpointPair: files.${role}: ${error instanceof Error ? error.message.replace(/^webgpu-optim: fromTorchCheckpoint: /, '') : String(error)}`);
  }
  return dict;
}

/**
 * Each tensor's step count from the two files, by name, and the pair's (the largest). Under PyTorch's
 * step rule a tensor whose grad was None took fewer steps: a file's parameters may differ
 * (`state[i].step`), and so may the files (torch's two optimizers count apart). A Muon file without
 * counts (torch.optim.Muon keeps none) gives its tensors the pair's step.
 */
function stepCounts(muon: OptimizerStateDict<any>, adamw: OptimizerStateDict<any>, muonCounts: boolean): { step: number; own: Map<string, number> } {
  const counted = [...(muonCounts ? [muon] : []), ...(adamw.tensors.length > 0 ? [adamw] : [])];
  const step = counted.length > 0 ? Math.max(...counted.map((d) => d.step)) : muon.step;
  const own = new Map<string, number>();
  for (const d of [muon, adamw]) d.tensors.forEach((t, i) => own.set(t.name, (d.state[i]!.step as number | undefined) ?? (d === muon && !muonCounts ? step : d.step)));
  return { step, own };
}

/**
 * The dict checked as every state dict is (its groups and tensors, a stranger's included) and then
 * as a pair's: Muon with AdamW beside it, no unfinished accumulation. Returns it dequantized.
 * `dictWhat` names the dict in a refusal of its own check (fromTorchCheckpointPair's second argument).
 */
function checkedHybrid(sd: OptimizerStateDict<any>, what: string, dictWhat = what): OptimizerStateDict<any> {
  const fail = refusal(what);
  if (sd?.optimizer !== 'muon') fail(`the state dict is ${JSON.stringify(sd?.optimizer)}'s; a checkpoint pair is Muon with AdamW beside it (toTorchCheckpoint writes the others)`);
  const checked = checkedDequantized(sd, dictWhat);
  // With `adamw` given and every tensor a matrix there is no AdamW group: the pair has an AdamW file without parameters.
  if (!(checked.options.groups as Group[]).some((g) => roleOf(g) === 'adamw' || g.adamw !== undefined)) fail('this Muon has no AdamW beside it (no adamw option): toTorchCheckpoint writes its one file');
  if (checked.accumulation) fail('this state dict holds an unfinished gradient accumulation, which torch.optim has no place for; checkpoint after an optimizer update');
  return checked;
}

/**
 * The two files of a `muon` state dict with `adamw`: `muon` for torch.optim.Muon, `adamw` for
 * torch.optim.AdamW (no parameters when AdamW takes none: every tensor a matrix). Muon without
 * `adamw` is one file, toTorchCheckpoint's. Checked as toTorchCheckpoint checks.
 */
export function toTorchCheckpointPair(stored: OptimizerStateDict<any>): { muon: Uint8Array; adamw: Uint8Array } {
  const sd = checkedHybrid(stored, 'toTorchCheckpointPair');
  return { muon: toTorchCheckpoint(roleDict(sd, 'muon')), adamw: toTorchCheckpoint(roleDict(sd, 'adamw')) };
}

/**
 * The state dict two files hold, shaped like `like` (the optimizer's own `stateDict()`): each file
 * checked as fromTorchCheckpoint checks it against its half; each tensor at its own step count where
 * they differ (PyTorch's step rule: a parameter whose grad was None took fewer steps).
 */
export function fromTorchCheckpointPair(files: { muon: Uint8Array; adamw: Uint8Array }, like: OptimizerStateDict<any>): OptimizerStateDict<any> {
  const what = 'fromTorchCheckpointPair';
  const base = checkedHybrid(like, what, `${what}: the optimizer's state dict (its second argument)`);
  const muon = readFile(files, 'muon', roleDict(base, 'muon'));
  const adamw = readFile(files, 'adamw', roleDict(base, 'adamw'));
  // The AdamW file always counts the steps (torch.optim.AdamW keeps them); the Muon file may not.
  const { step, own } = stepCounts(muon, adamw, muon.tensors.length > 0 && hasStep(files.muon));
  // Each tensor's own count where they differ (PyTorch's step rule), none where all equal the pair's.
  const uneven = [...own.values()].some((c) => c !== step);
  const byName = new Map<string, Record<string, unknown>>();
  for (const d of [muon, adamw]) {
    d.tensors.forEach((t, i) => {
      const { step: _ownStep, ...slots } = d.state[i]!;
      byName.set(t.name, uneven ? { ...slots, step: own.get(t.name)! } : slots);
    });
  }
  const muonGroups = muon.options.groups as Group[];
  const adamwGroups = adamw.options.groups as Group[];
  let m = 0, a = 0;
  const groups = (base.options.groups as Group[]).map((g) => {
    if (roleOf(g) === 'muon') return { ...muonGroups[m++]!, adamw: g.adamw, adamwTensors: g.adamwTensors, role: g.role, tensors: g.tensors };
    const file = adamwGroups[a++]!;
    return { ...g, adamw: { lr: file.lr, betas: file.betas, eps: file.eps, weightDecay: file.weightDecay } };
  });
  const result = { ...base, step, stepCalls: step, state: base.tensors.map((t) => byName.get(t.name)!), options: { groups } } as OptimizerStateDict<any>;
  return checkedDequantized(result, what);
}
