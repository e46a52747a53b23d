/**
 * Muon's rows: the Newton–Schulz work of every matrix set, in GFLOP/s and as a share of the
 * adapter's f32 FMA peak where it is known; Muon's step against AdamW's step on the same set; and
 * the jax-js peer (Muon written in its numpy API, jit-compiled); bench/muon-report.mjs renders them. FLOPs are those of the full
 * products, the usual count (per Newton–Schulz step of an m × n X: 2m²n for XXᵀ, 2m³ for A·A,
 * 2m²n for B'·X), whatever the kernel skips (the pass computes half of each symmetric product).
 */
import { createOptimizer, createParameterSet } from '../src/index.js';
import type { createGpuTimer } from './gpu-timer.js';
import type { JaxMuonRunner } from './jaxjs-muon.js';
import { measure, type Measurement, type TimingConfig } from './timing.js';

export type MuonOutcome = Measurement | { skipped: string } | { error: string };

export interface MuonRow {
  set: string;
  matrices: number;
  elements: number;
  /** FLOPs of the Newton–Schulz iteration per step (5 steps, full products). */
  nsFlops: number;
  muon: MuonOutcome;
  adamw: MuonOutcome;
  jax: MuonOutcome;
  /** Which Newton–Schulz GEMM variant the Muon step ran, and whether the device offers subgroups. */
  gemms?: string;
}

export interface MuonSet {
  label: string;
  shapes: [number, number][];
}

const NS_STEPS = 5;

/** GPT-2-small-like: 12 layers × (4 × 768², 768 × 3072, 3072 × 768); 2000 small; one 4096². --quick: much smaller. */
export function muonSets(quick: boolean): MuonSet[] {
  const layers = (count: number, d: number): [number, number][] =>
    Array.from({ length: count }, () => [[d, d], [d, d], [d, d], [d, d], [d, 4 * d], [4 * d, d]] as [number, number][]).flat();
  return quick
    ? [
        { label: '2 layers × (4 × 96², 96 × 384, 384 × 96)', shapes: layers(2, 96) },
        { label: '200 × 16²', shapes: Array.from({ length: 200 }, () => [16, 16]) },
        { label: '256 × 256', shapes: [[256, 256]] },
      ]
    : [
        { label: 'GPT-2 small: 12 × (4 × 768², 768 × 3072, 3072 × 768)', shapes: layers(12, 768) },
        { label: '2000 × 64²', shapes: Array.from({ length: 2000 }, () => [64, 64]) },
        { label: '4096 × 4096', shapes: [[4096, 4096]] },
      ];
}

/** FLOPs of one Newton–Schulz run (NS_STEPS steps) over the set. */
export function nsFlops(shapes: readonly [number, number][]): number {
  return shapes.reduce((sum, [r, c]) => {
    const m = Math.min(r, c), n = Math.max(r, c);
    return sum + NS_STEPS * (4 * m * m * n + 2 * m * m * m);
  }, 0);
}

function tensorsOf(shapes: readonly [number, number][]) {
  return shapes.map(([r, c], i) => {
    const data = new Float32Array(r * c);
    for (let k = 0; k < data.length; k += 97) data[k] = Math.sin(k + i);
    return { name: `m${i}`, shape: [r, c], data };
  });
}

function gradientsOf(shapes: readonly [number, number][]) {
  return shapes.map(([r, c], i) => Float32Array.from({ length: r * c }, (_, k) => Math.sin(k * 0.37 + i) * 10 ** (-3 + 2 * ((k * 0.6180339887) % 1))));
}

/** One optimizer's packed step on the set (GPU time where timestamps exist). */
async function timeStep(device: GPUDevice, timer: ReturnType<typeof createGpuTimer>, timing: TimingConfig, name: 'muon' | 'adamw', set: MuonSet): Promise<MuonOutcome> {
  const bytes = set.shapes.reduce((s, [r, c]) => s + r * c * 4, 0);
  const params = createParameterSet(device, tensorsOf(set.shapes), { label: `bench:${name}` });
  try {
    params.writeGrads(gradientsOf(set.shapes));
    const o = createOptimizer(name, params, { lr: 0.02 });
    try {
      return await measure(timer.steps(o), timing, timer.clock);
    } finally {
      o.destroy();
    }
  } catch (error) {
    const message = String((error as Error)?.message ?? error);
    // A set the device cannot hold (4096² needs a 320 MiB scratch binding) is reported, not an error.
    return /storage binding limit|maxBufferSize/.test(message) ? { skipped: `${(bytes / 2 ** 20).toFixed(0)} MiB of matrices: ${message}` } : { error: message };
  } finally {
    params.destroy();
  }
}

/** The GEMM variant Muon's registered pass runs on `device` (its subgroup variant is off: docs/semantics.md, Muon). */
function gemmVariant(device: GPUDevice): string {
  return `workgroup-memory staging, vec4 loads where m and n are multiples of 4, split-K for long, thin matrices; the subgroup variant is off in Muon's pass (this device ${device.features.has('subgroups') ? 'has' : 'has no'} 'subgroups')`;
}

/** Every Muon row: our Muon, our AdamW, jax-js's Muon, per set. */
export async function measureMuon(
  device: GPUDevice,
  timer: ReturnType<typeof createGpuTimer>,
  timing: TimingConfig,
  quick: boolean,
  jax: JaxMuonRunner | undefined,
  progress?: (message: string) => void,
): Promise<MuonRow[]> {
  const rows: MuonRow[] = [];
  for (const set of muonSets(quick)) {
    const row: MuonRow = { set: set.label, matrices: set.shapes.length, elements: set.shapes.reduce((s, [r, c]) => s + r * c, 0), nsFlops: nsFlops(set.shapes), muon: { skipped: '' }, adamw: { skipped: '' }, jax: { skipped: '' }, gemms: gemmVariant(device) };
    progress?.(`Muon · ${set.label}`);
    row.muon = await timeStep(device, timer, timing, 'muon', set);
    progress?.(`AdamW · ${set.label}`);
    row.adamw = await timeStep(device, timer, timing, 'adamw', set);
    progress?.(`jax-js Muon · ${set.label}`);
    row.jax = jax ? await jax.time(set.shapes, timing) : { skipped: 'jax-js is not loaded in this run' };
    rows.push(row);
  }
  return rows;
}
