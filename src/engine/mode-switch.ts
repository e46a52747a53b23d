/**
 * Train and eval modes (Schedule-Free): one dispatch of the kernel's `toEval` / `toTrain` entry
 * point over every segment, recorded into the caller's encoder or submitted at once. A switch the
 * GPU refuses leaves the mode as it was, and the optimizer refusing until a load.
 */
import type { OptimizerDefinition } from '../core/definition.js';
import { checkEncoder } from '../core/encoder.js';
import type { Lifecycle } from '../core/lifecycle.js';
import { packScalars } from '../core/scalars.js';
import type { GpuOutcomes } from './gpu-outcomes.js';
import type { LiveSettings } from './live-settings.js';
import type { RecordedEncoders } from './recorded-encoders.js';
import type { StepRecorder } from './step-recorder.js';

export function createModeSwitch(args: {
  device: GPUDevice;
  label: string;
  definition: OptimizerDefinition<any, any>;
  live: LiveSettings;
  lifecycle: Lifecycle;
  outcomes: GpuOutcomes;
  recorded: RecordedEncoders;
  recorder: StepRecorder;
  /** The scalars of the next update (the switch reads the step's averaging weights). */
  scalars: () => Float32Array<ArrayBuffer>;
}): (to: 'train' | 'eval', encoder: GPUCommandEncoder | undefined) => void {
  const { device, label, definition, live, lifecycle, outcomes, recorded, recorder } = args;
  return (to, encoder) => {
    lifecycle.check();
    if (!definition.modes) throw new Error(`webgpu-optim: ${definition.name} has no train/eval modes`);
    checkEncoder(encoder, `${definition.name}.${to}`);
    if (live.mode === to) return;
    const from = live.mode;
    const scalars = args.scalars();
    outcomes.open();
    try {
      const own = encoder ?? device.createCommandEncoder({ label: `${label}:${to}` });
      recorder.recordSwitch(own, encoder === undefined, to, scalars);
      if (encoder) recorded.note(encoder);
      else device.queue.submit([own.finish()]);
      live.mode = to;
    } finally {
      // The GPU may refuse the switch (an encoder finished before we saw it): the parameters then
      // still hold the other point, so the mode goes back and the optimizer refuses until a load.
      outcomes.close(
        () => `the switch to ${to}`,
        () => {
          if (encoder) recorded.forget(encoder);
          if (live.mode === to) live.mode = from;
        },
      );
    }
  };
}

/** The scalars a mode switch reads: those of the update after `stepCount`. */
export function switchScalars(definition: OptimizerDefinition<any, any>, live: LiveSettings, stepCount: () => number, deviceStep: boolean, out: Float32Array<ArrayBuffer>) {
  return () => packScalars(definition, live.config.groups, stepCount() + 1, { deviceStep, out });
}
