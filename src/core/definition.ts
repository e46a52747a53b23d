/**
 * What one optimizer is, as data: its options and their defaults, the state slots it keeps, the
 * per-step scalars its kernel reads (a declarative schema), its WGSL kernel and its CPU twin.
 * A folder under src/optimizers/ holds one of these; registry.ts lists them. Everything else
 * (the WGSL `struct Hyper`, the host packing, the twin's named scalars, the step table of the
 * training-control path) is derived from the definition by src/engine/.
 */

import type { PassDeclaration } from './passes.js';
import type { OptionCheck } from './validate.js';

/** Pipeline-creation flags of a kernel (`#if NAME` in the .wgsl files). */
export type KernelDefines = Readonly<Record<string, boolean>>;

/** A state buffer: its PyTorch state name and the WGSL variable the kernel calls it. */
export interface SlotSpec {
  readonly name: string;
  readonly wgsl: string;
  /**
   * Kept in f32 whatever the `stateFormat`: a point of the iteration (Schedule-Free's z), not a
   * statistic of the gradients, so rounding it would move the parameters themselves.
   */
  readonly alwaysF32?: boolean;
  /**
   * Holds squares (a second moment, never negative): a format with a narrow range (f16) stores its
   * square root instead, so that small second moments do not underflow (src/state/state-format.ts).
   */
  readonly squared?: boolean;
  /** Never negative (besides `squared` slots): 8-bit state uses the unsigned map (src/state/q8.ts). */
  readonly nonNegative?: boolean;
  /**
   * The name of an earlier slot whose GPU buffer this one shares: no tensor holds both (`groupSlots`
   * names one or the other per group, e.g. Muon's momentum_buffer and AdamW's exp_avg beside it), so
   * one buffer packs both, and the state dict names each tensor's values by the slot it holds. The
   * kernel still reads this slot as `<wgsl>Load(i)`. Not with 8-bit state.
   */
  readonly storedIn?: string;
  /**
   * Held only by the tensors whose group names it in `groupSlots` (AdamW's exp_avg_sq beside Muon):
   * its buffer packs those tensors only (src/core/compact-layout.ts), and its accessors remap the
   * index through `compactSlotIndex(i)`, which a declared pass defines (flag COMPACT_SLOT_INDEX)
   * from a table the kernel binds. Not with 8-bit state; every compact slot of a kernel has the
   * same holders.
   */
  readonly compact?: boolean;
}

/**
 * A state slot whose size follows the tensor's shape instead of its length (Adafactor's row and
 * column factors): `shape` is its PyTorch shape (e.g. `[..., rows, 1]`).
 */
export interface ShapedSlot {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A scalar that depends on the hyperparameters only. */
export interface FixedScalar<H> {
  readonly doc: string;
  readonly value: (options: H) => number;
}

/**
 * A scalar that depends on the step number t (1-based), such as a bias correction. The host
 * computes its exact value in float64 and rounds once: `base / perStep` ('divide') or `perStep`
 * ('replace'). On the training-control path the GPU counts the steps (skipped steps do not count),
 * so the ring carries the step-free `base` and the kernel combines it in f32 with the `perStep`
 * value of the step the GPU actually takes, read from the step table.
 */
export interface StepScalar<H> {
  readonly doc: string;
  /** A function of t and the hyperparameters other than lr (an lr schedule changes lr per step). */
  readonly perStep: (options: H, t: number) => number;
  readonly combine: 'divide' | 'replace';
  /** The step-free part ('divide' only). */
  readonly base?: (options: H) => number;
  /**
   * The host's exact float64 expression when it is not literally `base / perStep` (PyTorch's own
   * operation order, so the one rounding lands on the same float32).
   */
  readonly exact?: (options: H, t: number) => number;
  /**
   * On the training-control path, computed from the scalars the step table set (a WGSL expression
   * over `h`, and its f32 twin) instead of taking a step-table entry of its own: for an optimizer
   * with more step-dependent scalars than a row holds (AdEMAMix's β₃ₜ from 1 − β₃ₜ). Elsewhere the
   * host's exact float64 value, rounded once, as for every step scalar.
   */
  readonly onDeviceStep?: { readonly wgsl: string; readonly twin: (h: Readonly<Record<string, number>>) => number };
}

export type ScalarSpec<H> = FixedScalar<H> | StepScalar<H>;

/** The kernel's `struct Hyper`, field by field in order (object key order). */
export type ScalarSchema<H, S extends string> = { readonly [K in S]: ScalarSpec<H> };

/** One group's scalars as the kernel reads them (f32 values), by name. */
export type Scalars<S extends string> = Readonly<Record<S, number>>;

/**
 * The per-element CPU twin of a kernel. It receives the f32 scalars the GPU reads and updates
 * `param` and the state slots in place for `[begin, end)`, rounding every operation to f32.
 */
export type ReferenceUpdate<S extends string> = (args: {
  param: Float32Array;
  grad: Float32Array;
  state: Readonly<Record<string, Float32Array>>;
  h: Scalars<S>;
  defines: KernelDefines;
  begin: number;
  end: number;
  /** The tensor's dimensions (the layer-wise twins, called on whole tensors, use them). */
  shape: readonly number[];
  /**
   * The value a store of `x` into element `element` of `slot` keeps (rounded to the state format;
   * identity in f32). The caller rounds every slot after the twin returns; a twin that reads a slot
   * back after writing it in the same step (LAMB) must store through this, as the GPU reads the
   * stored bits.
   */
  stored: (slot: string, x: number, element: number) => number;
  /**
   * Stores the whole tensor's `slot` now and sets `values` to what the GPU loads back (8-bit state
   * is quantized by runs, so a value's stored form needs its whole run; other formats already
   * stored each element through `stored`). A twin that reads a slot back after writing it in the
   * same step (LAMB) calls this between.
   */
  storeTensor: (slot: string, values: Float32Array) => void;
}) => void;

/** One tensor as a whole-set twin sees it. */
export interface SetTwinTensor<S extends string> {
  readonly param: Float32Array;
  readonly grad: Float32Array;
  readonly state: Readonly<Record<string, Float32Array>>;
  /** Its group's f32 scalars, as the GPU reads them. */
  readonly h: Scalars<S>;
  /** Its group's index. */
  readonly group: number;
  /**
   * PyTorch's step rule: the tensor has no gradient this step (its `grad` is None), so the step
   * leaves it and its state untouched and its terms out of whole-set sums; `h` is then its own row.
   */
  readonly absent?: boolean;
  /** As `ReferenceUpdate`'s `stored`: the value a store of `x` keeps in the state format. */
  readonly stored: (slot: string, x: number, element: number) => number;
}

/**
 * The CPU twin of a step over the whole set at once (Prodigy: one estimate d over every tensor),
 * called once per step instead of `reference` per tensor. `setState` is the optimizer's own scalar
 * state (the words of the GPU buffer its pass keeps), updated in place.
 */
export type SetReferenceUpdate<S extends string> = (args: { tensors: readonly SetTwinTensor<S>[]; defines: KernelDefines; setState: Float32Array }) => void;

export interface OptimizerDefinition<H extends object = object, S extends string = string> {
  readonly name: string;
  /** The kernel: a WGSL file defining `fn update(i: u32, h: Hyper, g: vec4<f32>)`. */
  readonly kernel: { readonly name: string; readonly source: string };
  /** PyTorch's defaults; options in `required` have no default and must be given. */
  readonly defaults: Readonly<H>;
  readonly required: readonly (keyof H & string)[];
  /** Options that choose the kernel variant: equal in every group, fixed at creation. */
  readonly structural: readonly (keyof H & string)[];
  /** Why this optimizer refuses an lr schedule (it has its own), when it does. */
  readonly noLrSchedule?: string;
  /**
   * Why this optimizer cannot leave a tensor without gradient untouched while it updates the others
   * (PyTorch's rule for `grad is None`), when it cannot: its step uses a quantity of the whole group
   * or set, not the tensor's own step count. A step with such a
   * tensor is then refused, naming this reason (src/front/gradient-presence.ts).
   */
  readonly noGradientSkip?: string;
  /**
   * Why every scalar of this optimizer's step is taken at its group's step count, when it is
   * (Schedule-Free: the authors' `group['k']`, lr_max and weight_sum advance with every step,
   * whether or not a tensor has its gradient). A tensor without gradient is skipped at that count
   * and keeps no step count of its own, so a state dict whose tensors' counts differ is refused.
   */
  readonly groupStepCount?: string;
  /**
   * Train and eval modes (Schedule-Free): the kernel's `toEval` / `toTrain` entry points switch the
   * parameter buffer between the points it holds; `step()` runs in train mode only.
   */
  readonly modes?: {
    readonly initial: 'train';
    /** CPU twin of the `toEval` / `toTrain` entry points, for one tensor of one group. */
    readonly switchTwin: (args: { param: Float32Array; state: Readonly<Record<string, Float32Array>>; h: Scalars<S>; to: 'train' | 'eval' }) => void;
  };
  /**
   * Layer-wise optimizers (LAMB, LARS): what the kernel's `partials(i, h, g, valid)` sums over each
   * tensor (up to four f32 sums per vec4, e.g. ‖p‖² and ‖u‖²). The engine records the per-tensor
   * sums before every update (shaders/layerwise.wgsl), and `update()` reads them with
   * `tensorSumsAt(i)`. The twin is then called once per whole tensor and sums in the GPU's order
   * (src/passes/tensor-reduction.ts).
   */
  readonly tensorSums?: string;
  /**
   * What `partials()` stores (LAMB: its moments, so that ‖u‖ is taken from them as stored).
   * Undefined: `partials()` only reads (LARS). With 8-bit state, such state is quantized in the
   * partials pass (shaders/q8-layerwise.wgsl) and the update pass only loads it.
   */
  readonly partialsStore?: string;
  /**
   * What the step does before the element-wise update, in order (src/core/passes.ts): per-tensor
   * sums, factored state, matrix products… Each pass brings its bindings, flags and dispatches; the
   * engine records whatever is declared here. A function of the kernel flags (the definition's
   * `defines`) when a structural option chooses them (Adam's `cautious`); `declaredPasses` resolves it.
   */
  readonly passes?: readonly PassDeclaration[] | ((defines: KernelDefines) => readonly PassDeclaration[]);
  /**
   * Why block-wise state (stateFormat 'q8' or 'q4') cannot hold this kernel variant's state, when it
   * cannot (cautious updates: their pass reads the state outside the 8-bit tiles); undefined otherwise.
   */
  readonly noQ8State?: (defines: KernelDefines) => string | undefined;
  /**
   * Factored state (Adafactor): slots whose size follows each tensor's shape, kept in one buffer in
   * per-tensor regions (see src/passes/factored.ts), besides the per-element `slots`.
   */
  readonly shapedSlots?: (shape: readonly number[]) => readonly ShapedSlot[];
  /** State slots that start as a copy of the parameters (Schedule-Free's z). */
  readonly initialFromParams?: readonly string[];
  /**
   * Refuses, before anything is made, tensors the optimizer cannot take (Muon: fewer than two
   * dimensions), naming the tensor; `what` names the call. Run by the GPU optimizer and the twin.
   */
  readonly checkTensors?: (what: string, tensors: readonly { readonly name: string; readonly shape: readonly number[] }[], tensorOptions: readonly H[]) => void;
  /**
   * Rewrites the options a user gives before they are resolved, from the tensors' names and shapes
   * (Muon with `adamw`: the tensors AdamW takes move to groups of their own); refuses, naming the
   * option and value, what only the tensors can tell is wrong. `what` names the call.
   */
  readonly expandOptions?: (options: Record<string, unknown>, tensors: readonly { readonly name: string; readonly shape: readonly number[] }[], what: string) => Record<string, unknown>;
  /**
   * How an lr schedule applies to a group (undefined: `lr` is scheduled): an optimizer with several
   * learning rates (Muon's and its AdamW's) schedules each, as torch schedules two optimizers.
   */
  readonly scheduleLrs?: (options: H, scheduled: (baseLr: number) => number) => H;
  /**
   * Options this library adds to an optimizer torch.optim also has (Adam's `cautious`): a PyTorch
   * checkpoint omits them at their defaults and refuses any other value (torch would continue
   * without them), naming the option.
   */
  readonly notInTorch?: readonly (keyof H & string)[];
  /**
   * Options this library writes into a PyTorch checkpoint as an extra group key (torch keeps keys it
   * does not know, as it keeps `foreach`) whose meaning, in a file without the key, is not this
   * library's default but what torch.optim's class does (Muon's `nsPrecision`: torch's Newton–Schulz
   * runs in bfloat16): the value a file without the key loads as.
   */
  readonly torchWhenAbsent?: Partial<H>;
  /** Options that cannot change once steps were taken (scalar state follows from their history). */
  readonly fixedOnceStarted?: readonly (keyof H & string)[];
  /**
   * Options setHyperparameters and loadStateDict never change: what they decide was built when the
   * optimizer was made (Muon's `role` and `adamwTensors`: which tensors hold which state, the
   * matrices; `nsSteps`: the steps the Newton–Schulz pass records).
   */
  readonly fixedAtCreation?: readonly (keyof H & string)[];
  /**
   * Per-tensor scalar state PyTorch keeps beside the slots (NAdam's `mu_product`), as a function of
   * the steps taken and the options; saved in state dicts as a number, checked on load.
   */
  readonly scalarState?: { readonly [name: string]: (options: H, step: number) => number };
  /** The check of every option (`is.nonNegative`, `is.boolean`…), run on each group's options. */
  readonly checks: { readonly [K in keyof H]-?: OptionCheck };
  /** Rules that tie several options together (e.g. Nesterov needs momentum), after the checks. */
  validate?(options: H): void;
  /** Kernel flags for these groups (MULTI_GROUP, LAYERWISE and GRAD_CONTROL are added by the engine). */
  defines(groups: readonly H[]): Record<string, boolean>;
  /** State buffers of a kernel variant, in binding order. */
  slots(defines: KernelDefines): readonly SlotSpec[];
  /** The slots a tensor of this group has in PyTorch (e.g. no momentum_buffer at momentum 0). */
  groupSlots(options: H, defines: KernelDefines): readonly string[];
  /** Value a state slot starts with. */
  initialValue(slot: string, options: H): number;
  readonly scalars: ScalarSchema<H, S>;
  readonly reference: ReferenceUpdate<S>;
  /**
   * Scalar state of the whole set (Prodigy's d, d_numerator, d_max, k…), which a pass of the
   * optimizer keeps in a GPU buffer between steps: its initial words, for these groups. The twin
   * keeps the same words and steps with `setReference` (not `reference`) when this is given.
   */
  readonly setState?: (groups: readonly H[], tensorGroup: readonly number[]) => Float32Array;
  /** The twin's step over the whole set, given with `setState` (which it updates); `reference` is then not called. */
  readonly setReference?: SetReferenceUpdate<S>;
  /** How `setState` words appear in state dicts (`setState` of the dict, by name) and are read back from one. */
  readonly setStateDict?: {
    /** The dict's entries for these words. */
    read(words: Float32Array): Record<string, number>;
    /**
     * The words a dict's entries give, over `initial` (this optimizer's initial words); refuses,
     * naming the entry, a value it cannot hold or one its `step` (the dict's updates) cannot reach.
     */
    words(entries: unknown, initial: Float32Array, groups: readonly H[], fail: (message: string) => never, step: number): Float32Array;
  };
}

/** Identity that lets TypeScript infer the options and scalar names of a definition. */
export function defineOptimizer<H extends object, S extends string>(definition: OptimizerDefinition<H, S>): OptimizerDefinition<H, S> {
  return definition;
}

/**
 * The passes of a kernel variant: `definition.passes`, or what it returns for these flags (the
 * definition's own, or a superset of them with the engine's: a `passes` function reads only its own).
 */
export function declaredPasses(definition: Pick<OptimizerDefinition<any, any>, 'passes'>, defines: KernelDefines): readonly PassDeclaration[] {
  const passes = definition.passes;
  return typeof passes === 'function' ? passes(defines) : (passes ?? []);
}

export function isStepScalar<H>(spec: ScalarSpec<H>): spec is StepScalar<H> {
  return 'perStep' in spec;
}
