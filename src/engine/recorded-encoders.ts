/**
 * The caller's command encoders that hold work of this optimizer (steps, micro-steps, mode
 * switches) and are not finished yet. The host counts a step when it records it, the GPU runs it
 * when the encoder is submitted: until then a state dict read would miss work its counts include,
 * and a load would be followed by that work. Both refuse while such an encoder is open.
 * `finish()` is taken to mean the commands are submitted (WebGPU gives no way to see a submit).
 */
import { isFinished, watchEncoder } from '../core/encoder.js';

export interface RecordedEncoders {
  /** `encoder` now holds work of this optimizer. */
  note(encoder: GPUCommandEncoder): void;
  /** `encoder`'s work was refused by the GPU (it will never run): stop waiting for it. */
  forget(encoder: GPUCommandEncoder): void;
  /** The error to throw when work of this optimizer is recorded into an encoder not seen finished. */
  openError(what: string): Error | undefined;
}

export function createRecordedEncoders(): RecordedEncoders {
  const open = new Set<GPUCommandEncoder>();
  const prune = () => {
    for (const encoder of open) if (isFinished(encoder)) open.delete(encoder);
  };
  return {
    note(encoder) {
      watchEncoder(encoder);
      if (open.has(encoder)) return;
      prune();
      open.add(encoder);
    },
    forget(encoder) {
      open.delete(encoder);
    },
    openError(what) {
      prune();
      const [encoder] = open;
      if (!encoder) return undefined;
      return new Error(
        `webgpu-optim: ${what}: steps are recorded into the command encoder "${encoder.label}", which this optimizer has not seen finished; ` +
          `finish and submit it first (its steps are counted but have not run)`,
      );
    },
  };
}
