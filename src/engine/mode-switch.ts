/**
 * Train and eval modes (Schedule-Free): one dispatch of the kernel's `toEval` / `toTrain` entry
 * point over every segment, recorded into the caller's encoder or submitted at once. A switch the
 * GPU refuses leaves the mode as it was, and the optimizer refusing until a load.
 */
import { checkEncoder } from '../core/encoder.js';
import type { Lifecycle } from '../core/lifecycle.js';
import type { FrontState } from '../front/front-state.js';
import type { GpuOutcomes } from './gpu-outcomes.js';
import type { RecordedEncoders } from './recorded-encoders.js';
import type { StepRecorder } from './step-recorder.js';

export function createModeSwitch(args: {
  device: GPUDevice;
  label: string;
  front: FrontState<any>;
  lifecycle: Lifecycle;
  outcomes: GpuOutcomes;
  recorded: RecordedEncoders;
  recorder: StepRecorder;
  staging: Float32Array<ArrayBuffer>;
}): (to: 'train' | 'eval', encoder: GPUCommandEncoder | undefined) => void {
  const { device, label, front, lifecycle, outcomes, recorded, recorder } = args;
  const { definition } = front;
  return (to, encoder) => {
    lifecycle.check();
    if (!definition.modes) throw new Error(`webgpu-optim: ${definition.name} has no train/eval modes`);
    checkEncoder(encoder, `${definition.name}.${to}`);
    if (front.mode === to) return;
    const from = front.mode;
    const scalars = front.switchScalars(args.staging);
    outcomes.open();
    try {
      const own = encoder ?? device.createCommandEncoder({ label: `${label}:${to}` });
      recorder.recordSwitch(own, encoder === undefined, to, scalars);
      if (encoder) recorded.note(encoder);
      else device.queue.submit([own.finish()]);
      front.mode = to;
    } finally {
      // The GPU may refuse the switch (an encoder finished before we saw it): the parameters then
      // still hold the other point, so the mode goes back and the optimizer refuses until a load.
      outcomes.close(
        () => `the switch to ${to}`,
        () => {
          if (encoder) recorded.forget(encoder);
          if (front.mode === to) front.mode = from;
        },
      );
    }
  };
}
