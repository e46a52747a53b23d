import { deviceLoss, watchDeviceLoss } from './device-loss.js';

/**
 * Whether an object may still be used: not destroyed, its device not lost, and no earlier failure
 * (a step the GPU refused, an engine inconsistency) left it in an unknown state. Every public
 * call checks this first, so a dead object throws a clear error instead of doing nothing.
 */
export interface Lifecycle {
  readonly destroyed: boolean;
  /** Throws when the object can no longer be used (`allowFailure`: unless only a failure was recorded). */
  check(allowFailure?: boolean): void;
  /** Records a failure: every later `check()` throws with this message. */
  fail(message: string): void;
  /** Clears a recorded failure (a state dict was loaded over the unknown state). */
  recover(): void;
  /** Marks the object destroyed; false when it already was. */
  destroy(): boolean;
}

export function createLifecycle(what: string, device: GPUDevice, parent?: { check(): void }): Lifecycle {
  let destroyed = false;
  let failure: string | undefined;
  watchDeviceLoss(device);
  return {
    get destroyed() {
      return destroyed;
    },
    check(allowFailure = false) {
      if (destroyed) throw new Error(`webgpu-optim: ${what} was destroyed; create a new one`);
      const lost = deviceLoss(device);
      if (lost !== undefined) throw new Error(`webgpu-optim: ${what}: its GPU device was lost (${lost}); request a new device and recreate it`);
      parent?.check();
      if (failure !== undefined && !allowFailure) {
        throw new Error(`webgpu-optim: ${what} refuses further use: ${failure}. Load a saved state dict (loadStateDict) to continue.`);
      }
    },
    fail(message) {
      failure ??= message;
    },
    recover() {
      failure = undefined;
    },
    destroy() {
      if (destroyed) return false;
      destroyed = true;
      return true;
    },
  };
}
