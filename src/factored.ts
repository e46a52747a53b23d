/**
 * Adafactor's factored second moment in the packed engine, as pure data (no GPU objects): which
 * state a tensor keeps, where it lives in the one factored-state buffer, and the table the GPU
 * passes read (src/optimizers/adafactor/adafactor.wgsl). Shazeer & Stern 2018, § 3: a tensor of
 * shape [..., R, C] keeps the running means of its squared gradient over rows (`row_var`, B·R
 * values, B the product of the leading dimensions) and over columns (`col_var`, B·C) instead of
 * B·R·C; a tensor of 0 or 1 dimensions keeps the full `variance`, as torch.optim.Adafactor does.
 */
import { alignUp, CHUNK_ELEMENTS, type PackedLayout } from './layout.js';
import type { ShapedSlot } from './optimizers/definition.js';

/** How a tensor of this shape is factored: B batches of R × C, or not at all (a vector). */
export function factoringOf(shape: readonly number[]): { factored: boolean; batches: number; rows: number; cols: number } {
  if (shape.length < 2) return { factored: false, batches: 1, rows: 1, cols: shape.reduce((a, b) => a * b, 1) };
  return { factored: true, batches: shape.slice(0, -2).reduce((a, b) => a * b, 1), rows: shape.at(-2)!, cols: shape.at(-1)! };
}

/** The state slots of a tensor of this shape, in PyTorch's names and shapes. */
export function factoredSlots(shape: readonly number[]): ShapedSlot[] {
  if (shape.length < 2) return [{ name: 'variance', shape: [...shape] }];
  return [
    { name: 'row_var', shape: [...shape.slice(0, -1), 1] },
    { name: 'col_var', shape: [...shape.slice(0, -2), 1, shape.at(-1)!] },
  ];
}

/** vec4<u32> rows of the table: a header, then two per tensor, two per entry, one per batch. */
export const FACTOR_TABLE = {
  /** Row 0: (tensors T, entries E, batches NB, scratch index of entry 0's accumulator). */
  header: 0,
  /** Rows 1 + 2t and 2 + 2t: (offset, length, R, C), (first state of slot 0, of slot 1, scratch index of batch 0's row mean, factored 0/1). */
  tensor: (t: number) => 1 + 2 * t,
  /** Rows of entry k (a row or a column of a factored tensor): (first element, stride, count, state index), (group, tensor, 0, 0). */
  entry: (T: number, k: number) => 1 + 2 * T + 2 * k,
  /** Row of batch b: (first row state, R, scratch index of its row mean, group). */
  batch: (T: number, E: number, b: number) => 1 + 2 * T + 2 * E + b,
} as const;

export interface FactoredLayout {
  /** Per tensor, the first element of each of its slots (factoredSlots order) in the state buffer. */
  readonly slotOffsets: readonly (readonly number[])[];
  /** Elements of the state buffer (each slot region starts on a 64-element boundary). */
  readonly stateLength: number;
  /** Row and column entries (each is summed over its elements, then its state updated). */
  readonly entries: number;
  /** (tensor, leading index) pairs: each has a mean of its row_var. */
  readonly batches: number;
  /** The table, `FACTOR_TABLE` rows of vec4<u32>. */
  readonly table: Uint32Array<ArrayBuffer>;
}

/**
 * Lays out the factored state of a packed set and builds the table. The scratch holds one
 * accumulator per entry from `scratchBase`, then one row mean per batch.
 */
export function factoredLayout(layout: PackedLayout, tensorGroup: readonly number[], scratchBase: number): FactoredLayout {
  const T = layout.tensors.length;
  let cursor = 0;
  const slotOffsets = layout.tensors.map((t) =>
    factoredSlots(t.shape).map((slot) => {
      const offset = cursor;
      cursor = alignUp(cursor + slot.shape.reduce((a, b) => a * b, 1), CHUNK_ELEMENTS);
      return offset;
    }),
  );
  // Accumulators of the entries first, then the row means of the batches.
  const E = layout.tensors.reduce((n, t) => {
    const f = factoringOf(t.shape);
    return n + (f.factored ? f.batches * (f.rows + f.cols) : 0);
  }, 0);
  const meansBase = scratchBase + E;
  const entries: number[][] = [];
  const batches: number[][] = [];
  const tensorRows: number[][] = [];
  layout.tensors.forEach((t, i) => {
    const { factored, batches: B, rows: R, cols: C } = factoringOf(t.shape);
    const [first = 0, second = 0] = slotOffsets[i]!;
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
  return { slotOffsets, stateLength: Math.max(CHUNK_ELEMENTS, cursor), entries: E, batches: batches.length, table: Uint32Array.from(rows.flat()) };
}
