/**
 * The step probe: a small asynchronous copy of the control block's counters (24 bytes), mapped when
 * the GPU is done and never awaited on the step path, so the host learns the device step now and
 * then and the step table's window stays short.
 */
import { CONTROL_WORD } from './control-block.js';

/** Words the probe copies: stepLo, stepHi, callsLo, callsHi, tableMiss (and padding). */
export const PROBE_WORDS = 6;

export interface StepProbe {
  /** A copy is in flight (at most one at a time). */
  readonly busy: boolean;
  /** Copies the counters now; `onWords` gets the {@link PROBE_WORDS} words once the GPU is done. */
  start(onWords: (words: Uint32Array) => void): void;
  readonly allocatedBytes: number;
  destroy(): void;
}

export function createStepProbe(device: GPUDevice, label: string, control: GPUBuffer): StepProbe {
  const probe = device.createBuffer({ label: `${label}:stepProbe`, size: PROBE_WORDS * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  let busy = false;
  return {
    get busy() {
      return busy;
    },
    start(onWords) {
      busy = true;
      const encoder = device.createCommandEncoder({ label: `${label}:stepProbe` });
      encoder.copyBufferToBuffer(control, CONTROL_WORD.stepLo * 4, probe, 0, PROBE_WORDS * 4);
      device.queue.submit([encoder.finish()]);
      probe.mapAsync(GPUMapMode.READ).then(
        () => {
          const words = new Uint32Array(probe.getMappedRange().slice(0));
          probe.unmap();
          busy = false;
          onWords(words);
        },
        () => {
          busy = false; // destroyed or device lost: the owner reports that on its next call
        },
      );
    },
    allocatedBytes: probe.size,
    destroy: () => probe.destroy(),
  };
}
