/**
 * Stochastic rounding's per-segment uniform: `vec4<u32>(first element, seed, 0, 0)`, what the
 * rounding of 16-bit state hashes with the element and the update count (shaders/state-format.wgsl).
 */
import type { PackedLayout } from '../core/layout.js';
import type { SegmentResources } from '../core/passes.js';

/** Bytes between the segments' entries (a uniform offset alignment). */
const SEGMENT_INFO_STRIDE = 256;

export interface SegmentInfo {
  readonly resources: SegmentResources;
  readonly allocatedBytes: number;
  destroy(): void;
}

export function createSegmentInfo(device: GPUDevice, label: string, layout: PackedLayout, seed: number): SegmentInfo {
  const buffer = device.createBuffer({ label: `${label}:segmentInfo`, size: layout.segments.length * SEGMENT_INFO_STRIDE, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const words = new Uint32Array(buffer.size / 4);
  layout.segments.forEach((segment, s) => words.set([segment.firstElement, seed], (s * SEGMENT_INFO_STRIDE) / 4));
  device.queue.writeBuffer(buffer, 0, words);
  return {
    resources: { segment: (s) => ({ buffer, offset: s * SEGMENT_INFO_STRIDE, size: 16 }) },
    allocatedBytes: buffer.size,
    destroy: () => buffer.destroy(),
  };
}
