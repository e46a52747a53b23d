/**
 * The gradient statistics passes (shaders/grad-stats.wgsl) over one packed gradient buffer: either
 * one workgroup over a small set, or a tree (chunk partials per segment, group partials, one
 * finalize workgroup) over any size of set. Both end by finishing the control block.
 */
import { CHUNK_ELEMENTS, dispatchGrid, type PackedLayout } from '../core/layout.js';
import { getGradStatsPipeline, type StatsBindingName, type StatsPipeline } from './grad-stats-pipelines.js';

/** Chunks one groupStats invocation sums. */
const CHUNKS_PER_INVOCATION = 16;
/** Sets of one segment and at most this many 64-element chunks take the one-pass statistics. */
const SMALL_SET_CHUNKS = 1024;

const pow2Within = (n: number, min: number, max: number) => Math.min(max, Math.max(min, 2 ** Math.ceil(Math.log2(Math.max(1, n)))));

/** Records the statistics passes; the bind group that holds the step table is rebuilt when the table is replaced. */
export interface StatsPasses {
  record(pass: GPUComputePassEncoder): void;
  /** The bind group that holds the step table changes with it. */
  setTable(table: GPUBuffer): void;
  /** Bytes of its own buffers (the partial sums). */
  readonly allocatedBytes: number;
  destroy(): void;
}

export interface StatsArgs {
  device: GPUDevice;
  label: string;
  layout: PackedLayout;
  groups: number;
  control: GPUBuffer;
  source: GPUBuffer;
  chunkTable?: GPUBuffer;
}

type StatsResources = { readonly [name in StatsBindingName]?: GPUBufferBinding };

/** A bind group of one statistics pass from the resources it reads and writes, by WGSL name (its binding list). */
function statsBindGroup(device: GPUDevice, label: string, pipeline: StatsPipeline, resources: StatsResources): GPUBindGroup {
  return device.createBindGroup({ label, layout: pipeline.bindGroupLayout, entries: pipeline.entries(resources) });
}

/** The group of each 64-element chunk, when the set has several groups. */
const chunkGroups = (chunkTable: GPUBuffer | undefined, chunks: number): StatsResources =>
  chunkTable ? { allChunkGroups: { buffer: chunkTable, size: chunks * 4 } } : {};

/** The small set's one-pass statistics, else the tree. */
export function createStatsPasses(args: StatsArgs): StatsPasses {
  const { layout } = args;
  const small = layout.segments.length === 1 && layout.paddedLength / CHUNK_ELEMENTS <= SMALL_SET_CHUNKS;
  return small ? smallStatsPasses(args) : treeStatsPasses(args);
}

/** One workgroup reads the whole (small) set, reduces per group and finishes the control block. */
function smallStatsPasses({ device, label, layout, groups, control, source, chunkTable }: StatsArgs): StatsPasses {
  const pipeline = getGradStatsPipeline(device, groups, 'smallStats', pow2Within(layout.paddedLength / 4, 1, 256));
  const resources: StatsResources = {
    control: { buffer: control },
    grad: { buffer: source, size: layout.paddedLength * 4 },
    ...chunkGroups(chunkTable, layout.paddedLength / CHUNK_ELEMENTS),
  };
  let bindGroup: GPUBindGroup;
  return {
    setTable(table) {
      bindGroup = statsBindGroup(device, `${label}:smallStats`, pipeline, { ...resources, stepTable: { buffer: table } });
    },
    record(pass) {
      pass.setPipeline(pipeline.pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(1);
    },
    allocatedBytes: 0,
    destroy() {},
  };
}

/** How wide each tree pass runs and how many groupStats workgroups it takes. */
function treeSizes(device: GPUDevice, layout: PackedLayout) {
  const chunks = layout.paddedLength / CHUNK_ELEMENTS;
  // Each pass as wide as its data needs, up to 256 (SwiftShader pays per invocation at every barrier).
  const chunkSize = pow2Within(Math.max(...layout.segments.map((s) => s.elementCount)) / 4, 16, 256);
  const groupSize = pow2Within(Math.ceil(chunks / CHUNKS_PER_INVOCATION), 1, 256);
  const groupWorkgroups = Math.ceil(chunks / (groupSize * CHUNKS_PER_INVOCATION));
  if (groupWorkgroups > device.limits.maxComputeWorkgroupsPerDimension) {
    throw new RangeError(`webgpu-optim: too many elements for the gradient statistics (${chunks} chunks)`);
  }
  return { chunks, chunkSize, groupSize, groupWorkgroups };
}

/** The chunkStats dispatch of each segment: its bind group (its gradients and chunk partials) and grid. */
function chunkStatsSegments(
  { device, label, layout, control, source }: StatsArgs,
  pipeline: StatsPipeline,
  chunkPartials: GPUBuffer,
  chunkSize: number,
) {
  return layout.segments.map((segment, s) => {
    const [x, y] = dispatchGrid(Math.ceil(segment.elementCount / 4 / chunkSize), device.limits.maxComputeWorkgroupsPerDimension, 'a segment of the gradient statistics (lower workgroupSize)');
    const bindGroup = statsBindGroup(device, `${label}:chunkStats:segment${s}`, pipeline, {
      control: { buffer: control },
      grad: { buffer: source, offset: segment.firstElement * 4, size: segment.elementCount * 4 },
      // One vec4 of partials (16 bytes) per 64-element chunk.
      chunkPartials: { buffer: chunkPartials, offset: (segment.firstElement / CHUNK_ELEMENTS) * 16, size: (segment.elementCount / CHUNK_ELEMENTS) * 16 },
    });
    return { bindGroup, x, y };
  });
}

/** Chunk partials per segment, then group partials, then one finalize workgroup: any size of set. */
function treeStatsPasses(args: StatsArgs): StatsPasses {
  const { device, label, layout, groups: G, control, chunkTable } = args;
  const { chunks, chunkSize, groupSize, groupWorkgroups } = treeSizes(device, layout);
  const chunkStats = getGradStatsPipeline(device, G, 'chunkStats', chunkSize);
  const groupStats = getGradStatsPipeline(device, G, 'groupStats', groupSize);
  const finalize = getGradStatsPipeline(device, G, 'finalize', pow2Within(groupWorkgroups, 1, 256));
  const chunkPartials = device.createBuffer({ label: `${label}:chunkStats`, size: chunks * 16, usage: GPUBufferUsage.STORAGE });
  const groupPartials = device.createBuffer({ label: `${label}:groupStats`, size: groupWorkgroups * G * 16, usage: GPUBufferUsage.STORAGE });
  const segments = chunkStatsSegments(args, chunkStats, chunkPartials, chunkSize);
  const groupBindGroup = statsBindGroup(device, `${label}:groupStats`, groupStats, {
    allChunkPartials: { buffer: chunkPartials },
    ...chunkGroups(chunkTable, chunks),
    groupPartials: { buffer: groupPartials },
  });
  let finalizeBindGroup: GPUBindGroup;
  return {
    setTable(table) {
      finalizeBindGroup = statsBindGroup(device, `${label}:finalize`, finalize, {
        control: { buffer: control },
        groupPartials: { buffer: groupPartials },
        stepTable: { buffer: table },
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
    allocatedBytes: chunkPartials.size + groupPartials.size,
    destroy() {
      chunkPartials.destroy();
      groupPartials.destroy();
    },
  };
}
