/**
 * Muon with AdamW beside it, as one optimizer (optax.contrib.muon's shape; in PyTorch, the
 * `torch.optim.Muon` + `torch.optim.AdamW` pair every Muon recipe builds): with `adamw` given, the
 * tensors that are not matrices (fewer than two dimensions) and those `adamwTensors` names
 * (embeddings, the output head) are updated by AdamW with torch.optim.AdamW's semantics, the rest
 * by Muon. The AdamW tensors are moved into groups of their own (`role: 'adamw'`) when the options
 * are resolved, so one kernel updates both, picking the rule by the group.
 */
import { describeValue } from '../../core/describe-value.js';
import { isObject } from '../../core/refusal.js';
import { is } from '../../core/validate.js';

/** AdamW's options beside Muon (torch.optim.AdamW's names in camelCase). */
export interface MuonAdamwOptions {
  /** AdamW's learning rate (an lr schedule scales it from this base, as it scales Muon's `lr`). */
  lr: number;
  /** β₁, β₂ of exp_avg and exp_avg_sq. */
  betas: readonly [number, number];
  /** Added to √(v̂): torch.optim.AdamW's placement. */
  eps: number;
  /** Decoupled decay: θ ← θ·(1 − lr·weightDecay). */
  weightDecay: number;
}

/**
 * The AdamW defaults of the hybrid: Keller Jordan's and Moonlight's recipes (lr 3e-4, β₂ 0.95)
 * with torch.optim.AdamW's eps and weight decay.
 */
export const MUON_ADAMW_DEFAULTS: Readonly<MuonAdamwOptions> = Object.freeze({ lr: 3e-4, betas: Object.freeze([0.9, 0.95] as const), eps: 1e-8, weightDecay: 0.01 });

type HybridOptions = { adamw: Partial<MuonAdamwOptions> | undefined; adamwTensors: readonly string[]; role: 'muon' | 'adamw' };

/** The complete AdamW options of a group (the defaults where `adamw` leaves one out). */
export function adamwOf(o: { adamw: Partial<MuonAdamwOptions> | undefined }): MuonAdamwOptions {
  return { ...MUON_ADAMW_DEFAULTS, ...Object.fromEntries(Object.entries(o.adamw ?? {}).filter(([, v]) => v !== undefined)) };
}

/** `adamw`: undefined (Muon alone) or an object of AdamW's options, each checked. */
export function checkAdamw(optimizer: string, name: string, value: unknown): void {
  if (value === undefined) return;
  if (!isObject(value)) throw new TypeError(`webgpu-optim: ${optimizer}: ${name} must be an object of AdamW options (lr, betas, eps, weightDecay), got ${describeValue(value)}`);
  const checks: Record<string, (o: string, n: string, v: unknown) => void> = { lr: is.nonNegative, betas: is.unitPair, eps: is.nonNegative, weightDecay: is.nonNegative };
  for (const [key, v] of Object.entries(value)) {
    const check = checks[key];
    if (!check) throw new Error(`webgpu-optim: ${optimizer}: unknown option "${key}" in ${name}; known: ${Object.keys(checks).join(', ')}`);
    if (v !== undefined) check(optimizer, `${name}.${key}`, v);
  }
}

/** `adamwTensors`: an array of tensor names (that they exist is checked against the tensors, in expandHybrid). */
export function checkAdamwTensors(optimizer: string, name: string, value: unknown): void {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new TypeError(`webgpu-optim: ${optimizer}: ${name} must be an array of tensor names, got ${describeValue(value)}`);
  const twice = value.find((v, i) => value.indexOf(v) !== i);
  if (twice !== undefined) throw new Error(`webgpu-optim: ${optimizer}: ${name} names ${JSON.stringify(twice)} twice`);
}

/** The cross-option rules of the hybrid: AdamW's tensors and groups need `adamw`. */
export function validateHybrid(o: HybridOptions): void {
  if (o.adamw !== undefined) return;
  if (o.role === 'adamw') throw new Error("webgpu-optim: muon: a group with role 'adamw' needs the adamw options (pass adamw: {} for AdamW's defaults)");
  if (o.adamwTensors.length > 0) throw new Error(`webgpu-optim: muon: adamwTensors ${describeValue(o.adamwTensors)} needs the adamw options (pass adamw: {} for AdamW's defaults)`);
}

type Tensor = { readonly name: string; readonly shape: readonly number[] };
type GroupSpec = Record<string, unknown> & { tensors: readonly (string | number)[] };

/** Index of a group's tensor reference (a name or an index), −1 when it names none (resolveConfig refuses it). */
const indexOf = (tensors: readonly Tensor[], ref: unknown) => (typeof ref === 'number' ? (Number.isInteger(ref) && ref >= 0 && ref < tensors.length ? ref : -1) : tensors.findIndex((t) => t.name === ref));

/**
 * With `adamw` given: the tensors AdamW takes (not matrices, or named by `adamwTensors`) leave their
 * group for a group of role 'adamw' with the same options: group 0's into one group after the
 * user's groups, each user group's into one of its own, in order. `adamwTensors` naming no tensor
 * is refused, naming it. Options that are not well formed are passed on as given, for resolveConfig
 * to refuse with its own message.
 */
export function expandHybrid(options: Record<string, unknown>, tensors: readonly Tensor[], what: string): Record<string, unknown> {
  const { adamw, adamwTensors = [], groups = [] } = options as { adamw?: unknown; adamwTensors?: unknown; groups?: unknown };
  if (adamw === undefined || !Array.isArray(adamwTensors) || !Array.isArray(groups) || !groups.every((g) => g !== null && typeof g === 'object' && Array.isArray(g.tensors))) return options;
  for (const [k, name] of adamwTensors.entries()) {
    if (!tensors.some((t) => t.name === name)) throw new Error(`webgpu-optim: ${what}: adamwTensors[${k}] names unknown tensor ${describeValue(name)}; tensors: ${tensors.map((t) => t.name).join(', ')}`);
  }
  const byAdamw = (i: number) => i >= 0 && (tensors[i]!.shape.length < 2 || adamwTensors.includes(tensors[i]!.name));
  const specs = groups as GroupSpec[];
  const claimed = new Set(specs.flatMap((g) => g.tensors.map((ref) => indexOf(tensors, ref))));
  const moves = (g: GroupSpec) => g.role !== 'adamw';
  const kept = specs.map((g) => (moves(g) ? { ...g, tensors: g.tensors.filter((ref) => !byAdamw(indexOf(tensors, ref))) } : g));
  const fromBase = options.role === 'adamw' ? [] : tensors.flatMap((t, i) => (!claimed.has(i) && byAdamw(i) ? [t.name] : []));
  const added: GroupSpec[] = fromBase.length > 0 ? [{ tensors: fromBase, role: 'adamw' }] : [];
  for (const g of specs) {
    const moved = moves(g) ? g.tensors.filter((ref) => byAdamw(indexOf(tensors, ref))) : [];
    if (moved.length > 0) added.push({ ...g, tensors: moved, role: 'adamw' });
  }
  // Shown complete in `groups` and state dicts (a value that is not an object is left for the check to refuse).
  const complete = (value: unknown) => (isObject(value) ? adamwOf({ adamw: value as Partial<MuonAdamwOptions> }) : value);
  // A group's adamw is merged over the options' (a group sets what differs, as for Muon's options).
  const withAdamw = (g: GroupSpec) => ('adamw' in g ? { ...g, adamw: isObject(g.adamw) && isObject(adamw) ? complete({ ...adamw, ...g.adamw }) : complete(g.adamw) } : g);
  return { ...options, adamw: complete(adamw), groups: [...kept, ...added].map(withAdamw) };
}

/**
 * The lr schedule over both learning rates: each is scheduled from its own base, as two torch
 * schedulers of the same kind (LambdaLR: the same factor) on the Muon and the AdamW optimizer.
 */
export function scheduleBothLrs<H extends { lr: number; adamw: Partial<MuonAdamwOptions> | undefined }>(o: H, scheduled: (baseLr: number) => number): H {
  return { ...o, lr: scheduled(o.lr), adamw: o.adamw === undefined ? undefined : { ...o.adamw, lr: scheduled(adamwOf(o).lr) } };
}

/** AdamW's scalars in the Muon kernel's `struct Hyper` (adam.wgsl's, DECOUPLED, prefixed `adamw`). */
export const adamwScalars = {
  adamw: { doc: "1 in a group of role 'adamw' (its tensors take AdamW's update), else 0", value: (o: HybridOptions) => (o.role === 'adamw' ? 1 : 0) },
  adamwBeta1: { doc: 'f(β₁) of AdamW', value: (o: HybridOptions) => adamwOf(o).betas[0] },
  adamwOneMinusBeta1: { doc: 'f(1 − β₁) of AdamW, rounded once from float64', value: (o: HybridOptions) => 1 - adamwOf(o).betas[0] },
  adamwBeta2: { doc: 'f(β₂) of AdamW', value: (o: HybridOptions) => adamwOf(o).betas[1] },
  adamwOneMinusBeta2: { doc: 'f(1 − β₂) of AdamW', value: (o: HybridOptions) => 1 - adamwOf(o).betas[1] },
  adamwNegStepSize: {
    doc: 'f(−lr / (1 − β₁ᵗ)) of AdamW',
    base: (o: HybridOptions) => -adamwOf(o).lr,
    perStep: (o: HybridOptions, t: number) => 1 - adamwOf(o).betas[0] ** t,
    combine: 'divide' as const,
  },
  adamwBc2Sqrt: { doc: 'f(√(1 − β₂ᵗ)) of AdamW', perStep: (o: HybridOptions, t: number) => Math.sqrt(1 - adamwOf(o).betas[1] ** t), combine: 'replace' as const },
  adamwEps: { doc: 'f(eps) of AdamW', value: (o: HybridOptions) => adamwOf(o).eps },
  adamwDecay: { doc: 'f(1 − lr·weight_decay) of AdamW', value: (o: HybridOptions) => 1 - adamwOf(o).lr * adamwOf(o).weightDecay },
};

export type AdamwScalar = keyof typeof adamwScalars;
