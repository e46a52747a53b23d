/**
 * Prodigy's CPU twin over a whole parameter set: d is one estimate for every tensor of every group,
 * so a step sees all of them. One algorithm, two arithmetics:
 *   'f32': every operation rounded to float32 and the sums over each tensor in the GPU's tree order
 *          (src/passes/tensor-reduction.ts), then folded over the tensors in order; the scalars d,
 *          d_max, d_numerator are float32 as in the GPU's scalar buffer, but the bias correction is
 *          the exact power rounded once (the GPU's twin, twin.ts, multiplies β₁ᵏ, β₂ᵏ step by step);
 *          sliceP as the GPU (s and the sums on every sliceP-th element; tensorState compacts s
 *          and p0 to those elements, the authors' shapes);
 *   'f64': the published algorithm in float64, sums left to right (the yardstick of the f32 twin).
 * The order of operations is the authors' (prodigyopt/prodigy.py @ 3efb213): docs/semantics.md § Prodigy.
 */
import { fr } from '../../core/twin-math.js';
import { tensorSum } from '../../passes/tensor-reduction.js';
import { resolveProdigyOptions, type ProdigyOptions } from './options.js';

export type ProdigyPrecision = 'f32' | 'f64';

/** The global scalars the authors keep in every param_group (`d_hat` only once a step reached it). */
export interface ProdigyScalars {
  d: number;
  d_numerator: number;
  d_max: number;
  d_hat: number | undefined;
  /** Steps taken (a step whose Σ|s| is 0 returns early and does not count, as the authors'). */
  k: number;
}

/** One tensor's state under its PyTorch names (`s`, `p0` keep every sliceP-th element). */
export interface ProdigyTensorState {
  s: Float32Array | Float64Array;
  p0: Float32Array | Float64Array;
  exp_avg: Float32Array | Float64Array | undefined;
  exp_avg_sq: Float32Array | Float64Array;
  step: number;
}

export interface ProdigyReference {
  readonly params: readonly (Float32Array | Float64Array)[];
  readonly scalars: Readonly<ProdigyScalars>;
  readonly groups: readonly ProdigyOptions[];
  /** One step with one gradient per tensor (each the tensor's length); refused before anything changes. */
  step(grads: readonly ArrayLike<number>[]): void;
  /** Tensor i's state, the sliced slots compacted to every sliceP-th element. */
  tensorState(i: number): ProdigyTensorState;
}

interface Arithmetic {
  readonly r: (x: number) => number;
  readonly array: (source: ArrayLike<number> | number) => Float32Array | Float64Array;
  /** Σ term(e) over one tensor of `length` elements. */
  readonly sum: (length: number, term: (e: number) => number) => number;
}

const ARITHMETIC: Record<ProdigyPrecision, Arithmetic> = {
  f32: { r: fr, array: (s) => (typeof s === 'number' ? new Float32Array(s) : Float32Array.from(s)), sum: tensorSum },
  f64: {
    r: (x) => x,
    array: (s) => (typeof s === 'number' ? new Float64Array(s) : Float64Array.from(s)),
    sum: (length, term) => {
      let total = 0;
      for (let e = 0; e < length; e++) total += term(e);
      return total;
    },
  },
};

interface TensorSlots {
  s: Float32Array | Float64Array;
  p0: Float32Array | Float64Array;
  m: Float32Array | Float64Array;
  v: Float32Array | Float64Array;
  step: number;
}

/** The scalars of one step that every tensor reads (taken before d moves). */
interface StepScalars {
  d: number;
  dlr: number;
  beta1: number;
  beta2: number;
  beta3: number;
  oneMinusBeta1: number;
  oneMinusBeta2: number;
}

/**
 * A Prodigy twin over `params` (tensor i in group `tensorGroup[i]`), each group's options resolved
 * from `options` then `groupOptions[g]`. The global hyperparameters are the first group's (betas,
 * beta3, dCoef, growthRate, useBiasCorrection, decouple), as the authors read them; lr must be the
 * same in every group.
 */
export function createProdigyReference(args: {
  params: readonly ArrayLike<number>[];
  tensorGroup?: readonly number[];
  options?: Readonly<Record<string, unknown>>;
  groupOptions?: readonly Readonly<Record<string, unknown>>[];
  precision: ProdigyPrecision;
}): ProdigyReference {
  const a = ARITHMETIC[args.precision];
  const tensorGroup = args.tensorGroup ?? args.params.map(() => 0);
  const groups = (args.groupOptions ?? [{}]).map((g) => resolveProdigyOptions(args.options ?? {}, g));
  checkSet(args.params, tensorGroup, groups);
  const params = args.params.map((p) => a.array(p));
  const first = groups[0]!;
  const slots: TensorSlots[] = params.map((p) => ({
    s: a.array(p.length),
    p0: a.array(p),
    m: a.array(p.length),
    v: a.array(p.length),
    step: 0,
  }));
  const scalars: ProdigyScalars = { d: a.r(first.d0), d_numerator: 0, d_max: a.r(first.d0), d_hat: undefined, k: 0 };
  return {
    params,
    scalars,
    groups,
    step(grads) {
      checkGradients(grads, params);
      prodigyStep(a, { params, slots, tensorGroup, groups, scalars }, grads);
    },
    tensorState(i) {
      const slice = groups[tensorGroup[i]!]!.sliceP;
      const sliced = (x: Float32Array | Float64Array) => x.filter((_, e) => e % slice === 0);
      const t = slots[i]!;
      return { s: sliced(t.s), p0: sliced(t.p0), exp_avg: groups[0]!.betas[0] > 0 ? t.m : undefined, exp_avg_sq: t.v, step: t.step };
    },
  };
}

function checkSet(params: readonly ArrayLike<number>[], tensorGroup: readonly number[], groups: readonly ProdigyOptions[]): void {
  if (tensorGroup.length !== params.length) throw new RangeError(`webgpu-optim: prodigy: tensorGroup has ${tensorGroup.length} entries for ${params.length} tensors`);
  tensorGroup.forEach((g, i) => {
    if (!Number.isInteger(g) || g < 0 || g >= groups.length) throw new RangeError(`webgpu-optim: prodigy: tensor ${i} is in group ${g}, out of the ${groups.length} groups`);
  });
  groups.forEach((g, i) => {
    if (g.lr !== groups[0]!.lr) {
      throw new RangeError(`webgpu-optim: prodigy: group ${i} has lr ${g.lr}, group 0 has ${groups[0]!.lr}: d is one estimate for every group, so lr must be the same in all`);
    }
  });
}

function checkGradients(grads: readonly ArrayLike<number>[], params: readonly ArrayLike<number>[]): void {
  if (grads.length !== params.length) throw new RangeError(`webgpu-optim: prodigy: step() got ${grads.length} gradients for ${params.length} tensors`);
  grads.forEach((g, i) => {
    if (g.length !== params[i]!.length) throw new RangeError(`webgpu-optim: prodigy: gradient ${i} has ${g.length} elements, the tensor ${params[i]!.length}`);
  });
}

interface SetState {
  params: readonly (Float32Array | Float64Array)[];
  slots: readonly TensorSlots[];
  tensorGroup: readonly number[];
  groups: readonly ProdigyOptions[];
  scalars: ProdigyScalars;
}

/** The step's shared scalars, from the first group's options and the scalars before the step. */
function stepScalars(a: Arithmetic, first: ProdigyOptions, scalars: ProdigyScalars): StepScalars {
  const [beta1, beta2] = first.betas;
  const k = scalars.k;
  // The bias correction is one float64 value on the host (a per-step scalar), rounded once.
  const bias = first.useBiasCorrection ? a.r(Math.sqrt(1 - beta2 ** (k + 1)) / (1 - beta1 ** (k + 1))) : 1;
  const d = scalars.d;
  return { d, dlr: a.r(a.r(d * a.r(first.lr)) * bias), beta1: a.r(beta1), beta2: a.r(beta2), beta3: a.r(first.beta3 ?? Math.sqrt(beta2)), oneMinusBeta1: a.r(1 - beta1), oneMinusBeta2: a.r(1 - beta2) };
}

/**
 * The first loop of the authors' step, for one tensor: the working gradient (coupled decay), its
 * share of d's numerator (returned), the moments, s; and Σ|s| (returned).
 */
function accumulate(a: Arithmetic, o: ProdigyOptions, decouple: boolean, k: StepScalars, param: Float32Array | Float64Array, slot: TensorSlots, grad: ArrayLike<number>): { numerator: number; absS: number; work: Float32Array | Float64Array } {
  const { r } = a;
  const work = a.array(grad);
  if (o.weightDecay !== 0 && !decouple) for (let e = 0; e < work.length; e++) work[e] = r(work[e]! + r(r(o.weightDecay) * param[e]!));
  const slice = o.sliceP;
  const dot = a.sum(param.length, (e) => (e % slice === 0 ? r(work[e]! * r(slot.p0[e]! - param[e]!)) : 0));
  const ratio = r(k.d / r(o.d0));
  const numeratorFactor = r(ratio * k.dlr);
  const sFactor = o.safeguardWarmup ? r(ratio * k.d) : numeratorFactor;
  const mFactor = r(k.d * k.oneMinusBeta1);
  const vFactor = r(r(k.d * k.d) * k.oneMinusBeta2);
  for (let e = 0; e < param.length; e++) {
    const g = work[e]!;
    if (k.beta1 > 0) slot.m[e] = r(r(slot.m[e]! * k.beta1) + r(mFactor * g));
    slot.v[e] = r(r(slot.v[e]! * k.beta2) + r(r(vFactor * g) * g));
    if (e % slice === 0) slot.s[e] = r(r(slot.s[e]! * k.beta3) + r(sFactor * g));
  }
  const absS = a.sum(param.length, (e) => (e % slice === 0 ? Math.abs(slot.s[e]!) : 0));
  return { numerator: r(numeratorFactor * dot), absS, work };
}

/** d̂ and the new d, d_max from the folded sums (the authors' order); false when Σ|s| is 0 (no step). */
function moveD(a: Arithmetic, set: SetState, k: StepScalars, numerator: number, denominator: number): boolean {
  const { r } = a;
  const { scalars, groups } = set;
  if (denominator === 0) return false;
  const first = groups[0]!;
  const total = r(r(scalars.d_numerator * k.beta3) + numerator);
  const dHat = r(r(r(first.dCoef) * total) / denominator);
  let d = k.d;
  // The authors compare with the d0 of the last group (their loop variable).
  if (d === a.r(groups[groups.length - 1]!.d0)) d = Math.max(d, dHat);
  const dMax = Math.max(scalars.d_max, dHat);
  d = Math.min(dMax, r(d * r(first.growthRate)));
  Object.assign(scalars, { d_numerator: total, d, d_max: dMax, d_hat: dHat });
  return true;
}

/** The second loop: decoupled decay with the old dlr, then the step over √v + d·eps with the new d. */
function update(a: Arithmetic, o: ProdigyOptions, first: ProdigyOptions, k: StepScalars, d: number, param: Float32Array | Float64Array, slot: TensorSlots, work: ArrayLike<number>): void {
  const { r } = a;
  const eps = r(d * r(o.eps));
  const decay = o.weightDecay !== 0 && first.decouple ? r(-r(o.weightDecay) * k.dlr) : 0;
  const negDlr = -k.dlr;
  const negDlrD = r(-k.dlr * d);
  for (let e = 0; e < param.length; e++) {
    const denom = r(r(Math.sqrt(slot.v[e]!)) + eps);
    let p = param[e]!;
    if (decay !== 0) p = r(p + r(decay * p));
    p = k.beta1 > 0 ? r(p + r(r(negDlr * slot.m[e]!) / denom)) : r(p + r(r(negDlrD * work[e]!) / denom));
    param[e] = p;
  }
  slot.step++;
}

function prodigyStep(a: Arithmetic, set: SetState, grads: readonly ArrayLike<number>[]): void {
  const { params, slots, tensorGroup, groups, scalars } = set;
  const first = groups[0]!;
  const k = stepScalars(a, first, scalars);
  let numerator = 0;
  let denominator = 0;
  const works = params.map((param, i) => {
    const shares = accumulate(a, groups[tensorGroup[i]!]!, first.decouple, k, param, slots[i]!, grads[i]!);
    numerator = a.r(numerator + shares.numerator);
    denominator = a.r(denominator + shares.absS);
    return shares.work;
  });
  if (!moveD(a, set, k, numerator, denominator)) return;
  params.forEach((param, i) => update(a, groups[tensorGroup[i]!]!, first, k, scalars.d, param, slots[i]!, works[i]!));
  scalars.k++;
}
