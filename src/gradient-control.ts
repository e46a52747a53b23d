/**
 * The GPU side of the training features: the control block (shaders/control.wgsl), the gradient
 * statistics passes (shaders/grad-stats.wgsl) and the step table of step-dependent scalars
 * indexed by the device step counter. Everything stays on the GPU; reading the norm or the loss
 * scale is a separate, asynchronous call off the step path.
 */
import { stepTableEntries } from './config.js';
import { CHUNK_ELEMENTS, type PackedLayout } from './layout.js';
import type { OptimizerDefinition } from './optimizers/definition.js';
import { readBuffers } from './readback.js';
import { gradStatsSource, type KernelDefines } from './shaders.js';
import { CONTROL_GROUP_WORDS, CONTROL_HEADER_WORDS, controlFlags, type ResolvedTraining } from './training.js';

const STATS_WORKGROUP = 256;
const CHUNKS_PER_GROUP_STATS_WORKGROUP = STATS_WORKGROUP * 16;
const TABLE_BLOCK = 1024;

import type { ControlSnapshot } from './training.js';
export type { ControlSnapshot };

export interface GradientControl {
  readonly buffer: GPUBuffer;
  /** Makes sure the step table covers the device step that step `hostStep` (1-based) can reach. */
  prepareStep(hostStep: number): void;
  /** Records the statistics and finalize passes over the gradients (`source` given at creation). */
  record(encoder: GPUCommandEncoder): void;
  /** Rewrites table entries after a hyperparameter change, from `fromStep` on. */
  refreshTable(groups: readonly object[], fromStep: number): void;
  read(): Promise<ControlSnapshot>;
  /** Restores the device step and scaler state (loadStateDict). */
  writeState(state: { step: number; lossScale?: number; growthTracker?: number }): void;
  destroy(): void;
}

export function createGradientControl(args: {
  device: GPUDevice;
  label: string;
  layout: PackedLayout;
  definition: OptimizerDefinition<any>;
  groups: readonly object[];
  training: ResolvedTraining;
  chunkTable?: GPUBuffer;
  defines: KernelDefines;
  /** The buffer the update reads gradients from (the gradient buffer, or the accumulator). */
  source: GPUBuffer;
}): GradientControl {
  const { device, label, layout, definition, training, chunkTable } = args;
  let groups = args.groups;
  const G = groups.length;
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;

  // Control block: header + per-group entries.
  const words = CONTROL_HEADER_WORDS + CONTROL_GROUP_WORDS * G;
  const buffer = device.createBuffer({
    label: `${label}:control`,
    size: words * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const init = new ArrayBuffer(words * 4);
  const f32 = new Float32Array(init);
  const u32 = new Uint32Array(init);
  f32[2] = training.scaling?.initScale ?? 1;
  f32[6] = 1;
  f32[8] = training.scaling?.growthFactor ?? 2;
  f32[9] = training.scaling?.backoffFactor ?? 0.5;
  u32[10] = training.scaling?.growthInterval ?? 2000;
  u32[11] = controlFlags(training);
  f32[12] = training.average ? 1 / training.accumulationSteps : 1;
  f32[13] = training.maxNorm;
  f32[14] = training.clipValue;
  u32[15] = G;
  for (let g = 0; g < G; g++) f32[CONTROL_HEADER_WORDS + CONTROL_GROUP_WORDS * g] = 1;
  device.queue.writeBuffer(buffer, 0, init);

  const chunks = layout.paddedLength / CHUNK_ELEMENTS;
  const chunkPartials = device.createBuffer({ label: `${label}:chunkStats`, size: chunks * 8, usage: GPUBufferUsage.STORAGE });
  const groupStatsWorkgroups = Math.ceil(chunks / CHUNKS_PER_GROUP_STATS_WORKGROUP);
  if (groupStatsWorkgroups > maxDim) throw new RangeError(`webgpu-optim: too many elements for the gradient statistics (${chunks} chunks)`);
  const groupPartials = device.createBuffer({ label: `${label}:groupStats`, size: groupStatsWorkgroups * G * 8, usage: GPUBufferUsage.STORAGE });

  const module = device.createShaderModule({ label: `${label}:gradStats`, code: gradStatsSource({ MULTI_GROUP: args.defines.MULTI_GROUP === true }) });
  const constants = { WORKGROUP_SIZE: STATS_WORKGROUP, GROUPS: G };
  const pipeline = (entryPoint: string) =>
    device.createComputePipeline({ label: `${label}:${entryPoint}`, layout: 'auto', compute: { module, entryPoint, constants } });
  const chunkStats = pipeline('chunkStats');
  const groupStats = pipeline('groupStats');
  const finalize = pipeline('finalize');

  // Chunk statistics: one dispatch per segment, like the update.
  const segmentGeometry = layout.segments.map((segment) => {
    const workgroups = Math.ceil(segment.elementCount / 4 / STATS_WORKGROUP);
    const x = Math.min(workgroups, maxDim);
    const y = Math.ceil(workgroups / x);
    if (y > maxDim) throw new RangeError('webgpu-optim: a segment is too large for the gradient statistics dispatch; lower workgroupSize');
    return { x, y };
  });
  const chunkBindGroups = layout.segments.map((segment, s) =>
    device.createBindGroup({
      label: `${label}:chunkStats:segment${s}`,
      layout: chunkStats.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer } },
        { binding: 1, resource: { buffer: args.source, offset: segment.firstElement * 4, size: segment.elementCount * 4 } },
        { binding: 2, resource: { buffer: chunkPartials, offset: (segment.firstElement / CHUNK_ELEMENTS) * 8, size: (segment.elementCount / CHUNK_ELEMENTS) * 8 } },
      ],
    }),
  );
  const groupBindGroup = device.createBindGroup({
    label: `${label}:groupStats`,
    layout: groupStats.getBindGroupLayout(0),
    entries: [
      { binding: 4, resource: { buffer: chunkPartials } },
      ...(chunkTable ? [{ binding: 5, resource: { buffer: chunkTable, size: chunks * 4 } }] : []),
      { binding: 6, resource: { buffer: groupPartials } },
    ],
  });

  // Step table: entry s (1-based) of group g at index s·G + g, as vec2<f32>.
  let capacity = 0;
  let written = 0;
  let table: GPUBuffer | undefined;
  const retired: GPUBuffer[] = [];
  let finalizeBindGroup: GPUBindGroup;
  const writeTable = (from: number, to: number) => {
    if (to < from) return;
    const data = new Float32Array((to - from + 1) * G * 2);
    const entry = new Float32Array(G * 2);
    for (let s = from; s <= to; s++) data.set(stepTableEntries(definition, groups as never, s, entry), (s - from) * G * 2);
    device.queue.writeBuffer(table!, from * G * 8, data);
  };
  const grow = (needed: number) => {
    if (table) retired.push(table); // commands already recorded may still read it
    capacity = Math.max(4096, 2 ** Math.ceil(Math.log2(needed + 1)));
    table = device.createBuffer({ label: `${label}:stepTable×${capacity}`, size: (capacity + 1) * G * 8, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    writeTable(1, written);
    finalizeBindGroup = device.createBindGroup({
      label: `${label}:finalize`,
      layout: finalize.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer } },
        { binding: 6, resource: { buffer: groupPartials } },
        { binding: 7, resource: { buffer: table } },
      ],
    });
  };
  const ensure = (step: number) => {
    if (step <= written) return;
    const to = step + TABLE_BLOCK;
    if (to > capacity) grow(to);
    writeTable(written + 1, to);
    written = to;
  };
  ensure(1);

  return {
    buffer,
    prepareStep: ensure,
    record(encoder) {
      const pass = encoder.beginComputePass({ label: `${label}:gradStats` });
      pass.setPipeline(chunkStats);
      chunkBindGroups.forEach((bindGroup, s) => {
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(segmentGeometry[s]!.x, segmentGeometry[s]!.y);
      });
      pass.setPipeline(groupStats);
      pass.setBindGroup(0, groupBindGroup);
      pass.dispatchWorkgroups(groupStatsWorkgroups);
      pass.setPipeline(finalize);
      pass.setBindGroup(0, finalizeBindGroup);
      pass.dispatchWorkgroups(1);
      pass.end();
    },
    refreshTable(nextGroups, fromStep) {
      groups = nextGroups;
      writeTable(Math.max(1, fromStep), written);
    },
    async read() {
      const [data] = await readBuffers(device, [{ buffer, byteLength: words * 4 }], `${label}:control`);
      const u = new Uint32Array(data!.buffer);
      return {
        skipped: u[0] !== 0,
        step: u[1]!,
        lossScale: data![2]!,
        growthTracker: u[3]!,
        totalNorm: data![4]!,
        foundInf: u[5] !== 0,
        groupNorms: Array.from({ length: G }, (_, g) => data![CONTROL_HEADER_WORDS + CONTROL_GROUP_WORDS * g + 1]!),
      };
    },
    writeState({ step, lossScale, growthTracker }) {
      ensure(step + 1);
      device.queue.writeBuffer(buffer, 4, Uint32Array.of(step));
      if (lossScale !== undefined) device.queue.writeBuffer(buffer, 8, Float32Array.of(lossScale));
      if (growthTracker !== undefined) device.queue.writeBuffer(buffer, 12, Uint32Array.of(growthTracker));
      // The step-dependent scalars of the restored step, for a first update that finds them unset.
      const entries = stepTableEntries(definition, groups as never, Math.max(1, step));
      for (let g = 0; g < G; g++) device.queue.writeBuffer(buffer, (CONTROL_HEADER_WORDS + CONTROL_GROUP_WORDS * g + 2) * 4, entries, 2 * g, 2);
    },
    destroy() {
      for (const b of [buffer, chunkPartials, groupPartials, table, ...retired]) b?.destroy();
    },
  };
}
