/**
 * `optimizer.step()`: every argument checked before anything is counted or recorded, then the
 * shared step orchestration (src/core/bookkeeping.ts) with the GPU's recording: the accumulation
 * pass on micro-batches, the update on due steps, into the caller's encoder or one of its own.
 */
import { checkEncoder } from '../core/encoder.js';
import type { Lifecycle } from '../core/lifecycle.js';
import type { Accumulator } from '../control/accumulator.js';
import type { GpuOutcomes } from './gpu-outcomes.js';
import type { FrontState } from '../front/front-state.js';
import type { RecordedEncoders } from './recorded-encoders.js';
import { checkStepOptions } from './step-options.js';
import type { StepRecorder } from './step-recorder.js';
import type { PerTensorStep } from './per-tensor-step.js';
import { countStepPresence, stepPresence } from '../front/window-presence.js';

export interface StepOptions {
  /** Timestamp writes for the step's compute pass (profiling with the `timestamp-query` feature). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

const NOTHING = new Float32Array(0);

export function createStepCall(args: {
  device: GPUDevice;
  label: string;
  front: FrontState<any>;
  accumulator: Accumulator | undefined;
  recorder: StepRecorder;
  lifecycle: Lifecycle;
  outcomes: GpuOutcomes;
  recorded: RecordedEncoders;
  staging: Float32Array<ArrayBuffer>;
  /** Which tensors have a gradient this step (the parameter set's marks). */
  present: () => readonly boolean[];
  /** The per-tensor step (made before the steps; throws the device's refusal of its variant). */
  perTensor: () => PerTensorStep;
  /**
   * Gradient control is on: a step where no tensor has a gradient is recorded all the same (its
   * statistics over no tensor: norm 0, as torch's clip_grad_norm_ over no grad), so that the
   * device's step and call counts stay the host's.
   */
  control: boolean;
}): (encoder?: GPUCommandEncoder, options?: StepOptions) => void {
  const { device, label, front, accumulator, lifecycle, outcomes, recorded } = args;
  const { book } = front;
  const name = front.definition.name;
  return (encoder, stepOptions) => {
    lifecycle.check();
    checkEncoder(encoder, `${name}.step`);
    checkStepOptions(stepOptions, `${name}.step`);
    if (front.mode === 'eval') throw new Error(`webgpu-optim: ${name}: the parameters hold the averaged point (eval mode); call train() before step()`);
    const present = args.present();
    // Refused here, before anything is counted or recorded, where the optimizer cannot skip a tensor.
    const call = stepPresence(front.window, front.tensorSteps, present);
    const { skips, windowPresent } = call;
    const marked = present.some((p) => p);
    if (!marked && !(call.due && windowPresent.some((p) => p)) && stepOptions?.timestampWrites === undefined && !args.control) {
      // No tensor has a gradient (a micro-batch that wrote none, or an update whose window wrote
      // none): nothing to record (but the timestamps asked for); the call is counted (an update:
      // the schedule's position). With gradient control it is recorded (statistics over no tensor:
      // norm 0, as torch's clip_grad_norm_ over no grad), so the device's counts stay the host's.
      const stepsBefore = book.stepCount;
      book.run(() => NOTHING, { update: () => {} });
      countStepPresence(front.window, front.tensorSteps, call, stepsBefore);
      return;
    }
    const perTensor = skips || call.partialAccumulation ? args.perTensor() : undefined;
    const { recorder, staging } = skips ? perTensor! : args;
    const stepsBefore = book.stepCount;
    outcomes.open();
    let target: GPUCommandEncoder | undefined;
    try {
      const scalars = (update: number) => (skips ? front.tensorStepScalars(update, windowPresent, staging) : front.stepScalars(update, staging));
      // A micro-batch adds the tensors it marks (each tensor's sum starts from the zeros the last update left).
      const accumulate = () => {
        if (!call.partialAccumulation) accumulator!.record(target!);
        else if (marked) perTensor!.accumulate!(target!, encoder === undefined, present);
      };
      book.run((plan) => (plan.due ? scalars(plan.update) : undefined), {
        begin: () => {
          target = encoder ?? device.createCommandEncoder({ label: `${label}:step` });
        },
        accumulate: accumulator ? accumulate : undefined,
        update: (update, scalars) => recorder.recordUpdate(target!, encoder === undefined, update, scalars, stepOptions?.timestampWrites),
        end: () => {
          if (encoder) recorded.note(encoder);
          else device.queue.submit([target!.finish()]);
        },
      });
      countStepPresence(front.window, front.tensorSteps, call, stepsBefore);
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
