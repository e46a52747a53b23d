/**
 * The f32 reference against an independent float64 implementation of each algorithm written from
 * the pseudo-code in PyTorch's docs (https://pytorch.org/docs/1.13/optim.html), over 10 steps and
 * the whole option matrix, parameters and every state slot. A misplaced eps, a wrong bias
 * correction or a step-1 rule shows up far above the tolerance; f32 rounding over 10 steps stays
 * below it (rtol 1e-4, atol 1e-6).
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer, type OptimizerName } from '../../src/index.js';
import { compare, type Tolerance } from '../helpers/allclose.js';
import { OPTION_MATRIX } from '../helpers/cases.js';
import { randomArray, rng } from '../helpers/data.js';

type State = Record<string, number>;
type Twin = (o: any, p: number, g: number, s: State, t: number) => number;
/** A layer-wise optimizer's twin: one step of a whole tensor (`p` updated in place, `s` its state). */
type TensorTwin = { tensor: (o: any, p: number[], g: Float32Array, s: Record<string, number[]>, t: number, shape: readonly number[]) => void };

const norm = (x: readonly number[]) => Math.sqrt(x.reduce((a, v) => a + v * v, 0));
/** optax's scale_by_trust_ratio: η‖p‖ / (‖u‖ + eps), 1 when either norm is 0. */
const trust = (p: readonly number[], u: readonly number[], eta: number, eps: number) => {
  const pn = norm(p), un = norm(u);
  return pn > 0 && un > 0 ? (eta * pn) / (un + eps) : 1;
};

/** One independent float64 twin per registered optimizer (a new one without a twin does not compile). */
const twins: { [K in OptimizerName]: K extends 'lamb' | 'lars' | 'adafactor' ? TensorTwin : Twin } = {
  // torch.optim.Adafactor (PyTorch 2.5+) from its documented algorithm, in float64.
  adafactor: {
    tensor(o, p, g0, s, t, shape) {
      const lr = o.lr ?? 1e-2, tau = o.beta2Decay ?? -0.8, e1 = o.eps?.[0] ?? 2 ** -23, e2 = o.eps?.[1] ?? 1e-3, d = o.d ?? 1, wd = o.weightDecay ?? 0;
      const g = Array.from(g0, (x) => (o.maximize ? -x : x));
      const n = p.length, w = t ** tau, rho = Math.min(lr, 1 / Math.sqrt(t));
      const lerp = (a: number, b: number) => a + w * (b - a);
      const alpha = Math.max(e2, norm(p) / Math.sqrt(n)) * rho;
      if (wd) p.forEach((_, i) => (p[i] = p[i]! * (1 - lr * wd)));
      let estimate: (e: number) => number;
      if (shape.length >= 2) {
        const C = shape.at(-1)!, R = shape.at(-2)!, B = n / (R * C);
        s.row ??= new Array(B * R).fill(0);
        s.col ??= new Array(B * C).fill(0);
        const mean = (idx: (j: number) => number, count: number) => Array.from({ length: count }, (_, j) => g[idx(j)]! ** 2).reduce((a, v) => a + v, 0) / count;
        const means: number[] = [];
        for (let b = 0; b < B; b++) {
          for (let r = 0; r < R; r++) s.row[b * R + r] = lerp(s.row[b * R + r]!, mean((c) => (b * R + r) * C + c, C));
          for (let c = 0; c < C; c++) s.col[b * C + c] = lerp(s.col[b * C + c]!, mean((r) => (b * R + r) * C + c, R));
          means.push(Math.max(s.row.slice(b * R, (b + 1) * R).reduce((a, v) => a + v, 0) / R, e1));
        }
        estimate = (e) => (s.row![Math.floor(e / C)]! * s.col![Math.floor(e / (R * C)) * C + (e % C)]!) / means[Math.floor(e / (R * C))]!;
      } else {
        s.v ??= new Array(n).fill(0);
        g.forEach((x, e) => (s.v![e] = lerp(s.v![e]!, x * x)));
        estimate = (e) => s.v![e]!;
      }
      const u = g.map((x, e) => x / Math.sqrt(Math.max(estimate(e), e1 * e1)));
      const denom = Math.max(1, norm(u) / (Math.sqrt(n) * d));
      p.forEach((_, i) => (p[i] = p[i]! - (alpha / denom) * u[i]!));
    },
  },
  // optax.lamb: scale_by_adam, add_decayed_weights, scale_by_trust_ratio, scale_by_learning_rate.
  lamb: {
    tensor(o, p, g, s, t) {
      const [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-6, wd = o.weightDecay ?? 0;
      s.m ??= p.map(() => 0);
      s.v ??= p.map(() => 0);
      const u = p.map((pi, i) => {
        s.m![i] = (1 - b1) * g[i]! + b1 * s.m![i]!;
        s.v![i] = (1 - b2) * g[i]! ** 2 + b2 * s.v![i]!;
        return s.m![i]! / (1 - b1 ** t) / (Math.sqrt(s.v![i]! / (1 - b2 ** t)) + eps) + wd * pi;
      });
      const r = trust(p, u, 1, 0);
      p.forEach((_, i) => (p[i] = p[i]! - o.lr * r * u[i]!));
    },
  },
  // optax.lars: add_decayed_weights, scale_by_trust_ratio, scale_by_learning_rate, trace.
  lars: {
    tensor(o, p, g, s) {
      const wd = o.weightDecay ?? 0, eta = o.trustCoefficient ?? 0.001, eps = o.eps ?? 0, mu = o.momentum ?? 0.9;
      s.trace ??= p.map(() => 0);
      const u = p.map((pi, i) => g[i]! + wd * pi);
      const r = o.trustRatio === false ? 1 : trust(p, u, eta, eps);
      p.forEach((_, i) => {
        const step = -o.lr * r * u[i]!;
        s.trace![i] = step + mu * s.trace![i]!;
        p[i] = p[i]! + (o.nesterov ? step + mu * s.trace![i]! : s.trace![i]!);
      });
    },
  },
  sgd(o, p, g, s, t) {
    const lr = o.lr, mu = o.momentum ?? 0, tau = o.dampening ?? 0, wd = o.weightDecay ?? 0;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    if (mu) {
      s.b = t === 1 ? g : mu * s.b! + (1 - tau) * g;
      g = o.nesterov ? g + mu * s.b : s.b;
    }
    return p - lr * g;
  },
  ema_momentum(o, p, g, s) {
    const lr = o.lr ?? 0.01, beta = o.beta ?? 0.9, wd = o.weightDecay ?? 0;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    s.v = beta * (s.v ?? 0) + (1 - beta) * g;
    return p - lr * s.v;
  },
  adagrad(o, p, g, s, t) {
    const lr = o.lr ?? 1e-2, decay = o.lrDecay ?? 0, wd = o.weightDecay ?? 0, eps = o.eps ?? 1e-10;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    const clr = lr / (1 + (t - 1) * decay);
    const sum = (s.sum ?? o.initialAccumulatorValue ?? 0) + g * g;
    s.sum = sum;
    return p - (clr * g) / (Math.sqrt(sum) + eps);
  },
  rmsprop(o, p, g, s) {
    const lr = o.lr ?? 1e-2, a = o.alpha ?? 0.99, eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0, mu = o.momentum ?? 0;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    s.v = a * (s.v ?? 0) + (1 - a) * g * g;
    let vt = s.v;
    if (o.centered) {
      s.ga = a * (s.ga ?? 0) + (1 - a) * g;
      vt = s.v - s.ga * s.ga;
    }
    const avg = Math.sqrt(vt) + eps;
    if (mu > 0) {
      s.b = mu * (s.b ?? 0) + g / avg;
      return p - lr * s.b;
    }
    return p - (lr * g) / avg;
  },
  adadelta(o, p, g, s) {
    const lr = o.lr ?? 1, rho = o.rho ?? 0.9, eps = o.eps ?? 1e-6, wd = o.weightDecay ?? 0;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    s.v = rho * (s.v ?? 0) + (1 - rho) * g * g;
    const dx = (Math.sqrt((s.u ?? 0) + eps) / Math.sqrt(s.v + eps)) * g;
    s.u = rho * (s.u ?? 0) + (1 - rho) * dx * dx;
    return p - lr * dx;
  },
  adam(o, p, g, s, t) {
    const lr = o.lr ?? 1e-3, [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
    s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
    const mhat = s.m / (1 - b1 ** t);
    s.vmax = Math.max(s.vmax ?? 0, s.v);
    const vhat = (o.amsgrad ? s.vmax : s.v) / (1 - b2 ** t);
    return p - (lr * mhat) / (Math.sqrt(vhat) + eps);
  },
  adamax(o, p, g, s, t) {
    const lr = o.lr ?? 2e-3, [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
    if (o.maximize) g = -g;
    if (wd) g += wd * p;
    s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
    s.u = Math.max(b2 * (s.u ?? 0), Math.abs(g) + eps);
    return p - (lr / (1 - b1 ** t)) * (s.m / s.u);
  },
  nadam(o, p, g, s, t) {
    const lr = o.lr ?? 2e-3, [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0, psi = o.momentumDecay ?? 4e-3;
    if (o.decoupledWeightDecay) p *= 1 - lr * wd;
    else if (wd) g += wd * p;
    const mu = (k: number) => b1 * (1 - 0.5 * 0.96 ** (k * psi));
    s.mp = (s.mp ?? 1) * mu(t);
    const mpNext = s.mp * mu(t) * mu(t + 1); // PyTorch 1.13 counts μₜ twice here
    s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
    s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
    const denom = Math.sqrt(s.v / (1 - b2 ** t)) + eps;
    return p - (lr * (1 - mu(t)) / (1 - s.mp)) * (g / denom) - (lr * mu(t + 1) / (1 - mpNext)) * (s.m / denom);
  },
  radam(o, p, g, s, t) {
    const lr = o.lr ?? 1e-3, [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
    if (o.decoupledWeightDecay) p *= 1 - lr * wd;
    else if (wd) g += wd * p;
    s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
    s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
    const mhat = s.m / (1 - b1 ** t);
    const rhoInf = 2 / (1 - b2) - 1;
    const rhoT = rhoInf - (2 * t * b2 ** t) / (1 - b2 ** t);
    if (rhoT <= 5) return p - lr * mhat;
    const rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
    return p - lr * mhat * rect * (Math.sqrt(1 - b2 ** t) / (Math.sqrt(s.v) + eps));
  },
  rprop(o, p, g, s) {
    const [etaMinus, etaPlus] = o.etas ?? [0.5, 1.2], [lo, hi] = o.stepSizes ?? [1e-6, 50];
    if (o.maximize) g = -g;
    const product = g * (s.prev ?? 0);
    s.step = Math.min(Math.max((s.step ?? o.lr ?? 1e-2) * (product > 0 ? etaPlus : product < 0 ? etaMinus : 1), lo), hi);
    if (product < 0) g = 0;
    s.prev = g;
    return p - Math.sign(g) * s.step;
  },
  adamw_schedule_free(o, p, g, s, t) {
    const lr = o.lr ?? 0.0025, [b1, b2] = o.betas ?? [0.9, 0.999], eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
    const warmup = o.warmupSteps ?? 0, r = o.r ?? 0, power = o.weightLrPower ?? 2;
    const lrAt = (k: number) => lr * (k - 1 < warmup ? k / warmup : 1) * Math.sqrt(1 - b2 ** k);
    let lrMax = -1, weight = 0, weightSum = 0;
    for (let k = 1; k <= t; k++) {
      lrMax = Math.max(lrAt(k), lrMax);
      weight = k ** r * lrMax ** power;
      weightSum += weight;
    }
    const ckp1 = weightSum === 0 ? 0 : weight / weightSum;
    if (s.z === undefined) s.z = p;
    s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
    const gn = g / (Math.sqrt(s.v) + eps) + wd * p;
    const y = p + ckp1 * (s.z - p) + lrAt(t) * (b1 * (1 - ckp1) - 1) * gn;
    s.z -= lrAt(t) * gn;
    return y;
  },
  lion(o, p, g, s) {
    const lr = o.lr ?? 1e-4, [b1, b2] = o.betas ?? [0.9, 0.99], wd = o.weightDecay ?? 0;
    const c = b1 * (s.m ?? 0) + (1 - b1) * g;
    s.m = b2 * (s.m ?? 0) + (1 - b2) * g;
    return p * (1 - lr * wd) - lr * Math.sign(c);
  },
  adamw(o, p, g, s, t) {
    const lr = o.lr ?? 1e-3, wd = o.weightDecay ?? 1e-2;
    return twins.adam!({ ...o, weightDecay: 0 }, p * (1 - lr * wd), g, s, t);
  },
};

const TOLERANCE: Tolerance = { atol: 1e-6, rtol: 1e-4 };

/**
 * Per optimizer, each PyTorch state slot of the reference's stateDict → the key its twin keeps the
 * same quantity under. Typed by the registry: a new optimizer without a mapping does not compile.
 */
const TWIN_SLOTS: { readonly [K in OptimizerName]: Readonly<Record<string, string>> } = {
  sgd: { momentum_buffer: 'b' },
  ema_momentum: { momentum_buffer: 'v' },
  adagrad: { sum: 'sum' },
  rmsprop: { square_avg: 'v', grad_avg: 'ga', momentum_buffer: 'b' },
  adadelta: { square_avg: 'v', acc_delta: 'u' },
  adam: { exp_avg: 'm', exp_avg_sq: 'v', max_exp_avg_sq: 'vmax' },
  adamw: { exp_avg: 'm', exp_avg_sq: 'v', max_exp_avg_sq: 'vmax' },
  adamax: { exp_avg: 'm', exp_inf: 'u' },
  nadam: { exp_avg: 'm', exp_avg_sq: 'v', mu_product: 'mp' },
  radam: { exp_avg: 'm', exp_avg_sq: 'v' },
  rprop: { prev: 'prev', step_size: 'step' },
  lion: { exp_avg: 'm' },
  adafactor: { variance: 'v', row_var: 'row', col_var: 'col' },
  lamb: { exp_avg: 'm', exp_avg_sq: 'v' },
  lars: { trace: 'trace' },
  adamw_schedule_free: { z: 'z', exp_avg_sq: 'v' },
};

/**
 * Compares every state slot of the reference (one tensor) against the twin's, by PyTorch slot name:
 * returns one line per slot that has no twin counterpart or differs beyond the tolerance. A slot
 * the reference keeps as one number (NAdam's mu_product) is compared with every element's twin value.
 */
function stateMismatches(name: OptimizerName, slots: Readonly<Record<string, unknown>>, twinSlot: (key: string) => readonly (number | undefined)[] | undefined) {
  const problems: string[] = [];
  for (const [slot, value] of Object.entries(slots)) {
    const key = TWIN_SLOTS[name][slot];
    const twinValues = key === undefined ? undefined : twinSlot(key);
    if (twinValues === undefined || twinValues.length === 0 || twinValues.some((x) => x === undefined)) {
      problems.push(`${slot}: no twin counterpart (${key === undefined ? 'unmapped' : `twin key ${key} unset`})`);
      continue;
    }
    const expected = twinValues as readonly number[];
    const actual = typeof value === 'number' ? expected.map(() => value) : (value as Float32Array);
    const r = compare(actual, expected, TOLERANCE);
    if (r.mismatches.length > 0) problems.push(`${slot}: ${JSON.stringify(r.mismatches)}`);
  }
  return problems;
}

describe.each(Object.entries(OPTION_MATRIX))('%s', (name, matrix) => {
  test.each(matrix.map((o) => [JSON.stringify(o), o] as const))('%s matches float64 over 10 steps, parameters and state', (_l, options) => {
    const random = rng(42);
    const p0 = randomArray(257, random);
    const ref = createReferenceOptimizer(name as 'adam', [p0.slice()], options as never);
    const expected = Array.from(p0);
    const states: State[] = expected.map(() => ({}));
    const tensorState: Record<string, number[]> = {};
    const twin = twins[name as OptimizerName] as Twin | TensorTwin;
    for (let t = 1; t <= 10; t++) {
      const g = randomArray(257, rng(t));
      ref.step([g]);
      if ('tensor' in twin) twin.tensor(options, expected, g, tensorState, t, [257]);
      else for (let i = 0; i < expected.length; i++) expected[i] = twin(options, expected[i]!, g[i]!, states[i]!, t);
    }
    const r = compare(ref.params[0]!, expected, TOLERANCE);
    expect(r.mismatches).toEqual([]);
    const twinSlot = (key: string) => ('tensor' in twin ? tensorState[key] : states.map((s) => s[key]));
    expect(stateMismatches(name as OptimizerName, ref.stateDict().state[0]!, twinSlot)).toEqual([]);
  });
});

test('the twins are sensitive: eps inside instead of outside the root is caught', () => {
  const o = { eps: 0.1 };
  const ref = createReferenceOptimizer('adam', [new Float32Array([1])], o);
  ref.step([new Float32Array([0.05])]);
  const s: State = {};
  const outside = twins.adam!(o, 1, 0.05, s, 1);
  const inside = 1 - (1e-3 * 0.05) / Math.sqrt(0.05 * 0.05 + 0.1);
  expect(Math.abs(ref.params[0]![0]! - outside)).toBeLessThan(1e-7);
  expect(Math.abs(ref.params[0]![0]! - inside)).toBeGreaterThan(1e-5);
});

test.each([[12, 21], [2, 3, 5], [40, 1]])('adafactor on a matrix of shape %j (factored state) matches float64 over 10 steps', (...shape) => {
  const length = shape.reduce((a, b) => a * b, 1);
  for (const options of OPTION_MATRIX.adafactor) {
    const p0 = randomArray(length, rng(7));
    const ref = createReferenceOptimizer('adafactor', [{ name: 'w', data: p0.slice(), shape }], options);
    const expected = Array.from(p0);
    const state: Record<string, number[]> = {};
    for (let t = 1; t <= 10; t++) {
      const g = randomArray(length, rng(t));
      ref.step([g]);
      twins.adafactor.tensor(options, expected, g, state, t, shape);
    }
    expect(compare(ref.params[0]!, expected, TOLERANCE).mismatches, JSON.stringify(options)).toEqual([]);
    const slots = ref.stateDict().state[0]!;
    expect(Object.keys(slots).sort()).toEqual(['col_var', 'row_var']);
    expect(stateMismatches('adafactor', slots, (key) => state[key]), JSON.stringify(options)).toEqual([]);
  }
});
