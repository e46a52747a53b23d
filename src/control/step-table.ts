/**
 * The step table of the training-control path: the step-dependent scalars (bias corrections…) of
 * every step the GPU may take next, computed on the host in float64 and rounded once.
 *
 * The GPU counts the steps it takes (skipped steps do not count), so the host does not know the
 * device step exactly, only a window: at least `lo` (known from the last time the GPU reported its
 * count) and at most `hi = update − skips`, where `skips` is the number of skipped steps the GPU
 * had reported then (skips only grow). The table is a ring of tagged rows indexed by
 * `step mod rows`; it holds every step of the window, so its size depends on how many updates are
 * recorded between two reports, never on the step number. The tag (the step as two u32 words)
 * makes the count exact to 2^53 and lets the GPU detect a missing row instead of using a wrong one.
 */
import type { OptimizerDefinition } from '../core/definition.js';
import { splitCount } from './control-block.js';
import { stepEntries } from '../core/scalars.js';

const INITIAL_ROWS = 1024;

export interface StepTable {
  /** The current table (it is replaced when the window outgrows it). */
  readonly buffer: GPUBuffer;
  readonly rows: number;
  /** Steps the window spans now. */
  readonly window: number;
  /** Before recording host update `update` (1-based): writes the rows it may need. True when `buffer` changed. */
  prepare(update: number): boolean;
  /** The GPU reported its step and the updates it executed (skipped ones included). */
  observe(step: number, calls: number): void;
  /** Hyperparameters changed: rewrites every row a coming update can read. */
  refresh(groups: readonly object[]): void;
  /** loadStateDict: the GPU continues from `step`, having executed `calls` updates. */
  reset(step: number, calls: number): void;
  /** Bytes of its buffers, the retired ones included (recorded commands may still read them: kept until destroy). */
  readonly allocatedBytes: number;
  destroy(): void;
}

/** Rows of the table: one 4-word tag (the step as two u32, then padding), then 4 words per group. */
const rowWordsFor = (groups: number) => 4 * (1 + groups);

/** The rows of steps [start, end], `rowWords` each: tagged with the step, then every group's step entries. */
function encodeRows(definition: OptimizerDefinition<any, any>, groups: readonly object[], rowWords: number, start: number, end: number): ArrayBuffer {
  const data = new ArrayBuffer((end - start + 1) * rowWords * 4);
  const u32 = new Uint32Array(data);
  const f32 = new Float32Array(data);
  for (let t = start; t <= end; t++) {
    const base = (t - start) * rowWords;
    [u32[base], u32[base + 1]] = splitCount(t);
    groups.forEach((options, g) => f32.set(stepEntries(definition, options, t), base + 4 * (1 + g)));
  }
  return data;
}

/** Rows a table needs once its window spans `span` steps: doubled until the window fills at most half. */
function grownRows(rows: number, span: number): number {
  while (span > rows / 2) rows *= 2;
  return rows;
}

export function createStepTable(args: {
  device: GPUDevice;
  label: string;
  definition: OptimizerDefinition<any, any>;
  groups: readonly object[];
}): StepTable {
  const { device, label, definition } = args;
  let groups = args.groups;
  const rowWords = rowWordsFor(groups.length);
  let rows = INITIAL_ROWS;
  let lo = 1; // lowest step the GPU can still ask for
  let skips = 0; // skipped steps the GPU has reported
  let top = 0; // highest step written
  const retired: GPUBuffer[] = [];
  const makeBuffer = () =>
    device.createBuffer({ label: `${label}:stepTable×${rows}`, size: rows * rowWords * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  let buffer = makeBuffer();

  /** Writes the rows of steps [from, to] (to − from < rows), in at most two contiguous writes. */
  const writeRows = (from: number, to: number) => {
    for (let start = from; start <= to; ) {
      const slot = start % rows;
      const end = Math.min(to, start + (rows - slot) - 1);
      device.queue.writeBuffer(buffer, slot * rowWords * 4, encodeRows(definition, groups, rowWords, start, end));
      start = end + 1;
    }
  };

  return {
    get buffer() {
      return buffer;
    },
    get rows() {
      return rows;
    },
    get window() {
      return Math.max(0, top - lo + 1);
    },
    prepare(update) {
      const hi = update - skips;
      let changed = false;
      if (hi - lo + 1 > rows) {
        // Commands already recorded may still read the old table: keep it until destroy.
        retired.push(buffer);
        rows = grownRows(rows, hi - lo + 1);
        buffer = makeBuffer();
        top = lo - 1;
        changed = true;
      }
      if (hi > top) {
        writeRows(Math.max(lo, top + 1), hi);
        top = hi;
      }
      return changed;
    },
    observe(step, calls) {
      if (step + 1 > lo) lo = step + 1;
      if (calls - step > skips) skips = calls - step;
    },
    refresh(next) {
      groups = next;
      if (top >= lo) writeRows(lo, top);
    },
    reset(step, calls) {
      lo = step + 1;
      skips = calls - step;
      top = step;
    },
    get allocatedBytes() {
      return [buffer, ...retired].reduce((n, b) => n + b.size, 0);
    },
    destroy() {
      for (const b of [buffer, ...retired]) b.destroy();
    },
  };
}
