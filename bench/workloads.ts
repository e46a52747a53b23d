/** What the benchmark measures: optimizers, tensor workloads, and the bytes each step must move. */

export interface BenchOptimizer {
  /** Label in tables. */
  label: string;
  name: 'sgd' | 'adagrad' | 'rmsprop' | 'adadelta' | 'adam' | 'adamw';
  options: Record<string, unknown>;
  /** f32 arrays read and written per element by the optimizer (the roofline kernel moves the same). */
  reads: number;
  writes: number;
}

export const OPTIMIZERS: BenchOptimizer[] = [
  { label: 'sgd+momentum', name: 'sgd', options: { lr: 0.01, momentum: 0.9 }, reads: 3, writes: 2 },
  { label: 'adagrad', name: 'adagrad', options: {}, reads: 3, writes: 2 },
  { label: 'rmsprop', name: 'rmsprop', options: {}, reads: 3, writes: 2 },
  { label: 'adadelta', name: 'adadelta', options: {}, reads: 4, writes: 3 },
  { label: 'adam', name: 'adam', options: {}, reads: 4, writes: 3 },
  { label: 'adamw', name: 'adamw', options: {}, reads: 4, writes: 3 },
];

export interface Workload {
  label: string;
  /** Tensor sizes in elements. */
  sizes: number[];
}

/** Tensor shapes of a small GPT-style transformer (d=256, 4 layers, vocab 8192, context 256). */
function transformerMix(): number[] {
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
  return [
    ...single.map((n) => ({ label: `1 × ${formatCount(n)}`, sizes: [n] })),
    quick ? { label: '200 × 2048', sizes: Array(200).fill(2048) } : { label: '2000 × 2048', sizes: Array(2000).fill(2048) },
    { label: quick ? 'MLP 784-128-10' : 'transformer d256 L4', sizes: quick ? [784 * 128, 128, 128 * 10, 10] : transformerMix() },
  ];
}

export function formatCount(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)}M`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)}K`;
  return String(n);
}

export const totalElements = (w: Workload) => w.sizes.reduce((a, b) => a + b, 0);
