/**
 * The packing of a state slot that only some tensors hold (`SlotSpec.compact`: AdamW's exp_avg_sq
 * beside Muon, whose matrices have none): its buffer holds those tensors only, in the order of the
 * packed set, each from a 64-element boundary (16-bit formats keep their pairs) congruent to its
 * place in the packed set modulo 128 (at most 64 elements of padding more). The kernel reaches
 * element e of tensor t at `e + shift[t]`; each segment binds the part of the buffer its holders
 * use, from a 128-element boundary (256 bytes in every format: WebGPU's largest
 * minStorageBufferOffsetAlignment). The congruence keeps that part within the segment's own
 * element count (segments start on multiples of 4096), so within every binding limit the
 * parameters' bindings respect.
 */
import { CHUNK_ELEMENTS, type PackedLayout } from './layout.js';

/** Elements between segment binding starts: 256 bytes of a 16-bit format, 512 of f32. */
export const COMPACT_BINDING_ALIGNMENT = 128;

export interface CompactLayout {
  /** Each tensor's first element in the compact buffer; undefined where the tensor does not hold the slot. */
  readonly base: readonly (number | undefined)[];
  /** Elements of the compact buffer (a multiple of 128, at least 128). */
  readonly length: number;
  /** Per segment: the first element and the count its binding covers. */
  readonly segments: readonly { readonly first: number; readonly count: number }[];
}

const roundUp = (n: number, k: number) => Math.ceil(n / k) * k;

/** The compact packing over the tensors `holds` picks. */
export function compactLayout(layout: PackedLayout, holds: (tensorIndex: number) => boolean): CompactLayout {
  let cursor = 0;
  const base = layout.tensors.map((t, i) => {
    if (!holds(i)) return undefined;
    const at = cursor + ((((t.offset - cursor) % COMPACT_BINDING_ALIGNMENT) + COMPACT_BINDING_ALIGNMENT) % COMPACT_BINDING_ALIGNMENT);
    cursor = at + roundUp(t.length, CHUNK_ELEMENTS);
    return at;
  });
  const length = Math.max(COMPACT_BINDING_ALIGNMENT, roundUp(cursor, COMPACT_BINDING_ALIGNMENT));
  const segments = layout.segments.map((segment) => {
    let lo = Infinity, hi = 0;
    layout.tensors.forEach((t, i) => {
      const b = base[i];
      const from = Math.max(t.offset, segment.firstElement), to = Math.min(t.offset + roundUp(t.length, CHUNK_ELEMENTS), segment.firstElement + segment.elementCount);
      if (b === undefined || from >= to) return;
      lo = Math.min(lo, b + from - t.offset);
      hi = Math.max(hi, b + to - t.offset);
    });
    if (lo === Infinity) return { first: 0, count: COMPACT_BINDING_ALIGNMENT };
    const first = Math.floor(lo / COMPACT_BINDING_ALIGNMENT) * COMPACT_BINDING_ALIGNMENT;
    return { first, count: hi - first };
  });
  return { base, length, segments };
}
