/** Schedules and the CPU twin of clipping, loss scaling, skipping and accumulation, by hand. */
import { describe, expect, test } from 'vitest';
import { constantLr, cosineWithWarmup, createReferenceOptimizer, exponentialDecay, oneCycle, stepDecay } from '../../src/index.js';

const close = (a: number, e: number, rtol = 1e-6) => expect(Math.abs(a - e), `${a} vs ${e}`).toBeLessThanOrEqual(rtol * Math.abs(e) + 1e-12);

describe('schedules (t = steps taken, as torch schedulers stepped per iteration)', () => {
  test('constant, step decay (halve every 3 steps), exponential', () => {
    expect(constantLr()(123, 0.1)).toBe(0.1);
    expect([0, 2, 3, 5, 6, 9].map((t) => stepDecay({ stepSize: 3, gamma: 0.5 })(t, 0.8))).toEqual([0.8, 0.8, 0.4, 0.4, 0.2, 0.1]);
    close(exponentialDecay({ gamma: 0.9 })(2, 1), 0.81);
  });
  test('cosine with linear warmup', () => {
    const s = cosineWithWarmup({ warmupSteps: 4, totalSteps: 14, minLr: 0.01 });
    expect(s(0, 1)).toBe(0);
    close(s(2, 1), 0.5);
    close(s(4, 1), 1);
    close(s(9, 1), 0.505); // halfway through the cosine: (1 + 0.01) / 2
    close(s(14, 1), 0.01);
    close(s(100, 1), 0.01);
  });
  test('one-cycle (cosine): max/25 at t=0, max at pctStart·T − 1, max/(25·1e4) at T − 1', () => {
    const s = oneCycle({ totalSteps: 101, maxLr: 1, pctStart: 0.3 });
    close(s(0, 0.5), 1 / 25);
    close(s(0.3 * 101 - 1, 0.5), 1);
    close(s(100, 0.5), 1 / 25 / 1e4);
    expect(s(50, 0.5)).toBeLessThan(1);
    close(oneCycle({ totalSteps: 10 })(0, 0.5), 0.5 / 25); // maxLr defaults to the group's lr
  });
  test('bad schedule parameters', () => {
    expect(() => stepDecay({ stepSize: 0 })).toThrow(/stepSize/);
    expect(() => cosineWithWarmup({ warmupSteps: 5, totalSteps: 4 })).toThrow(/must not exceed/);
    expect(() => oneCycle({ totalSteps: 10, pctStart: 1 })).toThrow(/pctStart/);
    expect(() => exponentialDecay({ gamma: NaN })).toThrow(/gamma/);
  });
  test('the schedule drives each group from its own base lr', () => {
    const ref = createReferenceOptimizer('sgd', [{ name: 'a', data: new Float32Array([1]) }, { name: 'b', data: new Float32Array([1]) }], {
      lr: 1,
      groups: [{ tensors: ['b'], lr: 0.1 }],
      lrSchedule: stepDecay({ stepSize: 1, gamma: 0.5 }),
    });
    ref.step([Float32Array.of(1), Float32Array.of(1)]); // lr 1 and 0.1
    ref.step([Float32Array.of(1), Float32Array.of(1)]); // lr 0.5 and 0.05
    close(ref.params[0]![0]!, -0.5);
    close(ref.params[1]![0]!, 0.85);
  });
});

describe('clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_)', () => {
  const sgd = (options: Record<string, unknown>, grads: number[][], params = grads.map((g) => new Float32Array(g.length))) => {
    const ref = createReferenceOptimizer('sgd', params.map((p, i) => ({ name: `t${i}`, data: p })), { lr: 1, ...options } as never);
    ref.step(grads.map((g) => Float32Array.from(g)));
    return ref;
  };
  test('global 2-norm over all tensors: g · maxNorm / (‖g‖ + 1e-6)', () => {
    const ref = sgd({ gradClipping: { maxNorm: 1 } }, [[3], [4]]);
    close(ref.control!.totalNorm, 5);
    close(ref.params[0]![0]!, -3 / (5 + 1e-6));
    close(ref.params[1]![0]!, -4 / (5 + 1e-6));
  });
  test('no clipping below the threshold; inf-norm; per group', () => {
    close(sgd({ gradClipping: { maxNorm: 10 } }, [[3, 4]]).params[0]![1]!, -4);
    const inf = sgd({ gradClipping: { maxNorm: 1, normType: 'inf' } }, [[3, -4]]);
    close(inf.control!.totalNorm, 4);
    close(inf.params[0]![0]!, -3 / (4 + 1e-6));
    const perGroup = sgd({ gradClipping: { maxNorm: 1, perGroup: true }, groups: [{ tensors: ['t1'] }] }, [[0.5], [6, 8]]);
    close(perGroup.params[0]![0]!, -0.5); // its own norm 0.5 < 1
    close(perGroup.params[1]![1]!, -8 / (10 + 1e-6));
  });
  test('by value clamps each element first', () => {
    const ref = sgd({ gradClipping: { maxValue: 0.5 } }, [[3, -0.2, -7]]);
    expect(Array.from(ref.params[0]!)).toEqual([-0.5, Math.fround(0.2), 0.5]);
  });
});

describe('loss scaling (GradScaler) and skipping', () => {
  test('scaled gradients are unscaled: the same step as without scaling', () => {
    const plain = createReferenceOptimizer('adam', [Float32Array.of(1, 2)]);
    const scaled = createReferenceOptimizer('adam', [Float32Array.of(1, 2)], { lossScaling: { initScale: 1024 } });
    plain.step([Float32Array.of(0.25, -3)]);
    scaled.step([Float32Array.of(0.25 * 1024, -3 * 1024)]);
    expect(Array.from(scaled.params[0]!)).toEqual(Array.from(plain.params[0]!));
  });
  test('non-finite gradients: step skipped, state untouched, scale halved, step not counted', () => {
    const ref = createReferenceOptimizer('adam', [Float32Array.of(1, 2)], { lossScaling: { initScale: 8, growthInterval: 2 } });
    ref.step([Float32Array.of(8, 8)]);
    const p = ref.params[0]!.slice();
    const m = ref.state[0]!.exp_avg!.slice();
    ref.step([Float32Array.of(Infinity, 8)]);
    expect(ref.params[0]).toEqual(p);
    expect(ref.state[0]!.exp_avg).toEqual(m);
    expect(ref.control!.skipped).toBe(true);
    expect(ref.stateDict().step).toBe(1);
    expect(ref.stateDict().scaler).toEqual({ scale: 4, growthTracker: 0 });
    ref.step([Float32Array.of(4, 4)]);
    ref.step([Float32Array.of(4, 4)]);
    expect(ref.stateDict().scaler).toEqual({ scale: 8, growthTracker: 0 }); // grew after 2 clean steps
    expect(ref.stateDict().step).toBe(3);
  });
});

describe('accumulation', () => {
  test('k micro-batches summed (or averaged), one update every k calls', () => {
    const acc = createReferenceOptimizer('sgd', [Float32Array.of(0)], { lr: 1, accumulation: { steps: 3 } });
    for (const g of [1, 2, 3]) acc.step([Float32Array.of(g)]);
    expect(acc.params[0]![0]).toBe(-6);
    expect(acc.stepCount).toBe(1);
    const mean = createReferenceOptimizer('sgd', [Float32Array.of(0)], { lr: 1, accumulation: { steps: 4, average: true } });
    for (const g of [1, 2, 3, 4]) mean.step([Float32Array.of(g)]);
    close(mean.params[0]![0]!, -2.5);
    mean.step([Float32Array.of(100)]);
    close(mean.params[0]![0]!, -2.5); // only a micro-batch so far
  });
});
