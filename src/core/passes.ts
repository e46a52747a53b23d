/**
 * The pass contract: what an optimizer's step needs besides its element-wise `update`, declared as
 * data on its definition (`passes`). The engine builds every declared pass once, at creation, and
 * records them in order, in the step's one compute pass, before the update; a step creates nothing
 * and reads nothing back. A pass module (src/passes/) is one declaration: its flags and bindings
 * (what the update kernel's WGSL sees), its checks against the device's limits, and `create`, which
 * makes its buffers and pipelines and returns what it records.
 *
 * The engine's own step work is built the same way: gradient control (its statistics passes before
 * the step's compute pass) and gradient accumulation (its clear after) are StepPass instances made
 * from the training options, recorded by the same loop; state buffers and 8-bit state hand the
 * update kernel their binding resources by name as passes do, merged; nothing is switched on a name.
 */
import type { CompactLayout } from './compact-layout.js';
import type { BindingEntry } from './binding-list.js';
import type { PackedLayout } from './layout.js';

/**
 * One binding of a kernel (src/core/binding-list.ts): its name, the WGSL declaration (without
 * `@group @binding`, e.g. `var<storage, read> chunkTensor: array<vec4<u32>>`) and the buffer type.
 */
export type BindingSpec = BindingEntry;

/** Binding resources by binding name, for segment `s` of the packed buffers. */
export type SegmentResources = Readonly<Record<string, (segment: number) => GPUBufferBinding>>;

/** The update kernel's bind group of segment `s`, with its dynamic offsets. */
export type KernelBindGroup = (segment: number) => [GPUBindGroup, number[]];

/** A workgroup that covers a tile of 8-bit state: `lanes` invocations of `laneVectors` vec4s each. */
export interface Tile {
  readonly lanes: number;
  readonly laneVectors: number;
  /** Elements per tile (lanes × laneVectors × 4). */
  readonly elements: number;
}

/** What a pass gets to build itself, once, when the optimizer is created. */
export interface PassContext {
  readonly device: GPUDevice;
  /** The optimizer's label: every GPU object a pass makes is labelled `${label}:…`. */
  readonly label: string;
  readonly layout: PackedLayout;
  /** Group index of each tensor. */
  readonly tensorGroup: readonly number[];
  /** Each group's resolved options (structural ones, equal in every group, size a pass: Muon's nsSteps). */
  readonly groups: readonly Readonly<Record<string, unknown>>[];
  /** Invocations per workgroup of the element-wise entry points (the parameter set's). */
  readonly workgroupSize: number;
  /** How the parameter set sums each chunk (a key of CHUNK_REDUCTIONS, src/passes/tensor-reduction.ts). */
  readonly chunkReduction: string;
  /**
   * 8-bit state stored by a pass's entry points (LAMB's moments in its partials): those entry points
   * then run by these tiles (they quantize whole blocks); undefined otherwise.
   */
  readonly blockwise: Tile | undefined;
  /**
   * The packing of the kernel's compact slots (`SlotSpec.compact`), for the pass that defines
   * `compactSlotIndex` (flag COMPACT_SLOT_INDEX); undefined when there are none.
   */
  readonly compactSlots?: CompactLayout;
  /**
   * A pipeline of the update kernel's own module at `entryPoint`, with the update's bindings (so it
   * records with the update's bind groups); `tile` for a blockwise entry point.
   */
  kernelPipeline(entryPoint: string, tile?: Tile): GPUComputePipeline;
  /**
   * The per-tensor build of a `perTensor` pass (the per-tensor kernel's, with PER_TENSOR): the same
   * pass as built for the plain kernel, whose state buffers it shares (a pass that keeps state
   * across steps, Adafactor's factors, binds the plain build's and makes only what differs).
   * Undefined for the plain build.
   */
  readonly plain?: StepPass;
}

/** State a pass keeps beyond the per-element slots (Adafactor's factors), for state dicts. */
export interface PassState {
  /** Bytes of optimizer state it holds on the GPU (scratch excluded). */
  readonly byteLength: number;
  /** The slots it holds (tensor i's PyTorch state names). */
  holds(slot: string): boolean;
  /** Reads them back; the result gives tensor i's slot. */
  read(): Promise<(tensorIndex: number, slot: string) => Float32Array>;
  /** Writes each tensor's slots (`values(i, slot)`, undefined: 0). */
  write(values: (tensorIndex: number, slot: string) => Float32Array | undefined): void;
}

/** A built pass: what it binds for the update kernel and what it records each step. */
export interface StepPass {
  /** Resources of the bindings it declared, by name. */
  readonly resources: SegmentResources;
  /** Its dispatches, recorded into the step's compute pass before the update. */
  record?(pass: GPUComputePassEncoder, kernelBindGroup: KernelBindGroup): void;
  /**
   * Work of its own recorded into the encoder before the step's compute pass, for host update
   * `update` (gradient control: its statistics passes and the step probe's copy); `slot`: the
   * step's ring slot of scalars (the per-tensor step's statistics read each tensor's presence there).
   */
  recordBefore?(encoder: GPUCommandEncoder, update: number, slot: { readonly buffer: GPUBuffer; readonly offset: number }): void;
  /** Work recorded into the encoder after the step's compute pass (the accumulator's clear). */
  recordAfter?(encoder: GPUCommandEncoder): void;
  readonly state?: PassState;
  /** Bytes of every GPU buffer it holds now (what `Optimizer.allocatedBytes` adds up). */
  readonly allocatedBytes: number;
  /** The whole-set scalar words a pass keeps (the definition's `setState`: Prodigy's d…), for state dicts. */
  readonly setWords?: { read(): Promise<Float32Array>; write(words: Float32Array): void };
  destroy(): void;
}

/** A pass as an optimizer definition declares it. */
export interface PassDeclaration {
  readonly name: string;
  /** Kernel flags it turns on (`#if NAME` in the WGSL of the update module). */
  readonly flags: Readonly<Record<string, boolean>>;
  /** Bindings it adds to the update kernel, in order. */
  readonly bindings: readonly BindingSpec[];
  /**
   * Shared WGSL the update module includes for it (helpers and entry points), if any. `subgroups`:
   * the device has the `subgroups` feature and the pass declares `subgroups` (the module then
   * enables the extension): its WGSL may use subgroup built-ins.
   */
  readonly wgsl?: (context: { readonly blockwise: boolean; readonly perTensor: boolean; readonly subgroups: boolean }) => string;
  /** The pass has a subgroup variant of its WGSL, chosen where the device has the `subgroups` feature. */
  readonly subgroups?: boolean;
  /**
   * Refuses, before the optimizer allocates anything, a set the device cannot hold (sizes against
   * its limits, from the shapes alone, and the groups' options where `config` gives them); `what` names the call.
   */
  check?(what: string, layout: PackedLayout, limits: GPUSupportedLimits, config?: { readonly groups: readonly object[]; readonly tensorGroup: readonly number[] }): void;
  create(context: PassContext): StepPass;
  /**
   * PyTorch's step rule (a tensor without gradient left untouched): the pass can be built a second
   * time for the per-tensor kernel (it keeps nothing across steps: its buffers are scratch; or it
   * shares the state of its plain build, `PassContext.plain`), and its
   * WGSL, under PER_TENSOR, reads each tensor's own `Hyper` row and skips a tensor whose row has
   * `gradientAbsent` (it writes none of that tensor's state, and the update uses none of its sums).
   * Without it, an optimizer whose step runs the pass refuses such a step, naming the pass.
   */
  readonly perTensor?: boolean;
  /**
   * Gradient control on the per-tensor step: its per-tensor WGSL reads the controlled gradient
   * (unscaled, clipped by its group's coefficient), as the plain build does. Without it, a step with
   * gradient control and a tensor without gradient is refused, naming the pass.
   */
  readonly perTensorControl?: boolean;
}
