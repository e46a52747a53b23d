/**
 * The CPU reference against values derived by hand from PyTorch's pseudo-code (one tensor, one
 * element, a few steps). Each literal is worked out in the comment beside it; the check allows
 * f32 rounding (rtol 1e-6, about 8 ULP).
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer } from '../../src/index.js';

function run(name: string, options: Record<string, unknown>, grads: number[], p0 = 1) {
  const ref = createReferenceOptimizer(name as 'adam', [new Float32Array([p0])], options as never);
  return grads.map((g) => {
    ref.step([new Float32Array([g])]);
    return { p: ref.params[0]![0]!, state: Object.fromEntries(Object.entries(ref.state[0]!).map(([k, v]) => [k, v[0]!])) };
  });
}

const close = (actual: number, expected: number, rtol = 1e-6) =>
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(rtol * Math.abs(expected) + 1e-12);

describe('sgd', () => {
  test('plain: p -= lr·g', () => {
    const [a, b] = run('sgd', { lr: 0.1 }, [0.5, 0.5]);
    close(a!.p, 0.95); // 1 − 0.1·0.5
    close(b!.p, 0.9);
  });
  test('momentum: buffer starts as the first gradient, then b = μb + g', () => {
    const s = run('sgd', { lr: 0.1, momentum: 0.9 }, [1, 1, 1]);
    close(s[0]!.state.momentum_buffer!, 1);
    close(s[0]!.p, 0.9);
    close(s[1]!.state.momentum_buffer!, 1.9); // 0.9·1 + 1
    close(s[1]!.p, 0.71); // 0.9 − 0.19
    close(s[2]!.state.momentum_buffer!, 2.71);
    close(s[2]!.p, 0.439);
  });
  test('dampening is not applied on the first step', () => {
    const s = run('sgd', { lr: 0.1, momentum: 0.9, dampening: 0.5 }, [1, 1]);
    close(s[0]!.state.momentum_buffer!, 1); // undampened copy
    close(s[1]!.state.momentum_buffer!, 1.4); // 0.9 + 0.5·1
    close(s[1]!.p, 0.76); // 0.9 − 0.14
  });
  test('nesterov: d = g + μ·b', () => {
    const s = run('sgd', { lr: 0.1, momentum: 0.9, nesterov: true }, [1, 1]);
    close(s[0]!.p, 0.81); // 1 − 0.1·(1 + 0.9)
    close(s[1]!.p, 0.539); // b = 1.9, d = 1 + 1.71 = 2.71
  });
  test('weight decay with a zero gradient, and maximize', () => {
    const s = run('sgd', { lr: 0.1, weightDecay: 0.1 }, [0, 0]);
    close(s[0]!.p, 0.99); // d = 0.1·1
    close(s[1]!.p, 0.9801);
    close(run('sgd', { lr: 0.1, maximize: true }, [1])[0]!.p, 1.1);
  });
  test('ema_momentum: v = βv + (1−β)g from v = 0', () => {
    const s = run('ema_momentum', { lr: 0.1, beta: 0.9 }, [1, 1]);
    close(s[0]!.state.momentum_buffer!, 0.1);
    close(s[0]!.p, 0.99);
    close(s[1]!.state.momentum_buffer!, 0.19);
    close(s[1]!.p, 0.971);
  });
  test('huge and zero gradients', () => {
    close(run('sgd', { lr: 0.1 }, [1e20])[0]!.p, -1e19);
    expect(run('sgd', { lr: 0.1, momentum: 0.9 }, [0, 0])[1]!.p).toBe(1);
  });
});

describe('adagrad', () => {
  test('first step ≈ lr·sign(g); then lr·g/√Σg²', () => {
    const s = run('adagrad', { lr: 0.1 }, [2, 2]);
    close(s[0]!.p, 0.900000000005);
    close(s[0]!.state.sum!, 4);
    close(s[1]!.p, 0.8292893218888453); // 0.9 − 0.2/√8
  });
  test('lrDecay: clr = lr / (1 + (t−1)·decay)', () => {
    close(run('adagrad', { lr: 0.1, lrDecay: 1 }, [2, 2])[1]!.p, 0.8646446609469226); // 0.9 − 0.05·2/√8
  });
  test('initialAccumulatorValue seeds the sum', () => {
    const s = run('adagrad', { lr: 0.1, initialAccumulatorValue: 1 }, [2]);
    close(s[0]!.state.sum!, 5);
    close(s[0]!.p, 0.9105572809040084); // 1 − 0.2/√5
  });
  test('a gradient of 1e20 overflows the f32 sum to inf and leaves p unchanged (as torch)', () => {
    const s = run('adagrad', { lr: 0.1 }, [1e20]);
    expect(s[0]!.state.sum).toBe(Infinity);
    expect(s[0]!.p).toBe(1);
    expect(run('adagrad', {}, [0])[0]!.p).toBe(1);
  });
});

describe('rmsprop', () => {
  test('step 1 moves lr/√(1−α) = 10·lr', () => {
    const s = run('rmsprop', {}, [1, 1]);
    close(s[0]!.p, 0.9);
    close(s[0]!.state.square_avg!, 0.01);
    close(s[1]!.p, 0.8291118945242908);
  });
  test('centered subtracts the squared mean', () => {
    const s = run('rmsprop', { centered: true }, [1]);
    close(s[0]!.state.grad_avg!, 0.01);
    close(s[0]!.p, 0.8994962285750879); // 1 − 0.01/√(0.01 − 0.0001)
  });
  test('momentum: b = μb + g/avg', () => {
    const s = run('rmsprop', { momentum: 0.9 }, [1, 1]);
    close(s[0]!.state.momentum_buffer!, 10, 1e-5);
    close(s[1]!.p, 0.7391119035242899);
  });
  test('huge gradient stays finite: (1−α)·g is rounded before the second multiply', () => {
    const s = run('rmsprop', {}, [1e20]);
    close(s[0]!.state.square_avg!, 1e38);
    close(s[0]!.p, 0.9);
  });
});

describe('adadelta', () => {
  test('eps inside both roots; acc uses the previous delta', () => {
    const s = run('adadelta', {}, [1, 1]);
    close(s[0]!.p, 0.9968377381511013);
    close(s[0]!.state.acc_delta!, 9.999900000999991e-7);
    close(s[1]!.p, 0.9935933263774006);
    close(s[1]!.state.acc_delta!, 1.9526117758227585e-6, 1e-5);
  });
});

describe('adam / adamw', () => {
  test('bias-corrected moments', () => {
    const s = run('adam', {}, [1, -1]);
    close(s[0]!.p, 0.999); // ≈ lr·sign(g)
    close(s[0]!.state.exp_avg!, 0.1);
    close(s[0]!.state.exp_avg_sq!, 0.001);
    close(s[1]!.p, 0.9990526315884211);
  });
  test('L2 weight decay is coupled into the gradient', () => {
    close(run('adam', { weightDecay: 0.1 }, [0])[0]!.p, 0.9990000001);
  });
  test('adamw decays the parameter first: p·(1 − lr·wd)', () => {
    close(run('adamw', { weightDecay: 0.01 }, [1])[0]!.p, 0.99899000001);
    expect(run('adamw', {}, [0])[0]!.p).toBe(Math.fround(Math.fround(1) * Math.fround(1 - 1e-3 * 1e-2)));
  });
  test('amsgrad keeps the max of v', () => {
    const ams = run('adam', { amsgrad: true }, [1, 0]);
    close(ams[1]!.state.max_exp_avg_sq!, 0.001);
    close(ams[1]!.p, 0.9983302768782587);
    close(run('adam', {}, [1, 0])[1]!.p, 0.9983299417653418);
  });
  test('a 1e20 gradient gives a finite step (√v/√bc2, not √(v/bc2))', () => {
    const s = run('adam', {}, [1e20]);
    close(s[0]!.state.exp_avg_sq!, 1e37);
    close(s[0]!.p, 0.999);
  });
  test('NaN propagates through amsgrad max', () => {
    const s = run('adam', { amsgrad: true }, [1, NaN]);
    expect(Number.isNaN(s[1]!.state.max_exp_avg_sq)).toBe(true);
    expect(Number.isNaN(s[1]!.p)).toBe(true);
  });
});

describe('adamax', () => {
  test('bias correction on m only; u = max(β₂u, |g| + eps)', () => {
    const s = run('adamax', {}, [1, -1, 0]);
    close(s[0]!.p, 0.99800000002); // clr = 2e-3/(1 − 0.9) = 0.02; m = 0.1; u = 1 + 1e-8
    close(s[0]!.state.exp_inf!, 1);
    close(s[1]!.p, 0.9981052631768421); // m = −0.01, clr = 2e-3/0.19
    close(s[2]!.state.exp_inf!, 0.999); // a zero gradient: u decays by β₂ (|0| + eps is smaller)
    close(s[2]!.p, 0.9981717503275352);
  });
  test('weight decay and maximize', () => {
    close(run('adamax', { weightDecay: 0.1 }, [0.5])[0]!.p, 0.9980000000333333); // d = 0.5 + 0.1·1
    close(run('adamax', { maximize: true }, [1])[0]!.p, 1.002);
  });
  test('edge gradients: 0 keeps u at eps, ±1e20 and 1e-30 stay finite, NaN propagates through the max', () => {
    expect(run('adamax', {}, [0])[0]!.p).toBe(1); // m = 0
    close(run('adamax', {}, [0])[0]!.state.exp_inf!, 1e-8);
    close(run('adamax', {}, [1e20])[0]!.p, 0.998);
    close(run('adamax', {}, [-1e20])[0]!.p, 1.002);
    close(run('adamax', {}, [1e-30])[0]!.p, 1 - 0.02 * 1e-31 / 1e-8);
    const nan = run('adamax', {}, [1, NaN]);
    expect(Number.isNaN(nan[1]!.state.exp_inf)).toBe(true);
    expect(Number.isNaN(nan[1]!.p)).toBe(true);
  });
});

describe('radam', () => {
  test('steps 1–5 are SGD with bias-corrected momentum; from ρₜ > 5 on, rectified (β₂ = 0.9)', () => {
    // A constant gradient of 1: m̂ = 1 on every step; ρ∞ = 19, ρ₅ = 4.58, ρ₆ = 5.41.
    const s = run('radam', { betas: [0.9, 0.9] }, [1, 1, 1, 1, 1, 1, 1]);
    close(s[0]!.p, 0.999);
    close(s[4]!.p, 0.995);
    close(s[5]!.p, 0.9947448231971812); // r₆ = 0.25518, adaptive = √bc₂/(√v + eps) ≈ 1
    close(s[6]!.p, 0.9944147161826907); // r₇ = 0.33011
    close(s[6]!.state.exp_avg!, 1 - 0.9 ** 7);
  });
  test('weight decay: coupled into the gradient, or decoupled (p·(1 − lr·wd) first)', () => {
    close(run('radam', { weightDecay: 0.5 }, [0])[0]!.p, 1 - 1e-3 * 0.5); // d = 0.5·p, m̂ = d
    close(run('radam', { weightDecay: 0.5, decoupledWeightDecay: true }, [0])[0]!.p, 1 - 1e-3 * 0.5); // p·(1 − 5e-4), m = 0
    close(run('radam', { weightDecay: 0.5, decoupledWeightDecay: true }, [1])[0]!.p, (1 - 5e-4) - 1e-3);
  });
  test('edge gradients: 1e20 stays finite in the SGD phase, NaN propagates', () => {
    close(run('radam', {}, [1e20])[0]!.p, -1e17, 1e-6);
    close(run('radam', {}, [1e-30])[0]!.p, 1);
    expect(Number.isNaN(run('radam', {}, [NaN])[0]!.p)).toBe(true);
  });
});

describe('rprop', () => {
  test('step sizes grow on the same sign, shrink and skip on a flip, stay on zero', () => {
    const s = run('rprop', {}, [1, 1, -1, 0, 1]);
    close(s[0]!.p, 0.99); // product 0 → ×1: step = lr = 0.01
    close(s[1]!.p, 0.978); // same sign → ×1.2: 0.012
    close(s[2]!.state.step_size!, 0.006); // flip → ×0.5, and no move
    close(s[2]!.p, 0.978);
    expect(s[2]!.state.prev).toBe(0); // the flipped gradient is forgotten
    close(s[3]!.p, 0.978); // sign(0) = 0
    close(s[4]!.p, 0.972); // product 0 → ×1
  });
  test('step sizes are clamped to stepSizes; maximize flips the direction', () => {
    const s = run('rprop', { etas: [0.5, 100], stepSizes: [1e-3, 0.05] }, [1, 1, -1, -1]);
    close(s[1]!.state.step_size!, 0.05); // min(0.01·100, 0.05)
    close(s[2]!.state.step_size!, 0.025);
    close(s[3]!.state.step_size!, 0.025); // product 0 after the forgotten flip
    close(run('rprop', { maximize: true }, [1])[0]!.p, 1.01);
  });
  test('edge gradients: only the sign matters; NaN propagates', () => {
    close(run('rprop', {}, [1e20])[0]!.p, 0.99);
    close(run('rprop', {}, [-1e-30])[0]!.p, 1.01);
    const nan = run('rprop', {}, [1, NaN]);
    expect(Number.isNaN(nan[1]!.state.step_size)).toBe(true);
    expect(Number.isNaN(nan[1]!.p)).toBe(true);
  });
});

describe('lion', () => {
  test('p moves by lr·sign(β₁m + (1−β₁)g); m = β₂m + (1−β₂)g afterwards', () => {
    const s = run('lion', {}, [1, -1, 0.5]);
    close(s[0]!.p, 0.9999); // c = 0.1
    close(s[0]!.state.exp_avg!, 0.01);
    close(s[1]!.p, 1); // c = 0.009 − 0.1 < 0
    close(s[1]!.state.exp_avg!, -0.0001, 1e-5); // 0.0099 − 0.01: f32 cancellation leaves ~5 digits
    close(s[2]!.p, 0.9999); // c = −0.00009 + 0.05 > 0
  });
  test('decoupled weight decay p·(1 − lr·λ) before the signed step', () => {
    close(run('lion', { lr: 0.1, weightDecay: 0.5 }, [1])[0]!.p, 0.85); // 1·0.95 − 0.1
  });
  test('edge gradients: sign(0) = 0, magnitude does not matter, NaN propagates', () => {
    expect(run('lion', {}, [0])[0]!.p).toBe(1);
    close(run('lion', {}, [1e20])[0]!.p, 0.9999);
    close(run('lion', {}, [-1e-30])[0]!.p, 1.0001);
    expect(Number.isNaN(run('lion', {}, [NaN])[0]!.p)).toBe(true);
  });
});

describe('nadam', () => {
  test('μₜ = β₁(1 − ½·0.96^(tψ)); two steps, on the gradient and on the momentum', () => {
    const s = run('nadam', {}, [1, -1, 0]);
    close(s[0]!.p, 0.9979009376817722); // μ₁ = 0.450073, mu_product = μ₁
    close(s[1]!.p, 0.9992894410180599);
    close(s[2]!.p, 0.9992995574869444); // a zero gradient: only the momentum term moves p
  });
  test('mu_product is in the state dict, as PyTorch keeps it (float32)', () => {
    const ref = createReferenceOptimizer('nadam', [new Float32Array([1])]);
    for (const g of [1, -1, 0]) ref.step([new Float32Array([g])]);
    close(ref.stateDict().state[0]!.mu_product as number, 0.0912142874159059);
    expect(ref.stateDict().state[0]!.mu_product).toBe(Math.fround(ref.stateDict().state[0]!.mu_product as number));
  });
  test('edge gradients: 1e20 and 1e-30 stay finite (the bias correction is inside the root), NaN propagates', () => {
    expect(Number.isFinite(run('nadam', {}, [1e20])[0]!.p)).toBe(true);
    close(run('nadam', {}, [1e-30])[0]!.p, 1, 1e-6);
    expect(Number.isNaN(run('nadam', {}, [NaN])[0]!.p)).toBe(true);
  });
});

describe('adamw_schedule_free (release 1.3: plain lr, √(v/(1 − β₂ᵗ)) + eps)', () => {
  test('y and z from the updates; eval() gives x = y + (1 − 1/β₁)(z − y), train() gives y back', () => {
    const ref = createReferenceOptimizer('adamw_schedule_free', [new Float32Array([1])]);
    ref.step([new Float32Array([1])]); // c₁ = 1, v/(1 − β₂) = g²: y = z = 1 − lr·g/|g|
    close(ref.params[0]![0]!, 0.9975);
    close(ref.state[0]!.z![0]!, 0.9975);
    ref.step([new Float32Array([-2])]); // every weight lr²: c₂ = ½; √(v/(1 − β₂²)) = 1.58138
    close(ref.params[0]![0]!, 0.9992389917674235, 1e-5); // f32 cancellation in lerp(y, z, c)
    close(ref.state[0]!.z![0]!, 1.0006618031930428);
    expect(Object.keys(ref.state[0]!).sort()).toEqual(['exp_avg_sq', 'z']); // no exp_avg at innerMomentum 0
    ref.eval();
    close(ref.params[0]![0]!, 0.9990809016090213, 1e-5);
    expect(() => ref.step([new Float32Array([1])])).toThrow(/call train\(\) before step\(\)/);
    ref.train();
    close(ref.params[0]![0]!, 0.9992389917674235, 1e-5);
  });
  test('innerMomentum: m = μm + (1 − μ)g, the step takes m/(1 − μᵗ)', () => {
    const ref = createReferenceOptimizer('adamw_schedule_free', [new Float32Array([1])], { innerMomentum: 0.9 });
    ref.step([new Float32Array([1])]); // m/(1 − μ) = g: the first step as without momentum
    close(ref.params[0]![0]!, 0.9975);
    close(ref.state[0]!.exp_avg![0]!, 0.1);
    ref.step([new Float32Array([-2])]); // m = 0.09 − 0.2 = −0.11, m/(1 − 0.81) = −0.578947
    close(ref.state[0]!.exp_avg![0]!, -0.11);
    close(ref.state[0]!.z![0]!, 0.9984152588368018);
    close(ref.params[0]![0]!, 0.9980033923714909, 1e-5);
  });
  test('warmup scales lr linearly (no √(1 − β₂ᵗ)); no lr schedule; lr and innerMomentum fixed once started', () => {
    const warm = createReferenceOptimizer('adamw_schedule_free', [new Float32Array([1])], { warmupSteps: 4 });
    warm.step([new Float32Array([1])]);
    close(warm.params[0]![0]!, 1 - 0.0025 / 4);
    expect(() => createReferenceOptimizer('adamw_schedule_free', [new Float32Array([1])], { lrSchedule: () => 1 })).toThrow(/no lrSchedule: Schedule-Free AdamW replaces the schedule/);
    expect(() => warm.setHyperparameters({ lr: 0.01 })).toThrow(/"lr" cannot change once steps were taken/);
    expect(() => warm.setHyperparameters({ innerMomentum: 0.9 })).toThrow(/"innerMomentum" cannot change once steps were taken/);
    warm.setHyperparameters({ weightDecay: 0.1 });
  });
  test('edge gradients: 0 moves nothing, 1e19 gives a normalized step, 1e20 none (v/(1 − β₂) overflows f32, as upstream), NaN propagates', () => {
    expect(run('adamw_schedule_free', {}, [0])[0]!.p).toBe(1);
    close(run('adamw_schedule_free', {}, [1e19])[0]!.p, 0.9975);
    close(run('adamw_schedule_free', {}, [-1e19])[0]!.p, 1.0025);
    expect(run('adamw_schedule_free', {}, [1e20])[0]!.p).toBe(1);
    expect(Number.isNaN(run('adamw_schedule_free', {}, [NaN])[0]!.p)).toBe(true);
  });
});

describe('adamw_schedule_free_paper (lr·√(1 − β₂ᵗ), √v + eps)', () => {
  test('y and z from the paper\'s updates; eval() gives x = y + (1 − 1/β₁)(z − y), train() gives y back', () => {
    const ref = createReferenceOptimizer('adamw_schedule_free_paper', [new Float32Array([1])]);
    ref.step([new Float32Array([1])]); // c₁ = 1: y = z = 1 − lr₁·g/(√v + eps), lr₁ = lr·√(1 − β₂)
    close(ref.params[0]![0]!, 0.9975000007905692);
    close(ref.state[0]!.z![0]!, 0.9975000007905692);
    ref.step([new Float32Array([-2])]); // c₂ = w₂/(w₁ + w₂) = 0.66656
    close(ref.params[0]![0]!, 0.9997129464234585, 1e-5); // f32 cancellation in lerp(y, z, c)
    close(ref.state[0]!.z![0]!, 1.000661803531415);
    ref.eval();
    expect(ref.mode).toBe('eval');
    close(ref.params[0]![0]!, 0.9996075178559078, 1e-5);
    expect(() => ref.step([new Float32Array([1])])).toThrow(/call train\(\) before step\(\)/);
    expect(ref.stateDict().mode).toBe('eval');
    ref.train();
    close(ref.params[0]![0]!, 0.9997129464234585, 1e-5);
  });
  test('warmup scales lr linearly; no lr schedule; lr fixed once started', () => {
    const warm = createReferenceOptimizer('adamw_schedule_free_paper', [new Float32Array([1])], { warmupSteps: 4 });
    warm.step([new Float32Array([1])]);
    close(warm.params[0]![0]!, 1 - 0.0025 / 4, 1e-6); // lr₁ = lr·¼·√(1 − β₂), normalized gradient ≈ 1/√(1 − β₂)
    expect(() => createReferenceOptimizer('adamw_schedule_free_paper', [new Float32Array([1])], { lrSchedule: () => 1 })).toThrow(/no lrSchedule: Schedule-Free AdamW replaces the schedule/);
    expect(() => warm.setLrSchedule(() => 1)).toThrow(/no lrSchedule/);
    expect(() => warm.setHyperparameters({ lr: 0.01 })).toThrow(/"lr" cannot change once steps were taken/);
    warm.setHyperparameters({ weightDecay: 0.1 });
    expect(() => createReferenceOptimizer('adam', [new Float32Array([1])]).eval()).toThrow(/adam has no train\/eval modes/);
  });
  test('edge gradients: 0 moves nothing, ±1e20 and 1e-30 give a normalized step, NaN propagates', () => {
    expect(run('adamw_schedule_free_paper', {}, [0])[0]!.p).toBe(1);
    close(run('adamw_schedule_free_paper', {}, [1e20])[0]!.p, 0.9975);
    close(run('adamw_schedule_free_paper', {}, [-1e20])[0]!.p, 1.0025);
    expect(Number.isNaN(run('adamw_schedule_free_paper', {}, [NaN])[0]!.p)).toBe(true);
  });
});

/** Steps of a two-element tensor (the layer-wise optimizers' norms need more than one element). */
function runPair(name: 'lamb' | 'lars', options: Record<string, unknown>, grads: [number, number][], p0: [number, number] = [3, 4]) {
  const ref = createReferenceOptimizer(name, [Float32Array.from(p0)], options as never);
  return grads.map((g) => {
    ref.step([Float32Array.from(g)]);
    return { p: Array.from(ref.params[0]!), state: Object.fromEntries(Object.entries(ref.state[0]!).map(([k, v]) => [k, Array.from(v)])) };
  });
}

// p = [3, 4] (‖p‖ = 5), g = [0.6, 0.8] (‖g‖ = 1) throughout.
describe('lars (optax.lars)', () => {
  test('trust ratio η‖p‖/‖u‖, then the trace (momentum 0.9)', () => {
    const [a, b] = runPair('lars', { lr: 1 }, [[0.6, 0.8], [0.6, 0.8]]);
    // r = 0.001·5/1 = 0.005: step = −0.005·g = [−0.003, −0.004]; trace = step.
    a!.p.forEach((p, i) => close(p, [2.997, 3.996][i]!));
    a!.state.trace!.forEach((t, i) => close(t, [-0.003, -0.004][i]!));
    // p = 0.999·[3, 4]: r = 0.004995, step = [−0.002997, −0.003996]; trace = step + 0.9·trace.
    b!.state.trace!.forEach((t, i) => close(t, [-0.005697, -0.007596][i]!));
    b!.p.forEach((p, i) => close(p, [2.991303, 3.988404][i]!));
  });
  test('nesterov: p += step + μ·trace (1.9·step on the first step)', () => {
    runPair('lars', { lr: 1, nesterov: true }, [[0.6, 0.8]])[0]!.p.forEach((p, i) => close(p, [2.9943, 3.9924][i]!));
  });
  test('weight decay joins u before the norm: u = g + wd·p', () => {
    // g = 0: u = 0.1·p = [0.3, 0.4], ‖u‖ = 0.5, r = 0.001·5/0.5 = 0.01, step = −0.01·u.
    runPair('lars', { lr: 1, weightDecay: 0.1 }, [[0, 0]])[0]!.p.forEach((p, i) => close(p, [2.997, 3.996][i]!));
  });
  test('a zero norm or trustRatio: false gives ratio 1', () => {
    runPair('lars', { lr: 1, momentum: 0 }, [[0.6, -0.8]], [0, 0])[0]!.p.forEach((p, i) => close(p, [-0.6, 0.8][i]!));
    runPair('lars', { lr: 1, momentum: 0 }, [[0, 0]])[0]!.p.forEach((p, i) => close(p, [3, 4][i]!));
    runPair('lars', { lr: 0.1, momentum: 0, trustRatio: false }, [[0.6, 0.8]])[0]!.p.forEach((p, i) => close(p, [2.94, 3.92][i]!));
  });
  test('eps joins ‖u‖: r = η‖p‖/(‖u‖ + eps)', () => {
    // r = 0.001·5/(1 + 1) = 0.0025.
    runPair('lars', { lr: 1, eps: 1, momentum: 0 }, [[0.6, 0.8]])[0]!.p.forEach((p, i) => close(p, [2.9985, 3.998][i]!));
  });
});

describe('lamb (optax.lamb)', () => {
  test('bias-corrected Adam direction, scaled by ‖p‖/‖u‖', () => {
    const [a, b] = runPair('lamb', { lr: 0.1 }, [[0.6, 0.8], [0.6, 0.8]]);
    // m̂ = g, v̂ = g²: u = g/(|g| + 1e-6) ≈ [1, 1]; r = 5/‖u‖ = 3.5355391; p −= 0.1·r·u.
    a!.state.exp_avg!.forEach((m, i) => close(m, [0.06, 0.08][i]!));
    a!.state.exp_avg_sq!.forEach((v, i) => close(v, [0.00036, 0.00064][i]!));
    a!.p.forEach((p, i) => close(p, [2.6464466830635827, 3.646446535749885][i]!));
    // Step 2: m = 0.19·g, m̂ = g again; ‖p‖ = 4.5056…, r = 3.1859309.
    b!.state.exp_avg!.forEach((m, i) => close(m, [0.114, 0.152][i]!));
    b!.p.forEach((p, i) => close(p, [2.32785412252619, 3.327853842465758][i]!));
  });
  test('weight decay is added to u before the ratio', () => {
    // u = g/(|g| + 1e-6) + 0.5·p = [2.4999983, 2.9999988], r = 5/3.9051230 = 1.2803695.
    runPair('lamb', { lr: 0.1, weightDecay: 0.5 }, [[0.6, 0.8]])[0]!.p.forEach((p, i) => close(p, [2.6799078473943934, 3.615889320845789][i]!));
  });
  test('a tensor at zero takes the plain step (ratio 1)', () => {
    runPair('lamb', { lr: 0.1 }, [[0.6, -0.8]], [0, 0])[0]!.p.forEach((p, i) => close(p, [-0.09999983333361112, 0.09999987500015625][i]!));
  });
});

/** Steps of one tensor of `shape` (Adafactor's state depends on it). */
function runShaped(options: Record<string, unknown>, p0: number[], shape: number[], grads: number[][]) {
  const ref = createReferenceOptimizer('adafactor', [{ name: 'w', shape, data: Float32Array.from(p0) }], options as never);
  return grads.map((g) => {
    ref.step([Float32Array.from(g)]);
    return { p: Array.from(ref.params[0]!), state: Object.fromEntries(Object.entries(ref.state[0]!).map(([k, v]) => [k, Array.from(v)])) };
  });
}

describe('adafactor (torch.optim.Adafactor, PyTorch 2.5+)', () => {
  test('a vector: variance = lerp(v, g², t^−0.8), u = g/√v, α = max(eps2, RMS(p))·min(lr, 1/√t)', () => {
    const [a, b] = runShaped({}, [3, 4], [2], [[0.6, 0.8], [0.3, -0.4]]);
    // t = 1: weight 1, v = g², u = [1, 1], RMS(u) = 1; α = (5/√2)·0.01 = 0.035355339.
    a!.state.variance!.forEach((v, i) => close(v, [0.36, 0.64][i]!));
    a!.p.forEach((p, i) => close(p, [2.9646446609406727, 3.9646446609406727][i]!));
    // t = 2: weight 2^−0.8 = 0.5743492; v = [0.2049257, 0.3643124]; u = g/√v ≈ ±0.66; α = 0.0350054.
    b!.state.variance!.forEach((v, i) => close(v, [0.20492572207540027, 0.3643123948007117][i]!));
    b!.p.forEach((p, i) => close(p, [2.9414462760701636, 3.9878430458111818][i]!));
  });
  test('a matrix: row and column means of g², V̂ = row·col / mean(row), update clipped by RMS(u)/d', () => {
    const [a, b] = runShaped({}, [1, 2, 3, 4], [2, 2], [[1, 0, 0, 2], [1, 1, 1, 1]]);
    // Rows [1, 0], [0, 2]: row_var = [0.5, 2], col_var = [0.5, 2]; mean(row) = 1.25;
    // V̂ = [0.2, 0.8, 0.8, 3.2]; u = [2.236068, 0, 0, 1.118034], RMS(u) = 1.25 = denom;
    // α = √(30/4)·0.01 = 0.027386128.
    expect(a!.state.row_var).toHaveLength(2);
    a!.state.row_var!.forEach((v, i) => close(v, [0.5, 2][i]!));
    a!.state.col_var!.forEach((v, i) => close(v, [0.5, 2][i]!));
    a!.p.forEach((p, i) => close(p, [0.9510102051443364, 2, 3, 3.975505102572168][i]!));
    // t = 2: row_var = lerp([0.5, 2], [1, 1], 2^−0.8) = [0.7871746, 1.4256508], the same for col_var.
    b!.state.row_var!.forEach((v, i) => close(v, [0.7871745887492587, 1.4256508225014826][i]!));
    b!.p.forEach((p, i) => close(p, [0.9158937650352622, 1.9739060736765845, 2.9739060736765843, 3.95611552353577][i]!));
  });
  test('decoupled weight decay p·(1 − lr·wd) after α is taken from the undecayed p', () => {
    // p = [3, 4]·0.95 − α·[1, 1], α = (5/√2)·0.1.
    runShaped({ lr: 0.1, weightDecay: 0.5 }, [3, 4], [2], [[0.6, 0.8]])[0]!.p.forEach((p, i) => close(p, [2.4964466094067257, 3.446446609406726][i]!));
  });
  test('state is O(rows + cols) for a matrix, O(n) for a vector', () => {
    const ref = createReferenceOptimizer('adafactor', [{ name: 'W', shape: [784, 64], data: new Float32Array(784 * 64) }, { name: 'k', shape: [2, 3, 4], data: new Float32Array(24) }, { name: 'b', data: new Float32Array(64) }]);
    expect(Object.fromEntries(Object.entries(ref.state[0]!).map(([k, v]) => [k, v.length]))).toEqual({ row_var: 784, col_var: 64 });
    expect(Object.fromEntries(Object.entries(ref.state[1]!).map(([k, v]) => [k, v.length]))).toEqual({ row_var: 6, col_var: 8 });
    expect(Object.keys(ref.state[2]!)).toEqual(['variance']);
  });
});

test('the twin refuses shape-derived state beyond what it allocates, before making any (a [2^32 − 1, 0] tensor holds nothing but would need 2^32 − 1 row factors)', () => {
  for (const shape of [[2 ** 32 - 1, 0], [65536, 65536, 0], [2 ** 28 + 1, 0]]) {
    expect(() => createReferenceOptimizer('adafactor', [{ name: 'empty', shape, data: new Float32Array(0) }]), String(shape)).toThrow(
      /^webgpu-optim: createReferenceOptimizer\('adafactor'\): tensor "empty" of shape \[[0-9, ]+\] brings its \w+ state to \d+ values, over the 268435456 the CPU twin allocates$/,
    );
  }
  // Up to the bound it is made: 2^20 row factors for an empty [2^20, 0] tensor.
  const ok = createReferenceOptimizer('adafactor', [{ name: 'empty', shape: [2 ** 20, 0], data: new Float32Array(0) }]);
  expect((ok.stateDict().state[0]!.row_var as Float32Array).length).toBe(2 ** 20);
});
