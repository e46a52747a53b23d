/**
 * The benchmark itself, independent of where it runs (a browser page or Node with Dawn): for each
 * optimizer × workload it measures the packed fused step, the same kernel dispatched per tensor,
 * the roofline copy kernel, CPU baselines and TF.js, and the host-side cost of step().
 */
import { createOptimizer, createParameterSet, createReferenceOptimizer, type Optimizer, type ParameterSet, type StateFormat } from '../src/index.js';
import { cpuLoopFor, makeCpuState } from './cpu-kernels.js';
import { createGpuTimer } from './gpu-timer.js';
import type { JaxRunner } from './jaxjs.js';
import type { JaxMuonRunner } from './jaxjs-muon.js';
import { measureMuon, type MuonRow } from './muon.js';
import { measureKernelShapes, type KernelShapeRow } from './kernel-shapes.js';
import { createRoofline } from './roofline.js';
import { measure, type Measurement, type TimingConfig } from './timing.js';
import type { FitRow, measureFit } from './fit.js';
import type { CnnSizeName } from '../common/cnn/model.js';
import { OPTIMIZERS, SWEEP_MODES, totalElements, workloads, type BenchOptimizer, type Workload } from './workloads.js';

export type Mode =
  | 'fused'
  | 'perTensor'
  | 'fusedBf16'
  | 'fusedF16'
  | 'fusedQ8'
  | 'fusedQ4'
  | 'fusedWall'
  | 'perTensorWall'
  | 'roofline'
  | 'cpuReference'
  | 'cpuFast'
  | 'cpuWorkers'
  | 'tfjsWebgpu'
  | 'tfjsCpu'
  | 'jaxFlat'
  | 'jaxPerTensor';

export const MODE_LABELS: Record<Mode, string> = {
  fused: 'webgpu-optim packed (1 dispatch)',
  fusedBf16: 'packed, bf16 state',
  fusedF16: 'packed, f16 state',
  fusedQ8: 'packed, 8-bit block-wise state',
  fusedQ4: 'packed, 4-bit block-wise state',
  perTensor: 'same kernel, 1 dispatch per tensor',
  fusedWall: 'packed, wall clock (submit each step)',
  perTensorWall: 'per tensor, wall clock (submit each step)',
  roofline: 'roofline copy kernel',
  cpuReference: 'CPU reference (f32-exact)',
  cpuFast: 'CPU plain-JS loop',
  cpuWorkers: 'CPU plain-JS, worker threads',
  tfjsWebgpu: 'TF.js webgpu',
  tfjsCpu: 'TF.js cpu',
  jaxFlat: 'jax-js webgpu, jit, one concatenated array',
  jaxPerTensor: 'jax-js webgpu, jit, one call per tensor',
};

export type Outcome = Measurement | { skipped: string } | { error: string };

export interface Row {
  optimizer: string;
  workload: string;
  elements: number;
  tensors: number;
  /** Bytes the optimizer must move per element (reads + writes) × 4. */
  bytesPerElement: number;
  /** Bytes of optimizer state per parameter (`Optimizer.stateBytes` ÷ elements), by state format measured. */
  stateBytesPerParam?: Partial<Record<StateFormat, number>>;
  /** Bytes of every GPU buffer the optimizer holds per parameter (`Optimizer.allocatedBytes` ÷ elements: state, tables, scratch, control), by state format. */
  allocatedBytesPerParam?: Partial<Record<StateFormat, number>>;
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
  /** vec4s per invocation of the optimizer and roofline kernels (default 1). */
  vectorsPerInvocation?: number;
  /** Run the kernel-shape experiment (workgroup size × vec4s per invocation). */
  kernelShapes?: boolean;
  /** Include the tensor-count sweep (Adam, 2048-element tensors; default true). */
  sweep?: boolean;
  /** Time TF.js model.fit epochs of these demo CNNs, TF.js's Adam against webgpu-optim's (none: skip). */
  fit?: { networks: readonly CnnSizeName[]; epochs: number };
  /** Muon's rows (bench/muon.ts): Newton–Schulz GFLOP/s, Muon vs AdamW, jax-js's Muon. */
  muon?: boolean;
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
  jax?: JaxRunner;
  /** jax-js's Muon (bench/jaxjs-muon.ts), where jax-js is loaded. */
  jaxMuon?: JaxMuonRunner;
  workers?: WorkerRunner;
  progress?: (message: string, done: number, total: number) => void;
  /** Called with every row measured so far after each row, so a run cut short loses nothing measured. */
  onRows?: (rows: Row[]) => void;
  /** TF.js model.fit timing (bench/fit.ts), where TF.js is loaded. */
  fit?: typeof measureFit;
}

export interface SuiteResults {
  rows: Row[];
  hostCost: HostCostRow[];
  kernelShapes: KernelShapeRow[];
  fit: FitRow[];
  muon: MuonRow[];
  clock: Measurement['clock'];
  /** What the timed GPU steps read as gradients (seedGradients); results without it were timed on zero gradients. */
  gradients: 'seeded';
}

const isMeasurement = (o: Outcome | undefined): o is Measurement => !!o && 'median' in o;

function seedTensors(sizes: number[]) {
  return sizes.map((n, i) => {
    const data = new Float32Array(n);
    for (let k = 0; k < n; k += 97) data[k] = Math.sin(k + i);
    return { name: `t${i}`, data };
  });
}

// The last workload's gradients only: rows come workload by workload, and the largest takes 256 MB.
let lastGradients: { workload: Workload; grads: Float32Array[] } | undefined;

/**
 * The gradients every timed GPU step reads (the packed, per-tensor and state-format columns):
 * both signs, magnitudes spread over 1e-3 … 1e-1 in every block, the same for every column of a
 * workload. Zero gradients would keep the moments at 0, and an 8-bit step of all-zero runs skips
 * its encoding (a run of absmax 0 takes 0's code at once): a case training never sees.
 */
function seedGradients(workload: Workload): Float32Array[] {
  if (lastGradients?.workload !== workload) {
    lastGradients = undefined; // free the previous workload's arrays before making these
    const grads = workload.sizes.map((n, i) => {
      const g = new Float32Array(n);
      for (let k = 0; k < n; k++) g[k] = Math.sin(k * 0.37 + i) * 10 ** (-3 + 2 * ((k * 0.6180339887) % 1));
      return g;
    });
    lastGradients = { workload, grads };
  }
  return lastGradients.grads;
}

/** The workloads and optimizers the filters keep; a filter that matches nothing is a typo, not an empty benchmark. */
function choose(cfg: SuiteConfig, maxElements: number) {
  const allWorkloads = workloads(cfg.quick, maxElements);
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
  const optimizers = OPTIMIZERS.filter((o) => !cfg.optimizers || cfg.optimizers.includes(o.label) || cfg.optimizers.includes(o.name));
  // The tensor-count sweep compares Adam across layouts and peers only.
  const pairs = allWorkloads
    .filter((w) => !cfg.workloads || cfg.workloads.some((part) => w.label.includes(part)))
    .filter((w) => cfg.sweep !== false || !w.sweep)
    .flatMap((workload) => optimizers.filter((o) => !workload.sweep || o.name === 'adam').map((opt) => ({ workload, opt })));
  if (pairs.length === 0) throw new Error('the filters leave nothing to measure');
  return pairs;
}

export async function runSuite(device: GPUDevice, env: SuiteEnv, cfg: SuiteConfig): Promise<SuiteResults> {
  const timer = createGpuTimer(device);
  const maxElements = Math.floor(Math.min(device.limits.maxBufferSize, 2 ** 31) / 4);
  const pairs = choose(cfg, maxElements);
  const rows: Row[] = [];
  for (const [done, { workload, opt }] of pairs.entries()) {
    const elements = totalElements(workload);
    const row: Row = { optimizer: opt.label, workload: workload.label, elements, tensors: workload.sizes.length, bytesPerElement: (opt.reads + opt.writes) * 4, results: {} };
    const modes = new Set<Mode>((cfg.modes ?? (Object.keys(MODE_LABELS) as Mode[])).filter((m) => !workload.sweep || SWEEP_MODES.includes(m)));
    const attempt = async (mode: Mode, body: () => Promise<Outcome>) => {
      if (!modes.has(mode)) return;
      env.progress?.(`${opt.label} · ${workload.label} · ${MODE_LABELS[mode]}`, done, pairs.length);
      try {
        row.results[mode] = await body();
      } catch (error) {
        row.results[mode] = { error: String((error as Error)?.message ?? error) };
      }
    };
    const context: RowContext = { device, timer, env, cfg, opt, workload, elements, attempt, row };
    await measureGpu(context);
    await measureStateFormats(context);
    await measureCpu(context);
    await measurePeers(context);
    rows.push(row);
    env.onRows?.(rows);
  }
  env.progress?.('host cost of step() vs tensor count', pairs.length, pairs.length);
  const hostCost = await measureHostCost(device, cfg);
  const kernelShapes = cfg.kernelShapes
    ? await measureKernelShapes(device, timer, cfg.timing, cfg.quick, (m) => env.progress?.(m, pairs.length, pairs.length))
    : [];
  const muon = cfg.muon ? await measureMuon(device, timer, cfg.timing, cfg.quick, env.jaxMuon, (m) => env.progress?.(m, pairs.length, pairs.length)) : [];
  const fit = cfg.fit && env.fit ? await env.fit(cfg.fit.networks, cfg.fit.epochs, (m) => env.progress?.(m, pairs.length, pairs.length)) : [];
  return { rows, hostCost, kernelShapes, fit, muon, clock: timer.clock, gradients: 'seeded' };
}

interface RowContext {
  device: GPUDevice;
  timer: ReturnType<typeof createGpuTimer>;
  env: SuiteEnv;
  cfg: SuiteConfig;
  opt: BenchOptimizer;
  workload: Workload;
  elements: number;
  attempt: (mode: Mode, body: () => Promise<Outcome>) => Promise<void>;
  row: Row;
}

/** The columns of the packed step with 16-, 8- and 4-bit state, and their format. */
const STATE_FORMAT_MODES: readonly [Mode, StateFormat][] = [
  ['fusedBf16', 'bf16'],
  ['fusedF16', 'f16'],
  ['fusedQ8', 'q8'],
  ['fusedQ4', 'q4'],
];

/** The workload a quick run times q4 on: its largest single tensor (each q4 step on SwiftShader takes about q8's time). */
const QUICK_Q4_WORKLOAD = workloads(true, Infinity).filter((w) => !w.sweep && w.sizes.length === 1).at(-1)!.label;

/** The packed step with 16-, 8- and 4-bit state (GPU time), and the state's bytes per parameter in each format. */
async function measureStateFormats({ device, timer, cfg, opt, workload, elements, attempt, row }: RowContext) {
  const shape = { workgroupSize: cfg.workgroupSize, vectorsPerInvocation: cfg.vectorsPerInvocation };
  for (const [mode, stateFormat] of STATE_FORMAT_MODES) {
    await attempt(mode, async () => {
      if (opt.name === 'adafactor' && stateFormat !== 'f32') return { skipped: 'Adafactor keeps its factored state in f32' };
      // q4 is refused exactly where q8 is (the definition's noQ8State covers both block-wise formats).
      if ((stateFormat === 'q8' || stateFormat === 'q4') && opt.noQ8 !== undefined) return { skipped: opt.noQ8 };
      if (stateFormat === 'q4' && cfg.quick && workload.label !== QUICK_Q4_WORKLOAD) return { skipped: `a quick run times q4 on ${QUICK_Q4_WORKLOAD} only, to stay short` };
      const params = createParameterSet(device, seedTensors(workload.sizes), { label: `bench:${mode}`, ...shape });
      params.writeGrads(seedGradients(workload));
      const o = createOptimizer(opt.name, params, { ...opt.options, stateFormat } as never);
      try {
        row.stateBytesPerParam = { ...row.stateBytesPerParam, [stateFormat]: o.stateBytes / elements };
        row.allocatedBytesPerParam = { ...row.allocatedBytesPerParam, [stateFormat]: o.allocatedBytes / elements };
        return await measure(timer.steps(o), cfg.timing, timer.clock);
      } finally {
        o.destroy();
        params.destroy();
      }
    });
  }
}

/** The packed step, the same kernel per tensor (GPU time and wall time each), and the roofline. */
async function measureGpu({ device, timer, cfg, opt, workload, elements, attempt, row }: RowContext) {
  const shape = { workgroupSize: cfg.workgroupSize, vectorsPerInvocation: cfg.vectorsPerInvocation };
  // Where timestamps exist, GPU time of the passes and wall time per submitted step (which
  // includes the host's encoding cost) are both measured.
  for (const wall of timer.timestamps ? [false, true] : [false]) {
    await attempt(wall ? 'fusedWall' : 'fused', async () => {
      const params = createParameterSet(device, seedTensors(workload.sizes), { label: 'bench:fused', ...shape });
      params.writeGrads(seedGradients(workload));
      const o = createOptimizer(opt.name, params, opt.options as never);
      try {
        row.stateBytesPerParam = { ...row.stateBytesPerParam, f32: o.stateBytes / elements };
        row.allocatedBytesPerParam = { ...row.allocatedBytesPerParam, f32: o.allocatedBytes / elements };
        return await measure(timer.steps(o, wall), cfg.timing, wall ? 'wall' : timer.clock);
      } finally {
        o.destroy();
        params.destroy();
      }
    });
    await attempt(wall ? 'perTensorWall' : 'perTensor', async () => {
      const sets: ParameterSet[] = seedTensors(workload.sizes).map((t) => createParameterSet(device, [t], { label: 'bench:perTensor', ...shape }));
      const grads = seedGradients(workload);
      sets.forEach((params, i) => params.writeGrads([grads[i]!]));
      const opts: Optimizer<any>[] = sets.map((params) => createOptimizer(opt.name, params, opt.options as never));
      try {
        const record = (encoder: GPUCommandEncoder, k: number) => {
          for (let s = 0; s < k; s++) opts.forEach((o, i) => o.step(encoder, { timestampWrites: timer.writes(s * opts.length + i, k * opts.length) }));
        };
        const submitEach = (k: number) => {
          for (let s = 0; s < k; s++) {
            const encoder = device.createCommandEncoder({ label: 'bench:perTensor' });
            for (const o of opts) o.step(encoder);
            device.queue.submit([encoder.finish()]);
          }
        };
        return await measure(timer.run(record, submitEach, wall), cfg.timing, wall ? 'wall' : timer.clock);
      } finally {
        for (const o of opts) o.destroy();
        for (const p of sets) p.destroy();
      }
    });
  }
  await attempt('roofline', async () => {
    const roof = createRoofline(device, Math.ceil(elements / 64) * 64, opt.reads, opt.writes, cfg.workgroupSize, cfg.vectorsPerInvocation);
    try {
      const record = (encoder: GPUCommandEncoder, k: number) => {
        for (let s = 0; s < k; s++) roof.record(encoder, timer.writes(s, k));
      };
      const submitEach = (k: number) => {
        for (let s = 0; s < k; s++) {
          const encoder = device.createCommandEncoder({ label: 'bench:roofline' });
          roof.record(encoder);
          device.queue.submit([encoder.finish()]);
        }
      };
      return await measure(timer.run(record, submitEach), cfg.timing, timer.clock);
    } finally {
      roof.destroy();
    }
  });
}

/** The plain-JS loop (one thread and worker threads) and the f32-exact reference. */
async function measureCpu({ env, cfg, opt, workload, elements, attempt }: RowContext) {
  const loop = cpuLoopFor(opt);
  await attempt('cpuFast', async () => {
    if ('skipped' in loop) return loop;
    const { kernel } = loop;
    const st = makeCpuState(elements);
    let t = 0;
    return measure(async (k) => {
      const t0 = performance.now();
      for (let s = 0; s < k; s++) kernel(st, ++t, 0, elements);
      return performance.now() - t0;
    }, cfg.timing, 'wall');
  });
  await attempt('cpuWorkers', async () => {
    if (!env.workers) return { skipped: 'worker threads are measured in Node (npm run bench:node)' };
    if ('skipped' in loop) return loop;
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
}

/** What users would otherwise pick: TF.js (webgpu, cpu) and jax-js (webgpu), timed by the wall clock. */
async function measurePeers({ env, cfg, opt, workload, elements, attempt }: RowContext) {
  const timed = async (session: { steps(k: number): Promise<void>; dispose(): void } | { skipped: string }): Promise<Outcome> => {
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
  };
  for (const mode of ['tfjsWebgpu', 'tfjsCpu'] as const) {
    await attempt(mode, async () => {
      const runner = env.tfjs?.[mode];
      if (!runner) return { skipped: 'TF.js is not loaded in this run' };
      if (mode === 'tfjsCpu' && elements > cfg.slowCpuLimit) return { skipped: `over ${cfg.slowCpuLimit} elements (slow path)` };
      return timed(await runner.setup(opt, workload.sizes));
    });
  }
  for (const [mode, layout] of [['jaxFlat', 'flat'], ['jaxPerTensor', 'perTensor']] as const) {
    await attempt(mode, async () => {
      if (!env.jax) return { skipped: 'jax-js is not loaded in this run' };
      return timed(await env.jax.setup(opt, workload.sizes, layout));
    });
  }
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
