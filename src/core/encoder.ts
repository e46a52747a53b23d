import { describeValue } from './describe-value.js';

/**
 * Command encoders handed to `step(encoder)`: a type check, and a watch on `finish()` so the
 * engine knows when the steps recorded into an encoder can no longer be followed by more
 * (the encoder's scalar slots may then be reused) and refuses an encoder that was finished.
 * WebGPU has no way to ask an encoder for its device or whether it was submitted; a misuse the
 * checks here cannot see is caught by a validation error scope around the recording (engine).
 */
const finished = new WeakSet<GPUCommandEncoder>();
const watched = new WeakSet<GPUCommandEncoder>();

/** Throws unless `encoder` is undefined or an unfinished GPUCommandEncoder. */
export function checkEncoder(encoder: unknown, what: string): asserts encoder is GPUCommandEncoder | undefined {
  if (encoder === undefined) return;
  const Encoder = (globalThis as { GPUCommandEncoder?: abstract new () => GPUCommandEncoder }).GPUCommandEncoder;
  const looksLikeOne = encoder !== null && typeof encoder === 'object' && typeof (encoder as GPUCommandEncoder).beginComputePass === 'function';
  if (!looksLikeOne || (Encoder && !(encoder instanceof Encoder))) {
    throw new TypeError(`webgpu-optim: ${what} takes a GPUCommandEncoder or nothing, got ${describeValue(encoder)}`);
  }
  if (finished.has(encoder as GPUCommandEncoder)) {
    throw new Error(`webgpu-optim: ${what}: this command encoder ("${(encoder as GPUCommandEncoder).label}") was already finished; record into a new encoder`);
  }
}

/** Starts watching `encoder.finish()`. */
export function watchEncoder(encoder: GPUCommandEncoder): void {
  if (watched.has(encoder)) return;
  watched.add(encoder);
  const finish = encoder.finish;
  Object.defineProperty(encoder, 'finish', {
    configurable: true,
    writable: true,
    value(descriptor?: GPUCommandBufferDescriptor) {
      finished.add(encoder);
      return finish.call(encoder, descriptor);
    },
  });
}

/** Whether a watched encoder was finished (its recorded steps are complete). */
export function isFinished(encoder: GPUCommandEncoder): boolean {
  return finished.has(encoder);
}

