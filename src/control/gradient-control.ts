/**
 * The GPU side of the training features: the control block (control-block.ts), the gradient
 * statistics passes (grad-stats-passes.ts) and the step table of step-dependent scalars indexed by
 * the device step counter (step-table.ts). Everything stays on the GPU. The host learns the device
 * step through reads the user asks for (stateDict, readControl…) and through the step probe now and
 * then (step-probe.ts: never awaited on the step path), which keeps the step table's window short.
 */
import type { PackedLayout } from '../core/layout.js';
import type { OptimizerDefinition } from '../core/definition.js';
import { readBuffers } from '../core/readback.js';
import type { ResolvedTraining } from './training.js';
import {
  CONTROL_GROUP_WORDS,
  CONTROL_HEADER_WORDS,
  CONTROL_WORD,
  decodeControl,
  initialControlWords,
  joinCount,
  splitCount,
  type ControlSnapshot,
} from './control-block.js';
import { createStatsPasses, type PerTensorStats, type PerTensorStatsArgs, type RingSlot } from './grad-stats-passes.js';
import { createStepProbe, PROBE_WORDS } from './step-probe.js';
import { createStepTable } from './step-table.js';

/** The device counts and scaler state a load restores. */
export interface RestoredControl {
  step: number;
  calls: number;
  lossScale?: number;
  growthTracker?: number;
  /** Each tensor's steps missed (the device step less its own count); undefined: none. */
  tensorMissed?: readonly number[];
}

export interface GradientControl {
  readonly buffer: GPUBuffer;
  /** What the update kernel binds from this module, by the kernel's binding name. */
  readonly bindingResources: { readonly control: GPUBufferBinding };
  /** Steps the step table's window spans now (for tests and diagnostics). */
  readonly tableWindow: number;
  /** Before recording host update `update`: the step table covers every step it can reach. */
  prepare(update: number): void;
  /** Records the statistics and finalize passes over the gradients (`source` given at creation). */
  record(encoder: GPUCommandEncoder): void;
  /**
   * The per-tensor step's statistics (made with it, never per step): the same control block, step
   * table and partials; a tensor whose row in the step's ring slot says gradientAbsent adds nothing.
   */
  perTensor(args: PerTensorStatsArgs): PerTensorControl;
  /** Hyperparameters changed: rewrites the step table's rows. */
  refresh(groups: readonly object[]): void;
  read(): Promise<ControlSnapshot>;
  /**
   * With non-finite skipping: each tensor's device steps taken without it (its own count is the
   * device step less this), as the per-tensor statistics counted them; undefined without skipping.
   */
  readMissed(): Promise<number[] | undefined>;
  /** Restores the device counts and scaler state (loadStateDict). */
  restore(state: RestoredControl): void;
  /** Bytes of every buffer it holds: the control block, the probe, the statistics partials, the step table (grown ones included). */
  readonly allocatedBytes: number;
  destroy(): void;
}

/** The control block, labelled, holding its initial words. */
function createControlBuffer(device: GPUDevice, label: string, training: ResolvedTraining, groups: number): GPUBuffer {
  const init = initialControlWords(training, groups);
  const buffer = device.createBuffer({ label: `${label}:control`, size: init.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, init);
  return buffer;
}

/** Writes a loaded state's counts into the control block (and each tensor's missed steps) and clears its table-miss flag. */
function writeRestoredControl(device: GPUDevice, buffer: GPUBuffer, { step, calls, lossScale, growthTracker, tensorMissed }: RestoredControl, missed: GPUBuffer | undefined): void {
  if (missed) device.queue.writeBuffer(missed, 0, Uint32Array.from(tensorMissed ?? new Array<number>(missed.size / 4).fill(0)));
  const words = new Uint32Array([...splitCount(step), ...splitCount(calls)]);
  device.queue.writeBuffer(buffer, CONTROL_WORD.stepLo * 4, words);
  device.queue.writeBuffer(buffer, CONTROL_WORD.tableMiss * 4, Uint32Array.of(0));
  if (lossScale !== undefined) device.queue.writeBuffer(buffer, CONTROL_WORD.lossScale * 4, Float32Array.of(lossScale));
  if (growthTracker !== undefined) device.queue.writeBuffer(buffer, CONTROL_WORD.growthTracker * 4, Uint32Array.of(growthTracker));
}

/** Gradient control on the per-tensor step: its statistics read each tensor's presence from the step's ring slot. */
export interface PerTensorControl {
  /** Makes the bind groups reading a ring buffer of the per-tensor step (when its ring is made or grows). */
  addRing(ring: GPUBuffer, slotBytes: number): void;
  /** As `prepare(update)` then `record(encoder)`, the statistics leaving out the tensors without gradient. */
  recordBefore(encoder: GPUCommandEncoder, update: number, slot: RingSlot): void;
}

/** Where the device decides whether a step is taken, it counts each tensor's missed steps (u32, 4 bytes a tensor). */
function createMissedCounts(device: GPUDevice, label: string, tensors: number): GPUBuffer {
  return device.createBuffer({ label: `${label}:tensorMissed`, size: tensors * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
}

async function readMissedCounts(device: GPUDevice, label: string, missed: GPUBuffer): Promise<number[]> {
  const [data] = await readBuffers(device, [{ buffer: missed, byteLength: missed.size }], `${label}:tensorMissed`);
  return Array.from(new Uint32Array(data!.buffer, data!.byteOffset, missed.size / 4));
}

/** The per-tensor statistics recorded as the plain ones are: the step table prepared first, in a pass of their own. */
function perTensorControl(label: string, stats: PerTensorStats, prepare: (update: number) => void): PerTensorControl {
  return {
    addRing: stats.addRing,
    recordBefore(encoder, update, slot) {
      prepare(update);
      const pass = encoder.beginComputePass({ label: `${label}:gradStats:perTensor` });
      stats.record(pass, slot);
      pass.end();
    },
  };
}

export function createGradientControl(args: {
  device: GPUDevice;
  label: string;
  layout: PackedLayout;
  definition: OptimizerDefinition<any, any>;
  groups: readonly object[];
  training: ResolvedTraining;
  chunkTable?: GPUBuffer;
  /** The buffer the update reads gradients from (the gradient buffer, or the accumulator). */
  source: GPUBuffer;
  /** Called when the GPU reports a state the host cannot continue from. */
  onFailure: (message: string) => void;
}): GradientControl {
  const { device, label, layout, training, chunkTable, onFailure } = args;
  const G = args.groups.length;
  const buffer = createControlBuffer(device, label, training, G);
  const probe = createStepProbe(device, label, buffer);
  const passes = createStatsPasses({ device, label, layout, groups: G, control: buffer, source: args.source, chunkTable });
  const table = createStepTable({ device, label, definition: args.definition, groups: args.groups });
  passes.setTable(table.buffer);
  const missed = training.skipNonFinite ? createMissedCounts(device, label, layout.tensors.length) : undefined;

  // What the GPU reported, from a probe or a read: only the newest generation counts (a load
  // starts a new one), and a missing step-table row is an engine failure the host must not hide.
  let generation = 0;
  const observe = (words: Uint32Array, seenGeneration: number) => {
    if (seenGeneration !== generation) return;
    const step = joinCount(words[0]!, words[1]!);
    const calls = joinCount(words[2]!, words[3]!);
    table.observe(step, calls);
    if (words[4] !== 0) onFailure(`the step table had no row for device step ${step + 1} (an engine bug; please report it)`);
  };
  const startProbe = () => {
    const seen = generation;
    probe.start((words) => observe(words, seen));
  };
  const gradientControl: GradientControl = {
    buffer,
    bindingResources: { control: { buffer } },
    get tableWindow() {
      return table.window;
    },
    prepare(update) {
      if (table.prepare(update)) passes.setTable(table.buffer);
      if (!probe.busy && table.window > table.rows / 4) startProbe();
    },
    record(encoder) {
      const pass = encoder.beginComputePass({ label: `${label}:gradStats` });
      passes.record(pass);
      pass.end();
    },
    perTensor: (perTensorArgs) => perTensorControl(label, passes.perTensor({ ...perTensorArgs, missed }), (update) => gradientControl.prepare(update)),
    readMissed: async () => missed && readMissedCounts(device, label, missed),
    refresh: (groups) => table.refresh(groups),
    async read() {
      const seen = generation;
      const [data] = await readBuffers(device, [{ buffer, byteLength: (CONTROL_HEADER_WORDS + CONTROL_GROUP_WORDS * G) * 4 }], `${label}:control`);
      const words = new Uint32Array(data!.buffer, CONTROL_WORD.stepLo * 4, PROBE_WORDS);
      observe(words, seen);
      const { tableMiss: _tableMiss, ...snapshot } = decodeControl(data!, G);
      return snapshot;
    },
    restore(state) {
      generation++;
      table.reset(state.step, state.calls);
      writeRestoredControl(device, buffer, state, missed);
    },
    get allocatedBytes() {
      return buffer.size + probe.allocatedBytes + passes.allocatedBytes + table.allocatedBytes + (missed?.size ?? 0);
    },
    destroy() {
      buffer.destroy();
      missed?.destroy();
      probe.destroy();
      passes.destroy();
      table.destroy();
    },
  };
  return gradientControl;
}
