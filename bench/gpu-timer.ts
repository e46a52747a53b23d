/** Timing GPU work: GPU timestamps of the recorded passes where the device has them, else wall clock. */
import { createTimestampClock, type Measurement } from './timing.js';

export interface GpuTimer {
  /** The clock of measurements that are not forced to wall time. */
  readonly clock: Measurement['clock'];
  /** Whether GPU timestamps exist (then both GPU and wall time can be measured). */
  readonly timestamps: boolean;
  /**
   * A `run(k)` for {@link measure}: `record(encoder, k, writes)` records k steps into one encoder
   * (timed by timestamps; `writes(s, k)` gives the timestamp writes of pass s of k, when passes are
   * recorded one per step), and `submitEach(k)` submits k steps (timed by the wall clock).
   */
  run(
    record: (encoder: GPUCommandEncoder, k: number) => void,
    submitEach: (k: number) => void,
    wall?: boolean,
  ): (k: number) => Promise<number>;
  /** Timestamp writes for pass `index` of `count` passes: begin on the first, end on the last. */
  writes(index: number, count: number): GPUComputePassTimestampWrites | undefined;
  /**
   * `run` for an optimizer's steps: k steps recorded into one encoder (the first and last pass
   * timestamped), or k `step()` calls each submitting its own (wall clock).
   */
  steps(optimizer: Steppable, wall?: boolean): (k: number) => Promise<number>;
}

/** What `steps` times: an optimizer's `step(encoder?, { timestampWrites })`. */
export interface Steppable {
  step(encoder?: GPUCommandEncoder, options?: { timestampWrites?: GPUComputePassTimestampWrites }): void;
}

export function createGpuTimer(device: GPUDevice): GpuTimer {
  const clock = device.features.has('timestamp-query') ? createTimestampClock(device) : undefined;
  const timer: GpuTimer = {
    clock: clock ? 'gpu-timestamps' : 'wall',
    timestamps: Boolean(clock),
    run: (record, submitEach, wall = false) => async (k) => {
      if (clock && !wall) return clock.time((encoder) => record(encoder, k));
      const t0 = performance.now();
      submitEach(k);
      await device.queue.onSubmittedWorkDone();
      return performance.now() - t0;
    },
    writes(index, count) {
      if (!clock) return undefined;
      if (count === 1) return clock.both;
      return index === 0 ? clock.begin : index === count - 1 ? clock.end : undefined;
    },
    steps: (optimizer, wall) =>
      timer.run(
        (encoder, k) => {
          for (let s = 0; s < k; s++) optimizer.step(encoder, { timestampWrites: timer.writes(s, k) });
        },
        (k) => {
          for (let s = 0; s < k; s++) optimizer.step();
        },
        wall,
      ),
  };
  return timer;
}
