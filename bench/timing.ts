/** Repeated measurements: calibrate a step count, then take the median of repetitions. */

export interface Measurement {
  /** Milliseconds per step: median, fastest and slowest repetition. */
  median: number;
  min: number;
  max: number;
  /** Steps per repetition and the repetitions' ms per step. */
  steps: number;
  samples: number[];
  /** 'gpu-timestamps' (GPU time of the passes) or 'wall' (until the queue reported done). */
  clock: 'gpu-timestamps' | 'wall';
}

export interface TimingConfig {
  reps: number;
  /** Calibrate steps per repetition until one takes at least this long. */
  minRepMs: number;
  maxSteps: number;
}

/**
 * `run(k)` performs k steps and resolves to the elapsed milliseconds (GPU work finished).
 * One warm-up call, calibration by doubling, then `reps` repetitions.
 */
export async function measure(run: (steps: number) => Promise<number>, cfg: TimingConfig, clock: Measurement['clock']): Promise<Measurement> {
  await run(1); // warm-up: pipelines, first-touch of memory
  let steps = 1;
  let elapsed = await run(steps);
  while (elapsed < cfg.minRepMs && steps < cfg.maxSteps) {
    steps = Math.min(cfg.maxSteps, steps * Math.max(2, Math.ceil(cfg.minRepMs / Math.max(elapsed, 0.01) / 1.5)));
    elapsed = await run(steps);
  }
  const samples = [elapsed / steps];
  while (samples.length < cfg.reps) samples.push((await run(steps)) / steps);
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, steps, samples, clock };
}

/**
 * GPU timing of recorded passes with `timestamp-query`: `record(encoder, writes)` records k steps
 * and places the writes on the first and last pass; the result is (end − begin) in ms.
 */
export function createTimestampClock(device: GPUDevice) {
  const querySet = device.createQuerySet({ label: 'bench:timestamps', type: 'timestamp', count: 2 });
  const resolve = device.createBuffer({ label: 'bench:timestamps:resolve', size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ label: 'bench:timestamps:read', size: 16, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  return {
    begin: { querySet, beginningOfPassWriteIndex: 0 } as GPUComputePassTimestampWrites,
    end: { querySet, endOfPassWriteIndex: 1 } as GPUComputePassTimestampWrites,
    both: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } as GPUComputePassTimestampWrites,
    async time(record: (encoder: GPUCommandEncoder) => void): Promise<number> {
      const encoder = device.createCommandEncoder({ label: 'bench:timed' });
      record(encoder);
      encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, read, 0, 16);
      device.queue.submit([encoder.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const [t0, t1] = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      return Number(t1! - t0!) / 1e6;
    },
  };
}
