import type { KernelDefines, KernelFamily } from '../shaders.js';

/** A state buffer of a kernel: its PyTorch state name and its `@binding` in the family's .wgsl. */
export interface SlotSpec {
  readonly name: string;
  readonly binding: number;
}

/**
 * The per-element CPU twin of a kernel family. It receives the same f32-rounded scalars the GPU
 * reads (one group's `Hyper` struct as a Float32Array) and updates `param` and the state slots in
 * place for `[begin, end)`, rounding every operation to f32 with Math.fround.
 */
export type ReferenceUpdate = (args: {
  param: Float32Array;
  grad: Float32Array;
  state: Readonly<Record<string, Float32Array>>;
  scalars: Float32Array;
  defines: KernelDefines;
  begin: number;
  end: number;
}) => void;

/**
 * Everything the host needs to know about one optimizer. Adding an optimizer means writing one of
 * these, its kernel (shaders/) and its reference (src/reference/).
 */
export interface OptimizerDefinition<H extends object = object> {
  readonly name: string;
  readonly family: KernelFamily;
  /** PyTorch's defaults; options in `required` have no default and must be given. */
  readonly defaults: Readonly<H>;
  readonly required: readonly (keyof H & string)[];
  /** Options that choose the kernel variant: equal in every group, fixed at creation. */
  readonly structural: readonly (keyof H & string)[];
  /** Throws a clear error for a bad value (checks one group's complete options). */
  validate(options: H): void;
  /** Kernel flags for these groups (MULTI_GROUP is added by the engine). */
  defines(groups: readonly H[]): Record<string, boolean>;
  /** State buffers of a kernel variant, in binding order. */
  slots(defines: KernelDefines): readonly SlotSpec[];
  /** The slots that a tensor of this group has in PyTorch (e.g. no momentum_buffer at momentum 0). */
  groupSlots(options: H, defines: KernelDefines): readonly string[];
  /** Value a state slot starts with. */
  initialValue(slot: string, options: H): number;
  /** Field names of the family's WGSL `struct Hyper`, in order. */
  readonly scalarNames: readonly string[];
  /**
   * The per-step scalars of one group in float64 (rounded to f32 once, by the caller), `step` ≥ 1.
   * With `deviceStep`, the fields that depend on the step hold their step-free base instead (e.g.
   * −lr for Adam's step size): the kernel combines them with `stepTable` entries of the step the
   * GPU actually counts (skipped steps do not count).
   */
  scalars(options: H, step: number, deviceStep?: boolean): number[];
  /** The two step-dependent scalars of step `step` (float64, rounded once to f32 by the caller). */
  stepTable(options: H, step: number): [number, number];
  /** Puts a step-table entry into the scalars exactly as the kernel does under GRAD_CONTROL (f32). */
  applyStepTable(scalars: Float32Array, entry: readonly [number, number]): void;
  readonly reference: ReferenceUpdate;
}
