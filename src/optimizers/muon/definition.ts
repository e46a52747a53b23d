import { newtonSchulzPass } from '../../passes/newton-schulz.js';
import { checkMatrices, MAX_NS_STEPS } from '../../passes/newton-schulz-table.js';
import { defineOptimizer } from '../../core/definition.js';
import { describeValue } from '../../core/describe-value.js';
import { is, oneOf } from '../../core/validate.js';
import { muonReference } from './reference.js';
import { adamwScalars, checkAdamw, checkAdamwTensors, expandHybrid, scheduleBothLrs, validateHybrid, type AdamwScalar, type MuonAdamwOptions } from './hybrid.js';
import source from './muon.wgsl?raw';

/** One Newton–Schulz step's coefficients (a, b, c): X ← a·X + (b·A + c·A²)·X, A = XXᵀ. */
export type NsTriple = readonly [number, number, number];

/** Muon options, named and defaulted as torch.optim.Muon (PyTorch 2.9+) in camelCase. */
export interface MuonOptions {
  /** Muon's learning rate, on the matrices (θ ← … − lr·s·O; with `adamw`, AdamW's tensors take `adamw.lr`). */
  lr: number;
  /** Decoupled: θ ← θ·(1 − lr·weightDecay) before the update (the unadjusted lr). */
  weightDecay: number;
  /** μ: B ← lerp(B, g, 1 − μ). */
  momentum: number;
  /** U = lerp(g, B, μ) (true) or B (false). */
  nesterov: boolean;
  /**
   * (a, b, c) of every Newton–Schulz step, or one triple per step (`nsSteps` of them: the "Polar
   * Express" schedules).
   */
  nsCoefficients: NsTriple | readonly NsTriple[];
  /** Floor of ‖X‖_F before the iteration: X ← X / max(‖X‖_F, eps). */
  eps: number;
  /** Newton–Schulz steps, 1 … 10 (the same in every group: it sets the dispatches). */
  nsSteps: number;
  /** The update's scale s: √max(1, rows/cols) ('original') or 0.2·√max(rows, cols) ('match_rms_adamw'). */
  adjustLrFn: 'original' | 'match_rms_adamw';
  /**
   * AdamW beside Muon (torch.optim.AdamW's semantics; defaults lr 3e-4, betas [0.9, 0.95], eps 1e-8,
   * weightDecay 0.01): given (`{}` for the defaults), the tensors that are not matrices and those
   * `adamwTensors` names are updated by AdamW, in groups of role 'adamw'. Undefined: Muon alone,
   * which refuses tensors of fewer than two dimensions.
   */
  adamw: Partial<MuonAdamwOptions> | undefined;
  /** Matrices AdamW updates instead of Muon (embeddings, the output head), by name; needs `adamw`. */
  adamwTensors: readonly string[];
  /** Which rule a group's tensors take: 'muon', or 'adamw' (needs `adamw`; made for AdamW's tensors). */
  role: 'muon' | 'adamw';
  /**
   * Newton–Schulz arithmetic: 'f32' (default: every value f32), or 'bf16' as torch.optim.Muon
   * computes it (X cast to bfloat16, ‖X‖ and every product's output rounded to bfloat16, f32
   * accumulation), for porting a torch recipe bit-near.
   */
  nsPrecision: 'f32' | 'bf16';
}

type NsIndex = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
type NsScalar = `ns${NsIndex}${'a' | 'b' | 'c'}`;
export type MuonScalar = 'decay' | 'negLr' | 'momentum' | 'oneMinusMomentum' | 'eps' | 'matchRmsAdamw' | 'nsSteps' | 'nsBf16' | NsScalar | AdamwScalar;

/** torch.optim.Muon's coefficients (Keller Jordan's quintic). */
export const DEFAULT_NS_COEFFICIENTS: NsTriple = [3.4445, -4.775, 2.0315];

const isTriple = (v: unknown): v is NsTriple => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number');

function checkTriple(optimizer: string, name: string, value: unknown): void {
  if (!Array.isArray(value) || value.length !== 3) throw new TypeError(`webgpu-optim: ${optimizer}: ${name} must be a triple [a, b, c], got ${describeValue(value)}`);
  value.forEach((x, k) => is.finite(optimizer, `${name}[${k}]`, x));
}

/** A triple of finite numbers, or a non-empty array of such triples (one per step). */
function checkCoefficients(optimizer: string, name: string, value: unknown): void {
  if (Array.isArray(value) && value.length > 0 && Array.isArray(value[0])) value.forEach((t, k) => checkTriple(optimizer, `${name}[${k}]`, t));
  else checkTriple(optimizer, name, value);
}

/** The coefficients of step k (0-based); 0 past the steps taken. */
export function nsCoefficientsAt(o: MuonOptions, k: number): NsTriple {
  if (k >= o.nsSteps) return [0, 0, 0];
  return isTriple(o.nsCoefficients) ? o.nsCoefficients : (o.nsCoefficients as readonly NsTriple[])[k]!;
}

function coefficientScalars() {
  const entries: [string, { doc: string; value: (o: MuonOptions) => number }][] = [];
  for (let k = 0; k < MAX_NS_STEPS; k++) {
    (['a', 'b', 'c'] as const).forEach((letter, j) => entries.push([`ns${k}${letter}`, { doc: `f(${letter}) of Newton–Schulz step ${k + 1} (0 past nsSteps)`, value: (o) => nsCoefficientsAt(o, k)[j]! }]));
  }
  return Object.fromEntries(entries) as Record<NsScalar, { doc: string; value: (o: MuonOptions) => number }>;
}

/**
 * Muon — Jordan et al. 2024, "Muon: An optimizer for hidden layers in neural networks"; Liu et al.
 * 2025, "Muon is Scalable for LLM Training" — with torch.optim.Muon's recipe (torch/optim/_muon.py):
 * per matrix `B ← lerp(B, g, 1 − μ)`, `U = nesterov ? lerp(g, B, μ) : B`, `O = NS(U)` (the
 * Newton–Schulz pass, every matrix of the set together), `θ ← θ·(1 − lr·wd) − lr·s·O`. The
 * Newton–Schulz arithmetic is f32 by default (torch's is bf16: `nsPrecision: 'bf16'`). State
 * `momentum_buffer` of the matrices; with `adamw`, AdamW's `exp_avg` and `exp_avg_sq` of its
 * tensors (src/optimizers/muon/hybrid.ts).
 */
export const muon = defineOptimizer<MuonOptions, MuonScalar>({
  name: 'muon',
  kernel: { name: 'muon', source },
  defaults: { lr: 1e-3, weightDecay: 0.1, momentum: 0.95, nesterov: true, nsCoefficients: DEFAULT_NS_COEFFICIENTS, eps: 1e-7, nsSteps: 5, adjustLrFn: 'original', nsPrecision: 'f32', adamw: undefined, adamwTensors: [], role: 'muon' },
  required: [],
  structural: ['nesterov', 'nsSteps'],
  // A group's role decides its tensors' slots (exp_avg_sq is packed over AdamW's) and matrices;
  // adamwTensors the split into roles; nsSteps the steps the Newton–Schulz pass records.
  fixedAtCreation: ['role', 'adamwTensors', 'nsSteps'],
  passes: [newtonSchulzPass],
  checks: {
    lr: is.nonNegative,
    weightDecay: is.nonNegative,
    momentum: is.unitInterval,
    nesterov: is.boolean,
    nsCoefficients: checkCoefficients,
    eps: is.nonNegative,
    nsSteps: (optimizer, name, value) => {
      if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_NS_STEPS) {
        throw new RangeError(`webgpu-optim: ${optimizer}: ${name} must be an integer in [1, ${MAX_NS_STEPS}], got ${describeValue(value)}`);
      }
    },
    adjustLrFn: oneOf('original', 'match_rms_adamw'),
    adamw: checkAdamw,
    adamwTensors: checkAdamwTensors,
    role: oneOf('muon', 'adamw'),
    nsPrecision: oneOf('f32', 'bf16'),
  },
  validate(o) {
    if (!isTriple(o.nsCoefficients) && o.nsCoefficients.length !== o.nsSteps) {
      throw new RangeError(`webgpu-optim: muon: nsCoefficients holds ${o.nsCoefficients.length} triples, nsSteps is ${o.nsSteps}: give one triple, or one per step`);
    }
    validateHybrid(o);
  },
  // AdamW's tensors (groups of role 'adamw') need not be matrices.
  checkTensors: (what, tensors, tensorOptions) => checkMatrices(what, tensors.filter((_, i) => tensorOptions[i]?.role !== 'adamw')),
  expandOptions: expandHybrid,
  // torch.optim.Muon has none of these: its checkpoint leaves them out at their defaults (AdamW's
  // tensors go to a file of their own: src/checkpoint/torch-pair.ts).
  notInTorch: ['adamw', 'adamwTensors', 'role'],
  // nsPrecision is written as the group key `ns_precision`; a torch.optim.Muon file without it is
  // torch's recipe, whose Newton–Schulz runs in bfloat16.
  torchWhenAbsent: { nsPrecision: 'bf16' },
  noQ8State: () => "Muon stores its momentum in muonGather, an entry point of the Newton–Schulz pass that runs outside the tiles of 8- and 4-bit state (use stateFormat 'f32', 'bf16' or 'f16')",
  scheduleLrs: scheduleBothLrs,
  defines: (groups) => ({ NESTEROV: groups[0]!.nesterov, MAXIMIZE: false, HYBRID: groups.some((g) => g.adamw !== undefined) }),
  // With AdamW beside Muon, a tensor holds Muon's momentum_buffer or AdamW's exp_avg, never both:
  // one buffer packs them (storedIn); exp_avg_sq is packed over AdamW's tensors only (compact, its
  // index remapped through the Newton–Schulz table): in f32, 4 bytes per Muon element and 8 per
  // AdamW element, as torch's pair (docs/semantics.md, "Muon with AdamW").
  slots: (d) => [{ name: 'momentum_buffer', wgsl: 'momentumBuffer' }, ...(d.HYBRID ? [{ name: 'exp_avg', wgsl: 'expAvg', storedIn: 'momentum_buffer' }, { name: 'exp_avg_sq', wgsl: 'expAvgSq', squared: true, compact: true }] : [])],
  groupSlots: (o) => (o.role === 'adamw' ? ['exp_avg', 'exp_avg_sq'] : ['momentum_buffer']),
  initialValue: () => 0,
  scalars: {
    decay: { doc: 'f(1 − lr·weight_decay), applied to the old parameter', value: (o) => 1 - o.lr * o.weightDecay },
    negLr: { doc: 'f(−lr), times each matrix\'s f(s)', value: (o) => -o.lr },
    momentum: { doc: 'f(μ), the Nesterov lerp weight', value: (o) => o.momentum },
    oneMinusMomentum: { doc: 'f(1 − μ), the momentum lerp weight', value: (o) => 1 - o.momentum },
    eps: { doc: 'f(eps), the floor of ‖X‖_F', value: (o) => o.eps },
    matchRmsAdamw: { doc: "1: s = 0.2·√max(rows, cols) ('match_rms_adamw'); 0: s = √max(1, rows/cols)", value: (o) => (o.adjustLrFn === 'match_rms_adamw' ? 1 : 0) },
    nsSteps: { doc: 'nsSteps (the pass records that many steps; the twin reads it here)', value: (o) => o.nsSteps },
    nsBf16: { doc: "1: Newton–Schulz values rounded to bfloat16 (nsPrecision 'bf16'); 0: f32", value: (o) => (o.nsPrecision === 'bf16' ? 1 : 0) },
    ...coefficientScalars(),
    ...adamwScalars,
  },
  reference: muonReference,
});
