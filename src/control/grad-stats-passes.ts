/**
 * The gradient statistics passes (shaders/grad-stats.wgsl) over one packed gradient buffer: either
 * one workgroup over a small set, or a tree (chunk partials per segment, group partials, one
 * finalize workgroup) over any size of set. Both end by finishing the control block.
 */
import { CHUNK_ELEMENTS, dispatchGrid, type PackedLayout } from '../core/layout.js';
import { getGradStatsPipeline, type PresenceRows, type StatsBindingName, type StatsPipeline } from './grad-stats-pipelines.js';

/** Chunks one groupStats invocation sums. */
const CHUNKS_PER_INVOCATION = 16;
/** Sets of one segment and at most this many 64-element chunks take the one-pass statistics. */
const SMALL_SET_CHUNKS = 1024;

const pow2Within = (n: number, min: number, max: number) => Math.min(max, Math.max(min, 2 ** Math.ceil(Math.log2(Math.max(1, n)))));

/** The per-tensor step's ring slot of one recorded step (its `Hyper` rows, gradientAbsent among them). */
export interface RingSlot {
  readonly buffer: GPUBuffer;
  readonly offset: number;
}

/**
 * The per-tensor step's statistics: the same passes, but a tensor without gradient this step adds
 * nothing (read from the step's ring slot), into the same partials and control block.
 */
export interface PerTensorStats {
  /** Makes the bind groups that read ring buffer `ring` (`slotBytes` a slot): when the ring is made or grows. */
  addRing(ring: GPUBuffer, slotBytes: number): void;
  record(pass: GPUComputePassEncoder, slot: RingSlot): void;
}

/** What the per-tensor statistics read: each chunk's tensor, and where a row keeps gradientAbsent. */
export interface PerTensorStatsArgs {
  readonly chunkRow: GPUBuffer;
  readonly rows: PresenceRows;
  /** With non-finite skipping: each tensor's missed steps (u32), counted after finalize (tensorMisses). */
  readonly missed?: GPUBuffer;
}

/** Records the statistics passes; the bind group that holds the step table is rebuilt when the table is replaced. */
export interface StatsPasses {
  record(pass: GPUComputePassEncoder): void;
  /** The bind group that holds the step table changes with it. */
  setTable(table: GPUBuffer): void;
  /** The per-tensor step's variant (made with the per-tensor step, at zeroGrad: never per step). */
  perTensor(args: PerTensorStatsArgs): PerTensorStats;
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

/**
 * Per-tensor bind groups by ring buffer, made again only when what else they hold (the step table)
 * was replaced since: at a ring's growth and the table's, as the plain passes' are.
 */
function ringBindGroups<T>(make: (ring: GPUBuffer, slotBytes: number) => T, version: () => unknown) {
  const made = new Map<GPUBuffer, { version: unknown; slotBytes: number; value: T }>();
  return {
    add(ring: GPUBuffer, slotBytes: number) {
      made.set(ring, { version: version(), slotBytes, value: make(ring, slotBytes) });
    },
    get(ring: GPUBuffer): T {
      const entry = made.get(ring);
      if (!entry) throw new Error('webgpu-optim: the per-tensor statistics have no bind group for this ring (an engine bug)');
      if (entry.version !== version()) this.add(ring, entry.slotBytes);
      return made.get(ring)!.value;
    },
  };
}

/** The per-tensor step's presence bindings: the segment's range of the chunk → tensor table (all of it: the whole set) and the ring slot. */
function presenceResources(chunkRow: GPUBuffer, ring: GPUBuffer, slotBytes: number, segment?: { firstElement: number; elementCount: number }): StatsResources {
  const rows = segment ? { buffer: chunkRow, offset: (segment.firstElement / CHUNK_ELEMENTS) * 4, size: (segment.elementCount / CHUNK_ELEMENTS) * 4 } : { buffer: chunkRow };
  return { chunkRow: rows, presence: { buffer: ring, offset: 0, size: slotBytes } };
}

/** The small set's one-pass statistics, else the tree. */
export function createStatsPasses(args: StatsArgs): StatsPasses {
  const { layout } = args;
  const small = layout.segments.length === 1 && layout.paddedLength / CHUNK_ELEMENTS <= SMALL_SET_CHUNKS;
  const passes = small ? smallStatsPasses(args) : treeStatsPasses(args);
  return { ...passes, perTensor: (perTensorArgs) => withMisses(args, perTensorArgs, passes.perTensor(perTensorArgs)) };
}

/** The per-tensor statistics, then (with non-finite skipping) one workgroup counting each absent tensor's missed step. */
function withMisses({ device, label, groups, control }: StatsArgs, { rows, missed }: PerTensorStatsArgs, stats: PerTensorStats): PerTensorStats {
  if (!missed) return stats;
  const pipeline = getGradStatsPipeline(device, groups, 'tensorMisses', 64, rows);
  const bindGroups = ringBindGroups(
    (ring, slotBytes) => statsBindGroup(device, `${label}:tensorMisses`, pipeline, { control: { buffer: control }, presence: { buffer: ring, offset: 0, size: slotBytes }, tensorMissed: { buffer: missed } }),
    () => undefined,
  );
  return {
    addRing(ring, slotBytes) {
      stats.addRing(ring, slotBytes);
      bindGroups.add(ring, slotBytes);
    },
    record(pass, slot) {
      stats.record(pass, slot);
      pass.setPipeline(pipeline.pipeline);
      pass.setBindGroup(0, bindGroups.get(slot.buffer), [slot.offset]);
      pass.dispatchWorkgroups(1);
    },
  };
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
  let table: GPUBuffer;
  return {
    setTable(next) {
      table = next;
      bindGroup = statsBindGroup(device, `${label}:smallStats`, pipeline, { ...resources, stepTable: { buffer: table } });
    },
    record(pass) {
      pass.setPipeline(pipeline.pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(1);
    },
    perTensor({ chunkRow, rows }) {
      const variant = getGradStatsPipeline(device, groups, 'smallStats', pow2Within(layout.paddedLength / 4, 1, 256), rows);
      const bindGroups = ringBindGroups(
        (ring, slotBytes) => statsBindGroup(device, `${label}:smallStats:perTensor`, variant, { ...resources, stepTable: { buffer: table }, ...presenceResources(chunkRow, ring, slotBytes) }),
        () => table,
      );
      return {
        addRing: bindGroups.add,
        record(pass, slot) {
          pass.setPipeline(variant.pipeline);
          pass.setBindGroup(0, bindGroups.get(slot.buffer), [slot.offset]);
          pass.dispatchWorkgroups(1);
        },
      };
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
  /** The per-tensor variant's bindings of segment s. */
  presence?: (segment: { firstElement: number; elementCount: number }) => StatsResources,
) {
  return layout.segments.map((segment, s) => {
    const [x, y] = dispatchGrid(Math.ceil(segment.elementCount / 4 / chunkSize), device.limits.maxComputeWorkgroupsPerDimension, 'a segment of the gradient statistics (lower workgroupSize)');
    const bindGroup = statsBindGroup(device, `${label}:chunkStats:segment${s}${presence ? ':perTensor' : ''}`, pipeline, {
      control: { buffer: control },
      grad: { buffer: source, offset: segment.firstElement * 4, size: segment.elementCount * 4 },
      // One vec4 of partials (16 bytes) per 64-element chunk.
      chunkPartials: { buffer: chunkPartials, offset: (segment.firstElement / CHUNK_ELEMENTS) * 16, size: (segment.elementCount / CHUNK_ELEMENTS) * 16 },
      ...presence?.(segment),
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
  // The group partials and the finalize pass, after either variant's chunk partials.
  const recordRest = (pass: GPUComputePassEncoder) => {
    pass.setPipeline(groupStats.pipeline);
    pass.setBindGroup(0, groupBindGroup);
    pass.dispatchWorkgroups(groupWorkgroups);
    pass.setPipeline(finalize.pipeline);
    pass.setBindGroup(0, finalizeBindGroup);
    pass.dispatchWorkgroups(1);
  };
  return {
    setTable(table) {
      finalizeBindGroup = statsBindGroup(device, `${label}:finalize`, finalize, {
        control: { buffer: control },
        groupPartials: { buffer: groupPartials },
        stepTable: { buffer: table },
      });
    },
    perTensor({ chunkRow, rows }) {
      // Its chunk partials hold 0 for a tensor without gradient; the rest is the plain passes'.
      const variant = getGradStatsPipeline(device, G, 'chunkStats', chunkSize, rows);
      const bindGroups = ringBindGroups(
        (ring, slotBytes) => chunkStatsSegments(args, variant, chunkPartials, chunkSize, (segment) => presenceResources(chunkRow, ring, slotBytes, segment)),
        () => undefined,
      );
      return {
        addRing: bindGroups.add,
        record(pass, slot) {
          pass.setPipeline(variant.pipeline);
          for (const { bindGroup, x, y } of bindGroups.get(slot.buffer)) {
            pass.setBindGroup(0, bindGroup, [slot.offset]);
            pass.dispatchWorkgroups(x, y);
          }
          recordRest(pass);
        },
      };
    },
    record(pass) {
      pass.setPipeline(chunkStats.pipeline);
      for (const { bindGroup, x, y } of segments) {
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(x, y);
      }
      recordRest(pass);
    },
    allocatedBytes: chunkPartials.size + groupPartials.size,
    destroy() {
      chunkPartials.destroy();
      groupPartials.destroy();
    },
  };
}
