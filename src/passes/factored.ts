/**
 * Adafactor's factored second moment in the packed engine, as pure data (no GPU objects): which
 * state a tensor keeps, where it lives in the one factored-state buffer, and the table the GPU
 * passes read (src/optimizers/adafactor/adafactor.wgsl). Shazeer & Stern 2018, § 3: a tensor of
 * shape [..., R, C] keeps the running means of its squared gradient over rows (`row_var`, B·R
 * values, B the product of the leading dimensions) and over columns (`col_var`, B·C) instead of
 * B·R·C; a tensor of 0 or 1 dimensions keeps the full `variance`, as torch.optim.Adafactor does.
 */
import { alignUp, CHUNK_ELEMENTS, type PackedLayout } from '../core/layout.js';
import type { ShapedSlot } from '../core/definition.js';
import { elementCount } from '../core/tensors.js';

/** How a tensor of this shape is factored: B batches of R × C, or not at all (a vector). */
export function factoringOf(shape: readonly number[]): { factored: boolean; batches: number; rows: number; cols: number } {
  if (shape.length < 2) return { factored: false, batches: 1, rows: 1, cols: elementCount(shape) };
  return { factored: true, batches: elementCount(shape.slice(0, -2)), rows: shape.at(-2)!, cols: shape.at(-1)! };
}

/** The state slots of a tensor of this shape, in PyTorch's names and shapes. */
export function factoredSlots(shape: readonly number[]): ShapedSlot[] {
  if (shape.length < 2) return [{ name: 'variance', shape: [...shape] }];
  return [
    { name: 'row_var', shape: [...shape.slice(0, -1), 1] },
    { name: 'col_var', shape: [...shape.slice(0, -2), 1, shape.at(-1)!] },
  ];
}

/** Where one slot of one tensor lives in the factored-state buffer. */
export interface SlotRegion {
  readonly name: string;
  readonly offset: number;
  readonly length: number;
}

export interface FactoredLayout {
  /** Per tensor, its slots (factoredSlots order) and where each lives in the state buffer. */
  readonly regions: readonly (readonly SlotRegion[])[];
  /** Elements of the state (each slot region starts on a 64-element boundary). */
  readonly stateLength: number;
  /** Elements of the buffer: the state, then the passes' scratch (an accumulator per entry, a mean per batch). */
  readonly bufferLength: number;
  /** Row and column entries (each is summed over its elements, then its state updated). */
  readonly entries: number;
  /** (tensor, leading index) pairs: each has a mean of its row_var. */
  readonly batches: number;
  /**
   * The table, rows of vec4<u32> (adafactor.wgsl reads it): row 0 (tensors T, entries E, batches,
   * scratch index of entry 0's accumulator); per tensor t, rows 1 + 2t and 2 + 2t (offset, length,
   * R, C), (first state of slot 0, of slot 1, scratch index of its batch 0's row mean, factored);
   * per entry k (a row or a column), rows 1 + 2T + 2k and 2 + 2T + 2k (first element, stride,
   * count, state index), (group, tensor, 0, 0); per batch b, row 1 + 2T + 2E + b (first row
   * state, R, scratch index of its row mean, group).
   */
  readonly table: Uint32Array<ArrayBuffer>;
}

/** Bytes of one vec4<u32> row of the factor table. */
const TABLE_ROW_BYTES = 16;

/**
 * Bytes of the factor table's rows for a tensor of this shape (two per row and per column of each
 * matrix, one per matrix), from the shape alone: checked before the table is built.
 */
export function factorTableBytes(shape: readonly number[]): number {
  const { factored, batches: B, rows: R, cols: C } = factoringOf(shape);
  return factored ? (2 * B * (R + C) + B) * TABLE_ROW_BYTES : 0;
}

/**
 * Lays out the factored state of a packed set and builds the table. The buffer holds the state,
 * then the passes' scratch: one accumulator per entry, then one row mean per batch.
 */
export function factoredLayout(layout: PackedLayout, tensorGroup: readonly number[]): FactoredLayout {
  const T = layout.tensors.length;
  let cursor = 0;
  const regions = layout.tensors.map((t) =>
    factoredSlots(t.shape).map((slot) => {
      const region = { name: slot.name, offset: cursor, length: elementCount(slot.shape) };
      cursor = alignUp(cursor + region.length, CHUNK_ELEMENTS);
      return region;
    }),
  );
  // Accumulators of the entries first, then the row means of the batches.
  const E = layout.tensors.reduce((n, t) => {
    const f = factoringOf(t.shape);
    return n + (f.factored ? f.batches * (f.rows + f.cols) : 0);
  }, 0);
  const stateLength = Math.max(CHUNK_ELEMENTS, cursor);
  const scratchBase = stateLength;
  const meansBase = scratchBase + E;
  const entries: number[][] = [];
  const batches: number[][] = [];
  const tensorRows: number[][] = [];
  layout.tensors.forEach((t, i) => {
    const { factored, batches: B, rows: R, cols: C } = factoringOf(t.shape);
    const [first = 0, second = 0] = regions[i]!.map((r) => r.offset);
    const group = tensorGroup[i] ?? 0;
    tensorRows.push([t.offset, t.length, R, C], [first, second, meansBase + batches.length, factored ? 1 : 0]);
    if (!factored) return;
    for (let b = 0; b < B; b++) {
      for (let r = 0; r < R; r++) entries.push([t.offset + (b * R + r) * C, 1, C, first + b * R + r], [group, i, 0, 0]);
      for (let c = 0; c < C; c++) entries.push([t.offset + b * R * C + c, C, R, second + b * C + c], [group, i, 0, 0]);
      batches.push([first + b * R, R, meansBase + batches.length, group]);
    }
  });
  const rows = [[T, E, batches.length, scratchBase], ...tensorRows, ...entries, ...batches];
  return { regions, stateLength, bufferLength: stateLength + E + batches.length, entries: E, batches: batches.length, table: Uint32Array.from(rows.flat()) };
}
