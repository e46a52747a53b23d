/**
 * `optimizer.step()`: every argument checked before anything is counted or recorded, then the
 * shared step orchestration (src/core/bookkeeping.ts) with the GPU's recording: the accumulation
 * pass on micro-batches, the update on due steps, into the caller's encoder or one of its own.
 */
import type { Bookkeeping } from '../core/bookkeeping.js';
import type { OptimizerDefinition } from '../core/definition.js';
import { checkEncoder } from '../core/encoder.js';
import type { Lifecycle } from '../core/lifecycle.js';
import { packScalars } from '../core/scalars.js';
import type { Accumulator } from '../control/accumulator.js';
import type { GpuOutcomes } from './gpu-outcomes.js';
import type { LiveSettings } from './live-settings.js';
import type { RecordedEncoders } from './recorded-encoders.js';
import { checkStepOptions } from './step-options.js';
import type { StepRecorder } from './step-recorder.js';

export interface StepOptions {
  /** Timestamp writes for the step's compute pass (profiling with the `timestamp-query` feature). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

export function createStepCall(args: {
  device: GPUDevice;
  label: string;
  definition: OptimizerDefinition<any, any>;
  live: LiveSettings;
  book: Bookkeeping;
  /** The GPU counts the steps (training control): scalars carry their step-free parts. */
  deviceStep: boolean;
  accumulator: Accumulator | undefined;
  recorder: StepRecorder;
  lifecycle: Lifecycle;
  outcomes: GpuOutcomes;
  recorded: RecordedEncoders;
  staging: Float32Array<ArrayBuffer>;
}): (encoder?: GPUCommandEncoder, options?: StepOptions) => void {
  const { device, label, definition, live, book, accumulator, recorder, lifecycle, outcomes, recorded } = args;
  const name = definition.name;
  return (encoder, stepOptions) => {
    lifecycle.check();
    checkEncoder(encoder, `${name}.step`);
    checkStepOptions(stepOptions, `${name}.step`);
    if (live.mode === 'eval') throw new Error(`webgpu-optim: ${name}: the parameters hold the averaged point (eval mode); call train() before step()`);
    outcomes.open();
    let target: GPUCommandEncoder | undefined;
    try {
      book.run((plan) => (plan.due ? packScalars(definition, live.config.groups, plan.update, { schedule: live.schedule, deviceStep: args.deviceStep, out: args.staging }) : undefined), {
        begin: () => {
          target = encoder ?? device.createCommandEncoder({ label: `${label}:step` });
        },
        accumulate: accumulator ? () => accumulator.record(target!) : undefined,
        update: (update, scalars) => recorder.recordUpdate(target!, encoder === undefined, update, scalars, stepOptions?.timestampWrites),
        end: () => {
          if (encoder) recorded.note(encoder);
          else device.queue.submit([target!.finish()]);
        },
      });
    } catch (error) {
      // Everything is checked before recording starts; a throw after it left part of a step in
      // the caller's encoder, which would run at its submit: the state is no longer known.
      if (target && encoder) lifecycle.fail(`step ${book.stepCount + 1} was recorded only in part (${error instanceof Error ? error.message : String(error)})`);
      throw error;
    } finally {
      const step = book.stepCount;
      outcomes.close(() => `step ${step}'s commands`, encoder && (() => recorded.forget(encoder)));
    }
  };
}
