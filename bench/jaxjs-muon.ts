/**
 * jax-js peer of Muon: torch.optim.Muon's step written in jax-js's numpy API and `jit`-compiled per
 * matrix shape, the way its users would write it (jax-js ships no optimizer): momentum lerp,
 * Nesterov lerp, X (transposed when rows > cols) over its Frobenius norm, 5 Newton–Schulz steps of
 * matmuls, the decoupled decay and the 'original' lr adjustment. One jitted call per matrix per
 * step, on its WebGPU backend; timed by the wall clock until every output is ready.
 */
import { blockUntilReady, jit, numpy as np, type Array as Arr } from '@jax-js/jax';
import { webgpuBackend } from './jaxjs.js';
import type { MuonOutcome } from './muon.js';
import { measure, type TimingConfig } from './timing.js';

const LR = 0.02;
const WEIGHT_DECAY = 0.1;
const MU = 0.95;
const EPS = 1e-7;
const [A, B, C] = [3.4445, -4.775, 2.0315];
const STEPS = 5;

/** One Muon step of a rows × cols matrix: (p, momentum, g) → (p', momentum'). */
function muonStepFor(rows: number, cols: number) {
  const tall = rows > cols;
  const scale = Math.sqrt(Math.max(1, rows / cols));
  return jit((p: Arr, buf: Arr, g: Arr): [Arr, Arr] => {
    const b = buf.ref.add(g.ref.sub(buf).mul(1 - MU));
    const u = g.ref.add(b.ref.sub(g).mul(MU));
    let x = tall ? np.matrixTranspose(u) : u;
    x = x.ref.div(np.maximum(np.sqrt(np.sum(np.square(x))), EPS));
    for (let k = 0; k < STEPS; k++) {
      const gram = np.matmul(x.ref, np.matrixTranspose(x.ref));
      const poly = gram.ref.mul(B).add(np.matmul(gram.ref, gram).mul(C));
      x = x.ref.mul(A).add(np.matmul(poly, x));
    }
    const o = tall ? np.matrixTranspose(x) : x;
    return [p.mul(1 - LR * WEIGHT_DECAY).sub(o.mul(LR * scale)), b];
  });
}

export interface JaxMuonRunner {
  time(shapes: readonly [number, number][], timing: TimingConfig): Promise<MuonOutcome>;
}

export function jaxMuonRunner(): JaxMuonRunner {
  const steps = new Map<string, ReturnType<typeof muonStepFor>>();
  const stepOf = (r: number, c: number) => {
    const key = `${r}x${c}`;
    if (!steps.has(key)) steps.set(key, muonStepFor(r, c));
    return steps.get(key)!;
  };
  return {
    async time(shapes, timing) {
      if (!(await webgpuBackend())) return { skipped: 'jax-js webgpu backend unavailable' };
      let p = shapes.map(([r, c]) => np.full([r, c], 0.5));
      let m = shapes.map(([r, c]) => np.zeros([r, c]));
      const g = shapes.map(([r, c]) => np.full([r, c], 0.01));
      try {
        return await measure(async (k) => {
          const t0 = performance.now();
          for (let s = 0; s < k; s++) {
            const next = p.map((pi, i) => stepOf(...shapes[i]!)(pi, m[i]!, g[i]!.ref));
            p = next.map((r) => r[0]);
            m = next.map((r) => r[1]);
          }
          await blockUntilReady([p, m]);
          return performance.now() - t0;
        }, timing, 'wall');
      } catch (error) {
        return { error: String((error as Error)?.message ?? error) };
      } finally {
        for (const a of [...p, ...m, ...g]) a.dispose();
      }
    },
  };
}
