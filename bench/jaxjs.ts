/**
 * jax-js peer: Adam written in jax-js's numpy API and `jit`-compiled, the way its users write an
 * optimizer (jax-js ships none), on its WebGPU backend. Two layouts:
 * - `flat`: parameters, moments and gradients as one concatenated array each, one jitted call per
 *   step (the packed layout, written by hand);
 * - `perTensor`: one jitted call per tensor per step (the layout of a model's parameter tree).
 * The step-dependent scalars (lr / bias correction 1, √bias correction 2) go in as 1-element
 * arrays so that one compiled kernel serves every step.
 */
import { blockUntilReady, defaultDevice, init, jit, numpy as np, type Array as Arr } from '@jax-js/jax';
import type { BenchOptimizer } from './workloads.js';

export type JaxLayout = 'flat' | 'perTensor';

export interface JaxRunner {
  setup(opt: BenchOptimizer, sizes: number[], layout: JaxLayout): Promise<{ steps(k: number): Promise<void>; dispose(): void } | { skipped: string }>;
}

const B1 = 0.9;
const B2 = 0.999;
const EPS = 1e-8;
const LR = 1e-3;

/** One Adam step (PyTorch's formula: eps added after dividing √v by √bias correction 2). */
const adamStep = jit((p: Arr, m: Arr, v: Arr, g: Arr, stepSize: Arr, sqrtBc2: Arr): [Arr, Arr, Arr] => {
  const m1 = m.mul(B1).add(g.ref.mul(1 - B1));
  const v1 = v.mul(B2).add(np.square(g).mul(1 - B2));
  const denominator = np.sqrt(v1.ref).div(sqrtBc2).add(EPS);
  return [p.sub(m1.ref.div(denominator).mul(stepSize)), m1, v1];
});

let ready: Promise<boolean> | undefined;

/** Starts jax-js's WebGPU backend once (it requests its own device from navigator.gpu). */
export function webgpuBackend(): Promise<boolean> {
  ready ??= init().then((devices) => {
    if (!devices.includes('webgpu')) return false;
    defaultDevice('webgpu');
    return true;
  });
  return ready;
}

export function jaxRunner(): JaxRunner {
  return {
    async setup(opt, sizes, layout) {
      if (opt.name !== 'adam') return { skipped: 'jax-js has no optimizers; the comparison is Adam written in its numpy API' };
      if (!(await webgpuBackend())) return { skipped: 'jax-js webgpu backend unavailable' };
      const shapes = layout === 'flat' ? [sizes.reduce((a, b) => a + b, 0)] : sizes;
      let p = shapes.map((n) => np.full([n], 0.5));
      let m = shapes.map((n) => np.zeros([n]));
      let v = shapes.map((n) => np.zeros([n]));
      const g = shapes.map((n) => np.full([n], 0.01));
      let t = 0;
      return {
        async steps(k) {
          for (let s = 0; s < k; s++) {
            t++;
            const stepSize = np.array([LR / (1 - B1 ** t)]);
            const sqrtBc2 = np.array([Math.sqrt(1 - B2 ** t)]);
            const next = p.map((pi, i) => adamStep(pi, m[i]!, v[i]!, g[i]!.ref, stepSize.ref, sqrtBc2.ref));
            stepSize.dispose();
            sqrtBc2.dispose();
            p = next.map((r) => r[0]);
            m = next.map((r) => r[1]);
            v = next.map((r) => r[2]);
          }
          // jax-js computes each array when it is needed: wait for every output, not only the last
          // (waiting for one tensor left the others' updates uncounted).
          await blockUntilReady([p, m, v]);
        },
        dispose() {
          for (const a of [...p, ...m, ...v, ...g]) a.dispose();
        },
      };
    },
  };
}
