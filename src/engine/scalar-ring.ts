/**
 * The ring of per-step scalar slots. A `writeBuffer` happens at queue time, before the submit of
 * any encoder still being recorded, so every step recorded but not yet submitted needs its own
 * slot. A slot is free again once the step that used it was submitted by the engine itself, or
 * its encoder was finished (then submitted, as `finish()` is for). When the next slot is still
 * held by an unfinished encoder, the ring doubles (the old one stays alive for the commands
 * that read it), so steps spread over any number of unsubmitted encoders stay correct.
 */
import { isFinished, watchEncoder } from '../core/encoder.js';

export interface ScalarRing {
  /** Reserves the next slot for a step recorded into `encoder` (undefined: submitted at once). */
  reserve(encoder: GPUCommandEncoder | undefined): { buffer: GPUBuffer; bindGroups: readonly GPUBindGroup[]; offset: number };
  readonly slots: number;
  /** Bytes of its buffers, the ones it grew out of included (kept until destroy). */
  readonly allocatedBytes: number;
  destroy(): void;
}

export function createScalarRing(args: {
  device: GPUDevice;
  label: string;
  slotBytes: number;
  slots: number;
  /** The kernel's bind groups (one per segment) for a ring buffer. */
  bindGroups: (buffer: GPUBuffer) => GPUBindGroup[];
}): ScalarRing {
  const { device, label, slotBytes } = args;
  const retired: GPUBuffer[] = [];
  const make = (slots: number) => {
    if (slots * slotBytes > device.limits.maxBufferSize) {
      throw new RangeError(
        `webgpu-optim: ${label}: ${slots} steps recorded into encoders that are not finished yet need ${slots * slotBytes} bytes of ` +
          `scalars, over maxBufferSize; finish and submit encoders more often`,
      );
    }
    const buffer = device.createBuffer({ label: `${label}:scalars×${slots}`, size: slotBytes * slots, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    return { buffer, bindGroups: args.bindGroups(buffer), owners: new Array<GPUCommandEncoder | undefined>(slots) };
  };
  let ring = make(args.slots);
  let cursor = 0;
  return {
    get slots() {
      return ring.owners.length;
    },
    reserve(encoder) {
      const owner = ring.owners[cursor];
      if (owner && !isFinished(owner)) {
        const next = make(ring.owners.length * 2);
        retired.push(ring.buffer);
        ring = next;
        cursor = 0;
      }
      if (encoder) watchEncoder(encoder);
      const slot = cursor;
      ring.owners[slot] = encoder;
      cursor = (cursor + 1) % ring.owners.length;
      return { bindGroups: ring.bindGroups, offset: slot * slotBytes, buffer: ring.buffer };
    },
    get allocatedBytes() {
      return [ring.buffer, ...retired].reduce((n, b) => n + b.size, 0);
    },
    destroy() {
      for (const buffer of [ring.buffer, ...retired]) buffer.destroy();
    },
  };
}
