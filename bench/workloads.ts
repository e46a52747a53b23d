/** What the benchmark measures: optimizers, tensor workloads, and the bytes each step must move. */

import { resolveConfig } from '../src/core/config.js';
import { getDefinition, type OptimizerName } from '../src/optimizers/registry.js';

export interface BenchOptimizer {
  /** Label in tables. */
  label: string;
  name: OptimizerName;
  options: Record<string, unknown>;
  /** f32 arrays read and written per element by the optimizer (the roofline kernel moves the same). */
  reads: number;
  writes: number;
  /** Why the optimizer takes no 8-bit state (its definition's noQ8State): the q8 column is skipped, saying so. */
  noQ8?: string;
}

/**
 * The configuration of every registered optimizer that the benchmark runs, or why it is left out.
 * Keyed by the registry: an optimizer registered without an entry here does not compile.
 */
const BENCHMARKED: { readonly [K in OptimizerName]: { label: string; options: Record<string, unknown>; traffic?: { reads: number; writes: number } } | { skip: string } } = {
  sgd: { label: 'sgd+momentum', options: { lr: 0.01, momentum: 0.9 } },
  ema_momentum: { skip: 'the SGD kernel with other scalars: the sgd+momentum row measures it' },
  adagrad: { label: 'adagrad', options: {} },
  rmsprop: { label: 'rmsprop', options: {} },
  adadelta: { label: 'adadelta', options: {} },
  adam: { label: 'adam', options: {} },
  adamw: { label: 'adamw', options: {} },
  adamax: { label: 'adamax', options: {} },
  nadam: { label: 'nadam', options: {} },
  radam: { label: 'radam', options: {} },
  rprop: { label: 'rprop', options: {} },
  lion: { label: 'lion', options: {} },
  adamw_schedule_free: { label: 'adamw-schedulefree', options: {} },
  adamw_schedule_free_paper: { label: 'adamw-schedulefree-paper', options: {} },
  // Layer-wise: the partials pass reads p, g, m, v and writes m, v; the update reads p, m, v, writes p.
  lamb: { label: 'lamb', options: { lr: 1e-3 }, traffic: { reads: 7, writes: 3 } },
  // The partials pass reads p, g; the update reads p, g, trace and writes p, trace.
  lars: { label: 'lars', options: { lr: 0.1 }, traffic: { reads: 5, writes: 2 } },
  // The benchmark's tensors are vectors (no shape): the partials pass reads p, g, v and writes v;
  // the update reads p, g, v and writes p. A matrix also reads g once per row and column pass.
  adafactor: { label: 'adafactor', options: {}, traffic: { reads: 6, writes: 2 } },
  ademamix: { label: 'ademamix', options: {} },
  // Two dispatches over the elements (and a one-invocation fold): the partials read p, g, m, v, s, p0
  // and write m, v, s; the update (β₁ > 0) reads p, m, v and writes p. lr 1: the authors' advice.
  prodigy: { label: 'prodigy', options: {}, traffic: { reads: 9, writes: 4 } },
  muon: { skip: 'not element-wise: its step is matrix products over the matrices of a set, which the Newton–Schulz rows measure, not these flat tensors' },
};

/** Arrays the kernel reads (parameter, gradient, each state slot) and writes (parameter, each slot). */
function traffic(name: OptimizerName, options: Record<string, unknown>): { reads: number; writes: number } {
  const definition = getDefinition(name);
  const slots = definition.slots(resolveConfig(definition, ['x'], options).defines).length;
  return { reads: 2 + slots, writes: 1 + slots };
}

/** The definition's reason for refusing 8-bit state with these options, if it has one. */
function noQ8(name: OptimizerName, options: Record<string, unknown>): { noQ8?: string } {
  const definition = getDefinition(name);
  const why = definition.noQ8State?.(resolveConfig(definition, ['x'], options).defines);
  return why === undefined ? {} : { noQ8: why };
}

export const OPTIMIZERS: BenchOptimizer[] = (Object.entries(BENCHMARKED) as [OptimizerName, (typeof BENCHMARKED)[OptimizerName]][]).flatMap(
  ([name, entry]) => ('skip' in entry ? [] : [{ name, label: entry.label, options: entry.options, ...(entry.traffic ?? traffic(name, entry.options)), ...noQ8(name, entry.options) }]),
);

export interface Workload {
  label: string;
  /** Tensor sizes in elements. */
  sizes: number[];
  /** Part of the tensor-count sweep: Adam only, packed vs per-tensor vs the GPU peers. */
  sweep?: boolean;
}

/** What the tensor-count sweep measures (the step time of each layout as tensors multiply). */
export const SWEEP_MODES: readonly string[] = ['fused', 'perTensor', 'fusedWall', 'perTensorWall', 'tfjsWebgpu', 'jaxFlat', 'jaxPerTensor'];

/** Tensor shapes of a small GPT-style transformer (d=256, 4 layers, vocab 8192, context 256). */
export function transformerMix(): number[] {
  const d = 256;
  const sizes = [8192 * d, 256 * d]; // token and position embeddings
  for (let layer = 0; layer < 4; layer++) {
    sizes.push(d, d); // layer norm 1
    sizes.push(d * 3 * d, 3 * d); // qkv
    sizes.push(d * d, d); // attention projection
    sizes.push(d, d); // layer norm 2
    sizes.push(d * 4 * d, 4 * d); // mlp up
    sizes.push(4 * d * d, d); // mlp down
  }
  sizes.push(d, d); // final layer norm
  return sizes;
}

export function workloads(quick: boolean, maxElements: number): Workload[] {
  const single = (quick ? [1 << 16, 1 << 18] : [1 << 20, 1 << 22, 1 << 24, 1 << 26]).filter((n) => n <= maxElements);
  // 2048-element tensors, more and more of them (the full 2000 × 2048 row completes the sweep).
  const counts = quick ? [1, 20] : [1, 10, 100, 500];
  return [
    ...single.map((n) => ({ label: `1 × ${formatCount(n)}`, sizes: [n] })),
    quick ? { label: '200 × 2048', sizes: Array(200).fill(2048) } : { label: '2000 × 2048', sizes: Array(2000).fill(2048) },
    { label: quick ? 'MLP 784-128-10' : 'transformer d256 L4', sizes: quick ? [784 * 128, 128, 128 * 10, 10] : transformerMix() },
    ...counts.map((n) => ({ label: `sweep ${n} × 2048`, sizes: Array(n).fill(2048), sweep: true })),
  ];
}

export function formatCount(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)}M`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)}K`;
  return String(n);
}

export const totalElements = (w: Workload) => w.sizes.reduce((a, b) => a + b, 0);
