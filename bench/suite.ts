/**
 * The benchmark itself, independent of where it runs (a browser page or Node with Dawn): for each
 * optimizer × workload it measures the packed fused step, the same kernel dispatched per tensor,
 * the roofline copy kernel, CPU baselines and TF.js, and the host-side cost of step().
 */
import { createOptimizer, createParameterSet, createReferenceOptimizer, type Optimizer, type ParameterSet } from '../src/index.js';
import { fastCpuKernel, makeCpuState } from './cpu-kernels.js';
import { createRoofline } from './roofline.js';
import { createTimestampClock, measure, type Measurement, type TimingConfig } from './timing.js';
import { OPTIMIZERS, totalElements, workloads, type BenchOptimizer, type Workload } from './workloads.js';

export type Mode = 'fused' | 'perTensor' | 'fusedWall' | 'perTensorWall' | 'roofline' | 'cpuReference' | 'cpuFast' | 'cpuWorkers' | 'tfjsWebgpu' | 'tfjsCpu';

export const MODE_LABELS: Record<Mode, string> = {
  fused: 'webgpu-optim packed (1 dispatch)',
  perTensor: 'same kernel, 1 dispatch per tensor',
  fusedWall: 'packed, wall clock (submit each step)',
  perTensorWall: 'per tensor, wall clock (submit each step)',
  roofline: 'roofline copy kernel',
  cpuReference: 'CPU reference (f32-exact)',
  cpuFast: 'CPU plain-JS loop',
  cpuWorkers: 'CPU plain-JS, worker threads',
  tfjsWebgpu: 'TF.js webgpu',
  tfjsCpu: 'TF.js cpu',
};

export type Outcome = Measurement | { skipped: string } | { error: string };

export interface Row {
  optimizer: string;
  workload: string;
  elements: number;
  tensors: number;
  /** Bytes the optimizer must move per element (reads + writes) × 4. */
  bytesPerElement: number;
  results: Partial<Record<Mode, Outcome>>;
}

export interface HostCostRow {
  tensors: number;
  /** JS time of step(encoder) + finish + submit, µs per step (median, min, max). */
  medianUs: number;
  minUs: number;
  maxUs: number;
}

export interface SuiteConfig {
  quick: boolean;
  optimizers?: string[];
  /** Substrings of workload labels to keep. */
  workloads?: string[];
  modes?: Mode[];
  timing: TimingConfig;
  /** Elements above which the slow CPU paths (f32 reference, TF.js cpu) are skipped. */
  slowCpuLimit: number;
  /** Invocations per workgroup of the optimizer and roofline kernels (default 256). */
  workgroupSize?: number;
}

/** A way to run TF.js on one backend (loaded by the page; absent in Node). */
export interface TfjsRunner {
  setup(opt: BenchOptimizer, sizes: number[]): Promise<{ steps(k: number): Promise<void>; dispose(): void } | { skipped: string }>;
}

/** Runs the fast CPU kernel on worker threads (Node only). */
export interface WorkerRunner {
  threads: number;
  setup(opt: BenchOptimizer, elements: number): Promise<{ steps(k: number, t0: number): Promise<void>; dispose(): Promise<void> }>;
}

export interface SuiteEnv {
  tfjs?: Partial<Record<'tfjsWebgpu' | 'tfjsCpu', TfjsRunner>>;
  workers?: WorkerRunner;
  progress?: (message: string, done: number, total: number) => void;
}

export interface SuiteResults {
  rows: Row[];
  hostCost: HostCostRow[];
  clock: Measurement['clock'];
}

const isMeasurement = (o: Outcome | undefined): o is Measurement => !!o && 'median' in o;

function seedTensors(sizes: number[]) {
  return sizes.map((n, i) => {
    const data = new Float32Array(n);
    for (let k = 0; k < n; k += 97) data[k] = Math.sin(k + i);
    return { name: `t${i}`, data };
  });
}

export async function runSuite(device: GPUDevice, env: SuiteEnv, cfg: SuiteConfig): Promise<SuiteResults> {
  const hasTimestamps = device.features.has('timestamp-query');
  const clockKind: Measurement['clock'] = hasTimestamps ? 'gpu-timestamps' : 'wall';
  const clock = hasTimestamps ? createTimestampClock(device) : undefined;
  const maxElements = Math.floor(Math.min(device.limits.maxBufferSize, 2 ** 31) / 4);
  const allWorkloads = workloads(cfg.quick, maxElements);
  const chosenWorkloads = allWorkloads.filter((w) => !cfg.workloads || cfg.workloads.some((s) => w.label.includes(s)));
  const chosenOptimizers = OPTIMIZERS.filter((o) => !cfg.optimizers || cfg.optimizers.includes(o.label) || cfg.optimizers.includes(o.name));
  // A filter that matches nothing is a typo, not an empty benchmark.
  for (const name of cfg.optimizers ?? []) {
    if (!OPTIMIZERS.some((o) => o.label === name || o.name === name)) {
      throw new Error(`--optimizers: no optimizer "${name}"; known: ${OPTIMIZERS.map((o) => o.label).join(', ')}`);
    }
  }
  for (const part of cfg.workloads ?? []) {
    if (!allWorkloads.some((w) => w.label.includes(part))) {
      throw new Error(`--workloads: no workload matches "${part}"; known: ${allWorkloads.map((w) => w.label).join(', ')}`);
    }
  }
  const modes = new Set<Mode>(cfg.modes ?? (Object.keys(MODE_LABELS) as Mode[]));
  const total = chosenWorkloads.length * chosenOptimizers.length;
  let done = 0;
  const rows: Row[] = [];

  const gpuRun = (record: (encoder: GPUCommandEncoder, k: number) => void, submitEach: (k: number) => void, wall = false) =>
    async (k: number): Promise<number> => {
      if (clock && !wall) return clock.time((encoder) => record(encoder, k));
      const t0 = performance.now();
      submitEach(k);
      await device.queue.onSubmittedWorkDone();
      return performance.now() - t0;
    };

  for (const workload of chosenWorkloads) {
    const elements = totalElements(workload);
    for (const opt of chosenOptimizers) {
      const row: Row = {
        optimizer: opt.label,
        workload: workload.label,
        elements,
        tensors: workload.sizes.length,
        bytesPerElement: (opt.reads + opt.writes) * 4,
        results: {},
      };
      const note = (mode: Mode) => env.progress?.(`${opt.label} · ${workload.label} · ${MODE_LABELS[mode]}`, done, total);
      const attempt = async (mode: Mode, body: () => Promise<Outcome>) => {
        if (!modes.has(mode)) return;
        note(mode);
        try {
          row.results[mode] = await body();
        } catch (error) {
          row.results[mode] = { error: String((error as Error)?.message ?? error) };
        }
      };

      // Packed and per-tensor are timed twice where timestamps exist: GPU time of the passes, and
      // wall time per submitted step, which includes the host-side encoding cost.
      for (const wall of clock ? [false, true] : [false]) await attempt(wall ? 'fusedWall' : 'fused', async () => {
        const params = createParameterSet(device, seedTensors(workload.sizes), { label: 'bench:fused', workgroupSize: cfg.workgroupSize });
        const o = createOptimizer(opt.name, params, opt.options as never);
        try {
          return await measure(
            gpuRun(
              (encoder, k) => {
                for (let s = 0; s < k; s++) o.step(encoder, { timestampWrites: k === 1 ? clock!.both : s === 0 ? clock!.begin : s === k - 1 ? clock!.end : undefined });
              },
              (k) => {
                for (let s = 0; s < k; s++) o.step();
              },
              wall,
            ),
            cfg.timing,
            wall ? 'wall' : clockKind,
          );
        } finally {
          o.destroy();
          params.destroy();
        }
      });

      for (const wall of clock ? [false, true] : [false]) await attempt(wall ? 'perTensorWall' : 'perTensor', async () => {
        const sets: ParameterSet[] = [];
        const opts: Optimizer<any>[] = [];
        for (const t of seedTensors(workload.sizes)) {
          const params = createParameterSet(device, [t], { label: 'bench:perTensor', workgroupSize: cfg.workgroupSize });
          sets.push(params);
          opts.push(createOptimizer(opt.name, params, opt.options as never));
        }
        try {
          const last = opts.length - 1;
          return await measure(
            gpuRun(
              (encoder, k) => {
                for (let s = 0; s < k; s++) {
                  opts.forEach((o, i) => {
                    const first = s === 0 && i === 0;
                    const end = s === k - 1 && i === last;
                    o.step(encoder, { timestampWrites: first && end ? clock!.both : first ? clock!.begin : end ? clock!.end : undefined });
                  });
                }
              },
              (k) => {
                for (let s = 0; s < k; s++) {
                  const encoder = device.createCommandEncoder({ label: 'bench:perTensor' });
                  for (const o of opts) o.step(encoder);
                  device.queue.submit([encoder.finish()]);
                }
              },
              wall,
            ),
            cfg.timing,
            wall ? 'wall' : clockKind,
          );
        } finally {
          for (const o of opts) o.destroy();
          for (const p of sets) p.destroy();
        }
      });

      await attempt('roofline', async () => {
        const roof = createRoofline(device, Math.ceil(elements / 64) * 64, opt.reads, opt.writes, cfg.workgroupSize);
        try {
          return await measure(
            gpuRun(
              (encoder, k) => {
                for (let s = 0; s < k; s++) roof.record(encoder, k === 1 ? clock!.both : s === 0 ? clock!.begin : s === k - 1 ? clock!.end : undefined);
              },
              (k) => {
                for (let s = 0; s < k; s++) {
                  const encoder = device.createCommandEncoder({ label: 'bench:roofline' });
                  roof.record(encoder);
                  device.queue.submit([encoder.finish()]);
                }
              },
            ),
            cfg.timing,
            clockKind,
          );
        } finally {
          roof.destroy();
        }
      });

      await attempt('cpuFast', async () => {
        const st = makeCpuState(elements);
        const kernel = fastCpuKernel(opt);
        let t = 0;
        return measure(async (k) => {
          const t0 = performance.now();
          for (let s = 0; s < k; s++) kernel(st, ++t, 0, elements);
          return performance.now() - t0;
        }, cfg.timing, 'wall');
      });

      await attempt('cpuWorkers', async () => {
        if (!env.workers) return { skipped: 'worker threads are measured in Node (npm run bench:node)' };
        const runner = await env.workers.setup(opt, elements);
        let t = 0;
        try {
          return await measure(async (k) => {
            const t0 = performance.now();
            await runner.steps(k, t);
            t += k;
            return performance.now() - t0;
          }, cfg.timing, 'wall');
        } finally {
          await runner.dispose();
        }
      });

      await attempt('cpuReference', async () => {
        if (elements > cfg.slowCpuLimit) return { skipped: `over ${cfg.slowCpuLimit} elements (slow path)` };
        const ref = createReferenceOptimizer(opt.name, seedTensors(workload.sizes), opt.options as never);
        const grads = workload.sizes.map((n) => new Float32Array(n).fill(0.01));
        return measure(async (k) => {
          const t0 = performance.now();
          for (let s = 0; s < k; s++) ref.step(grads);
          return performance.now() - t0;
        }, { ...cfg.timing, reps: Math.min(cfg.timing.reps, 5) }, 'wall');
      });

      for (const mode of ['tfjsWebgpu', 'tfjsCpu'] as const) {
        await attempt(mode, async () => {
          const runner = env.tfjs?.[mode];
          if (!runner) return { skipped: 'TF.js is measured in the browser run' };
          if (mode === 'tfjsCpu' && elements > cfg.slowCpuLimit) return { skipped: `over ${cfg.slowCpuLimit} elements (slow path)` };
          const session = await runner.setup(opt, workload.sizes);
          if ('skipped' in session) return session;
          try {
            return await measure(async (k) => {
              const t0 = performance.now();
              await session.steps(k);
              return performance.now() - t0;
            }, cfg.timing, 'wall');
          } finally {
            session.dispose();
          }
        });
      }
      rows.push(row);
      done++;
    }
  }

  env.progress?.('host cost of step() vs tensor count', done, total);
  const hostCost = await measureHostCost(device, cfg);
  return { rows, hostCost, clock: clockKind };
}

/** JS time of step(encoder) + finish + submit as the tensor count grows (64 elements each). */
async function measureHostCost(device: GPUDevice, cfg: SuiteConfig): Promise<HostCostRow[]> {
  const counts = cfg.quick ? [1, 100, 1000] : [1, 10, 100, 1000, 10000];
  const out: HostCostRow[] = [];
  for (const tensors of counts) {
    const params = createParameterSet(device, seedTensors(Array(tensors).fill(64)), { label: 'bench:host' });
    const o = createOptimizer('adam', params);
    const samples: number[] = [];
    for (let rep = 0; rep < Math.max(5, cfg.timing.reps); rep++) {
      // Enough steps per repetition for a browser's coarse performance.now() (0.1 ms here).
      const k = 200;
      const t0 = performance.now();
      for (let s = 0; s < k; s++) {
        const encoder = device.createCommandEncoder({ label: 'bench:host' });
        o.step(encoder);
        device.queue.submit([encoder.finish()]);
      }
      samples.push(((performance.now() - t0) / k) * 1000);
      await device.queue.onSubmittedWorkDone();
    }
    samples.sort((a, b) => a - b);
    out.push({ tensors, medianUs: samples[samples.length >> 1]!, minUs: samples[0]!, maxUs: samples[samples.length - 1]! });
    o.destroy();
    params.destroy();
  }
  return out;
}

export { isMeasurement };
export type { Measurement, Workload };
