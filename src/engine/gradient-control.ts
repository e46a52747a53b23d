/**
 * The GPU side of the training features: the control block (control-block.ts), the gradient
 * statistics passes (src/kernels/grad-stats.wgsl) and the step table of step-dependent scalars
 * indexed by the device step counter. Everything stays on the GPU. The host learns the device
 * step through reads the user asks for (stateDict, readControl…) and through a small asynchronous
 * probe now and then (a 24-byte copy, mapped when the GPU is done, never awaited on the step
 * path), which keeps the step table's window short.
 */
import { CHUNK_ELEMENTS, type PackedLayout } from '../layout.js';
import type { OptimizerDefinition } from '../optimizers/definition.js';
import { readBuffers } from '../readback.js';
import type { ResolvedTraining } from '../training.js';
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
import { getGradStatsPipelines, type StatsWorkgroups } from './pipelines.js';
import { createStepTable } from './step-table.js';

/** Chunks one groupStats invocation sums. */
const CHUNKS_PER_INVOCATION = 16;

const pow2Within = (n: number, min: number, max: number) => Math.min(max, Math.max(min, 2 ** Math.ceil(Math.log2(Math.max(1, n)))));

/** Each statistics pass as wide as its data needs, up to 256 (SwiftShader pays per invocation at every barrier). */
function statsWorkgroups(layout: PackedLayout): StatsWorkgroups & { groupWorkgroups: number } {
  const largestSegment = Math.max(...layout.segments.map((s) => s.elementCount));
  const chunks = layout.paddedLength / CHUNK_ELEMENTS;
  const group = pow2Within(Math.ceil(chunks / CHUNKS_PER_INVOCATION), 1, 256);
  const groupWorkgroups = Math.ceil(chunks / (group * CHUNKS_PER_INVOCATION));
  return { chunk: pow2Within(largestSegment / 4, 16, 256), group, final: pow2Within(groupWorkgroups, 1, 256), groupWorkgroups };
}
/** Words the probe copies: stepLo, stepHi, callsLo, callsHi, tableMiss (and padding). */
const PROBE_WORDS = 6;

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
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const sizes = statsWorkgroups(layout);
  const pipelines = getGradStatsPipelines(device, G, sizes);

  const init = initialControlWords(training, G);
  const buffer = device.createBuffer({ label: `${label}:control`, size: init.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, init);

  const chunks = layout.paddedLength / CHUNK_ELEMENTS;
  const chunkPartials = device.createBuffer({ label: `${label}:chunkStats`, size: chunks * 16, usage: GPUBufferUsage.STORAGE });
  const groupStatsWorkgroups = sizes.groupWorkgroups;
  if (groupStatsWorkgroups > maxDim) throw new RangeError(`webgpu-optim: too many elements for the gradient statistics (${chunks} chunks)`);
  const groupPartials = device.createBuffer({ label: `${label}:groupStats`, size: groupStatsWorkgroups * G * 16, usage: GPUBufferUsage.STORAGE });
  const probe = device.createBuffer({ label: `${label}:stepProbe`, size: PROBE_WORDS * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });

  // Chunk statistics: one dispatch per segment, like the update.
  const segmentGeometry = layout.segments.map((segment) => {
    const workgroups = Math.ceil(segment.elementCount / 4 / sizes.chunk);
    const x = Math.min(workgroups, maxDim);
    const y = Math.ceil(workgroups / x);
    if (y > maxDim) throw new RangeError('webgpu-optim: a segment is too large for the gradient statistics dispatch; lower workgroupSize');
    return { x, y };
  });
  const chunkBindGroups = layout.segments.map((segment, s) =>
    device.createBindGroup({
      label: `${label}:chunkStats:segment${s}`,
      layout: pipelines.chunkStats.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer } },
        { binding: 1, resource: { buffer: args.source, offset: segment.firstElement * 4, size: segment.elementCount * 4 } },
        { binding: 2, resource: { buffer: chunkPartials, offset: (segment.firstElement / CHUNK_ELEMENTS) * 16, size: (segment.elementCount / CHUNK_ELEMENTS) * 16 } },
      ],
    }),
  );
  const groupBindGroup = device.createBindGroup({
    label: `${label}:groupStats`,
    layout: pipelines.groupStats.getBindGroupLayout(0),
    entries: [
      { binding: 4, resource: { buffer: chunkPartials } },
      ...(chunkTable ? [{ binding: 5, resource: { buffer: chunkTable, size: chunks * 4 } }] : []),
      { binding: 6, resource: { buffer: groupPartials } },
    ],
  });

  const table = createStepTable({ device, label, definition: args.definition, groups: args.groups });
  const makeFinalizeBindGroup = () =>
    device.createBindGroup({
      label: `${label}:finalize`,
      layout: pipelines.finalize.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer } },
        { binding: 6, resource: { buffer: groupPartials } },
        { binding: 7, resource: { buffer: table.buffer } },
      ],
    });
  let finalizeBindGroup = makeFinalizeBindGroup();

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
      if (table.prepare(update)) finalizeBindGroup = makeFinalizeBindGroup();
      if (!probing && table.window > table.rows / 4) startProbe();
    },
    record(encoder) {
      const pass = encoder.beginComputePass({ label: `${label}:gradStats` });
      pass.setPipeline(pipelines.chunkStats);
      chunkBindGroups.forEach((bindGroup, s) => {
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(segmentGeometry[s]!.x, segmentGeometry[s]!.y);
      });
      pass.setPipeline(pipelines.groupStats);
      pass.setBindGroup(0, groupBindGroup);
      pass.dispatchWorkgroups(groupStatsWorkgroups);
      pass.setPipeline(pipelines.finalize);
      pass.setBindGroup(0, finalizeBindGroup);
      pass.dispatchWorkgroups(1);
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
      for (const b of [buffer, chunkPartials, groupPartials, probe]) b.destroy();
      table.destroy();
    },
  };
}
