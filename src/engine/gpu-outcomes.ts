/**
 * The GPU's verdict on recorded commands, which arrives asynchronously: each recording (a step, a
 * mode switch) runs inside a validation error scope, and a refusal marks the optimizer failed
 * (lifecycle) and undoes what the host changed for it. `settled()` is the verdict on everything
 * recorded so far (error scopes answer in order), so a state dict waits for it and never reports
 * a step or a mode the GPU refused.
 */
export interface GpuOutcomes {
  /** Opens the scope around a recording. */
  open(): void;
  /** Closes it; on a refusal, `undo()` then `onRefused("the GPU refused <what()> (<message>)")`. */
  close(what: () => string, undo?: () => void): void;
  /** Resolves once the GPU has judged every recording closed so far. */
  settled(): Promise<void>;
}

export function createGpuOutcomes(device: GPUDevice, onRefused: (message: string) => void): GpuOutcomes {
  let last: Promise<void> = Promise.resolve();
  return {
    open() {
      device.pushErrorScope('validation');
    },
    close(what, undo) {
      last = device.popErrorScope().then(
        (error) => {
          if (!error) return;
          undo?.();
          onRefused(`the GPU refused ${what()} (${error.message})`);
        },
        () => undefined, // a lost device: the lifecycle reports that on the next call
      );
    },
    settled: () => last,
  };
}
