/**
 * The GPU side of the training features: the control block (control-block.ts), the gradient
 * statistics passes (shaders/grad-stats.wgsl) and the step table of step-dependent scalars
 * indexed by the device step counter. Everything stays on the GPU. The host learns the device
 * step through reads the user asks for (stateDict, readControl…) and through a small asynchronous
 * probe now and then (a 24-byte copy, mapped when the GPU is done, never awaited on the step
 * path), which keeps the step table's window short.
 */
import { CHUNK_ELEMENTS, dispatchGrid, type PackedLayout } from '../core/layout.js';
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
import { getGradStatsPipeline } from './grad-stats-pipelines.js';
import { createStepTable } from './step-table.js';

/** Words the probe copies: stepLo, stepHi, callsLo, callsHi, tableMiss (and padding). */
const PROBE_WORDS = 6;
/** Chunks one groupStats invocation sums. */
const CHUNKS_PER_INVOCATION = 16;
/** Sets of one segment and at most this many 64-element chunks take the one-pass statistics. */
const SMALL_SET_CHUNKS = 1024;

const pow2Within = (n: number, min: number, max: number) => Math.min(max, Math.max(min, 2 ** Math.ceil(Math.log2(Math.max(1, n)))));

/** Records the statistics passes; `tableBindGroup` is rebuilt when the step table is replaced. */
interface StatsPasses {
  record(pass: GPUComputePassEncoder): void;
  /** The bind group that holds the step table changes with it. */
  setTable(table: GPUBuffer): void;
  destroy(): void;
}

interface StatsArgs {
  device: GPUDevice;
  label: string;
  layout: PackedLayout;
  groups: number;
  control: GPUBuffer;
  source: GPUBuffer;
  chunkTable?: GPUBuffer;
}

/** One workgroup reads the whole (small) set, reduces per group and finishes the control block. */
function smallStatsPasses({ device, label, layout, groups, control, source, chunkTable }: StatsArgs): StatsPasses {
  const pipeline = getGradStatsPipeline(device, groups, 'smallStats', pow2Within(layout.paddedLength / 4, 1, 256));
  let bindGroup: GPUBindGroup;
  return {
    setTable(table) {
      bindGroup = device.createBindGroup({
        label: `${label}:smallStats`,
        layout: pipeline.bindGroupLayout,
        entries: pipeline.entries({
          control: { buffer: control },
          grad: { buffer: source, size: layout.paddedLength * 4 },
          allChunkGroups: chunkTable && { buffer: chunkTable, size: (layout.paddedLength / CHUNK_ELEMENTS) * 4 },
          stepTable: { buffer: table },
        }),
      });
    },
    record(pass) {
      pass.setPipeline(pipeline.pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(1);
    },
    destroy() {},
  };
}

/** Chunk partials per segment, then group partials, then one finalize workgroup: any size of set. */
function treeStatsPasses({ device, label, layout, groups: G, control, source, chunkTable }: StatsArgs): StatsPasses {
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const chunks = layout.paddedLength / CHUNK_ELEMENTS;
  // Each pass as wide as its data needs, up to 256 (SwiftShader pays per invocation at every barrier).
  const chunkSize = pow2Within(Math.max(...layout.segments.map((s) => s.elementCount)) / 4, 16, 256);
  const groupSize = pow2Within(Math.ceil(chunks / CHUNKS_PER_INVOCATION), 1, 256);
  const groupWorkgroups = Math.ceil(chunks / (groupSize * CHUNKS_PER_INVOCATION));
  if (groupWorkgroups > maxDim) throw new RangeError(`webgpu-optim: too many elements for the gradient statistics (${chunks} chunks)`);
  const chunkStats = getGradStatsPipeline(device, G, 'chunkStats', chunkSize);
  const groupStats = getGradStatsPipeline(device, G, 'groupStats', groupSize);
  const finalize = getGradStatsPipeline(device, G, 'finalize', pow2Within(groupWorkgroups, 1, 256));
  const chunkPartials = device.createBuffer({ label: `${label}:chunkStats`, size: chunks * 16, usage: GPUBufferUsage.STORAGE });
  const groupPartials = device.createBuffer({ label: `${label}:groupStats`, size: groupWorkgroups * G * 16, usage: GPUBufferUsage.STORAGE });
  const segments = layout.segments.map((segment, s) => {
    const [x, y] = dispatchGrid(Math.ceil(segment.elementCount / 4 / chunkSize), maxDim, 'a segment of the gradient statistics (lower workgroupSize)');
    const bindGroup = device.createBindGroup({
      label: `${label}:chunkStats:segment${s}`,
      layout: chunkStats.bindGroupLayout,
      entries: chunkStats.entries({
        control: { buffer: control },
        grad: { buffer: source, offset: segment.firstElement * 4, size: segment.elementCount * 4 },
        chunkPartials: { buffer: chunkPartials, offset: (segment.firstElement / CHUNK_ELEMENTS) * 16, size: (segment.elementCount / CHUNK_ELEMENTS) * 16 },
      }),
    });
    return { bindGroup, x, y };
  });
  const groupBindGroup = device.createBindGroup({
    label: `${label}:groupStats`,
    layout: groupStats.bindGroupLayout,
    entries: groupStats.entries({
      allChunkPartials: { buffer: chunkPartials },
      allChunkGroups: chunkTable && { buffer: chunkTable, size: chunks * 4 },
      groupPartials: { buffer: groupPartials },
    }),
  });
  let finalizeBindGroup: GPUBindGroup;
  return {
    setTable(table) {
      finalizeBindGroup = device.createBindGroup({
        label: `${label}:finalize`,
        layout: finalize.bindGroupLayout,
        entries: finalize.entries({ control: { buffer: control }, groupPartials: { buffer: groupPartials }, stepTable: { buffer: table } }),
      });
    },
    record(pass) {
      pass.setPipeline(chunkStats.pipeline);
      for (const { bindGroup, x, y } of segments) {
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(x, y);
      }
      pass.setPipeline(groupStats.pipeline);
      pass.setBindGroup(0, groupBindGroup);
      pass.dispatchWorkgroups(groupWorkgroups);
      pass.setPipeline(finalize.pipeline);
      pass.setBindGroup(0, finalizeBindGroup);
      pass.dispatchWorkgroups(1);
    },
    destroy() {
      chunkPartials.destroy();
      groupPartials.destroy();
    },
  };
}

export interface GradientControl {
  readonly buffer: GPUBuffer;
  /** Steps the step table's window spans now (for tests and diagnostics). */
  readonly tableWindow: number;
  /** Before recording host update `update`: the step table covers every step it can reach. */
  prepare(update: number): void;
  /** Records the statistics and finalize passes over the gradients (`source` given at creation). */
  record(encoder: GPUCommandEncoder): void;
  /** Hyperparameters changed: rewrites the step table's rows. */
  refresh(groups: readonly object[]): void;
  read(): Promise<ControlSnapshot>;
  /** Restores the device counts and scaler state (loadStateDict). */
  restore(state: { step: number; calls: number; lossScale?: number; growthTracker?: number }): void;
  destroy(): void;
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
  const init = initialControlWords(training, G);
  const buffer = device.createBuffer({ label: `${label}:control`, size: init.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, init);
  const probe = device.createBuffer({ label: `${label}:stepProbe`, size: PROBE_WORDS * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const small = layout.segments.length === 1 && layout.paddedLength / CHUNK_ELEMENTS <= SMALL_SET_CHUNKS;
  const statsArgs = { device, label, layout, groups: G, control: buffer, source: args.source, chunkTable };
  const passes = small ? smallStatsPasses(statsArgs) : treeStatsPasses(statsArgs);
  const table = createStepTable({ device, label, definition: args.definition, groups: args.groups });
  passes.setTable(table.buffer);

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
  let probing = false;
  const startProbe = () => {
    probing = true;
    const seen = generation;
    const encoder = device.createCommandEncoder({ label: `${label}:stepProbe` });
    encoder.copyBufferToBuffer(buffer, CONTROL_WORD.stepLo * 4, probe, 0, PROBE_WORDS * 4);
    device.queue.submit([encoder.finish()]);
    probe.mapAsync(GPUMapMode.READ).then(
      () => {
        const words = new Uint32Array(probe.getMappedRange().slice(0));
        probe.unmap();
        probing = false;
        observe(words, seen);
      },
      () => {
        probing = false; // destroyed or device lost: the owner reports that on its next call
      },
    );
  };

  return {
    buffer,
    get tableWindow() {
      return table.window;
    },
    prepare(update) {
      if (table.prepare(update)) passes.setTable(table.buffer);
      if (!probing && table.window > table.rows / 4) startProbe();
    },
    record(encoder) {
      const pass = encoder.beginComputePass({ label: `${label}:gradStats` });
      passes.record(pass);
      pass.end();
    },
    refresh: (groups) => table.refresh(groups),
    async read() {
      const seen = generation;
      const [data] = await readBuffers(device, [{ buffer, byteLength: (CONTROL_HEADER_WORDS + CONTROL_GROUP_WORDS * G) * 4 }], `${label}:control`);
      const words = new Uint32Array(data!.buffer, CONTROL_WORD.stepLo * 4, PROBE_WORDS);
      observe(words, seen);
      const { tableMiss: _tableMiss, ...snapshot } = decodeControl(data!, G);
      return snapshot;
    },
    restore({ step, calls, lossScale, growthTracker }) {
      generation++;
      table.reset(step, calls);
      const words = new Uint32Array([...splitCount(step), ...splitCount(calls)]);
      device.queue.writeBuffer(buffer, CONTROL_WORD.stepLo * 4, words);
      device.queue.writeBuffer(buffer, CONTROL_WORD.tableMiss * 4, Uint32Array.of(0));
      if (lossScale !== undefined) device.queue.writeBuffer(buffer, CONTROL_WORD.lossScale * 4, Float32Array.of(lossScale));
      if (growthTracker !== undefined) device.queue.writeBuffer(buffer, CONTROL_WORD.growthTracker * 4, Uint32Array.of(growthTracker));
    },
    destroy() {
      buffer.destroy();
      probe.destroy();
      passes.destroy();
      table.destroy();
    },
  };
}
