/**
 * webgpu-optim/tfjs: the TF.js optimizer against this library's CPU reference (params and every
 * state slot), against tf.train.* where the algorithms agree, inside model.fit, through
 * getConfig / getWeights / model.save, and on every misuse path (which must change nothing).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceOptimizer, type OptimizerName } from '../../src/index.js';
import { train, WebGPUOptimizer } from '../../src/tfjs/index.js';
import { compare, type Tolerance } from '../helpers/allclose.js';
import { OPTION_MATRIX, PARITY_TOLERANCE } from '../helpers/cases.js';
import { TESTED } from '../helpers/records/index.js';
import { randomArray, rng } from '../helpers/data.js';

const SHAPES = [[7, 3], [5], [1], [3, 11]];
const STEPS = 4;
let unique = 0;

beforeAll(async () => {
  expect(await tf.setBackend('webgpu')).toBe(true);
});
afterAll(() => {
  tf.disposeVariables();
});

/** Fresh variables of SHAPES with seeded values, and their names. */
function makeVariables(seed: number) {
  const random = rng(seed);
  const run = unique++;
  const values = SHAPES.map((s) => randomArray(s.reduce((a, b) => a * b, 1), random));
  const variables = SHAPES.map((s, i) => tf.variable(tf.tensor(values[i]!, s), true, `v${run}_${i}`));
  return { values, variables };
}

/** Gradients of step s (1-based), the same for every run. */
function gradients(step: number): Float32Array[] {
  const random = rng(1000 + step);
  return SHAPES.map((s) => randomArray(s.reduce((a, b) => a * b, 1), random));
}

function applyStep(opt: tf.Optimizer, variables: tf.Variable[], step: number) {
  const grads = gradients(step);
  const map: tf.NamedTensorMap = Object.fromEntries(variables.map((v, i) => [v.name, tf.tensor(grads[i]!, v.shape)]));
  opt.applyGradients(map);
  tf.dispose(Object.values(map));
}

async function values(variables: tf.Variable[]): Promise<Float32Array[]> {
  return Promise.all(variables.map(async (v) => (await v.data()) as Float32Array));
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what: string) {
  const r = compare(actual, expected, tol);
  expect(r.mismatches, `${what}: ${JSON.stringify(r.mismatches)}`).toEqual([]);
}


describe('TF.js optimizer vs the CPU reference (params and every slot, 4 steps)', () => {
  for (const name of TESTED) {
    const matrix = OPTION_MATRIX[name] as readonly Record<string, unknown>[];
    const options = matrix[matrix.length - 1]!;
    it(`${name} ${JSON.stringify(options)}`, async () => {
      const { values: initial, variables } = makeVariables(7);
      const opt = new WebGPUOptimizer(name as OptimizerName, options as never);
      const ref = createReferenceOptimizer(name as OptimizerName, variables.map((v, i) => ({ name: v.name, shape: v.shape, data: initial[i]!.slice() })), options as never);
      for (let s = 1; s <= STEPS; s++) {
        applyStep(opt, variables, s);
        ref.step(gradients(s));
      }
      const got = await values(variables);
      got.forEach((p, i) => expectClose(p, ref.params[i]!, PARITY_TOLERANCE, `${name} param ${i}`));
      const weights = await opt.getWeights();
      const refSd = ref.stateDict();
      expect(weights[0]!.name).toBe('iter');
      expect((await weights[0]!.tensor.data())[0]).toBe(STEPS);
      const slots = refSd.state.flatMap((st, i) => Object.entries(st).filter(([, v]) => v instanceof Float32Array).map(([slot, v]) => ({ name: `${variables[i]!.name}/${slot}`, v: v as Float32Array })));
      const setState = Object.entries(refSd.setState ?? {});
      expect(weights.slice(2, 2 + setState.length).map((w) => w.name).sort()).toEqual(setState.map(([k]) => `setState.${k}`).sort());
      for (const [k, v] of setState) expect((await weights.find((w) => w.name === `setState.${k}`)!.tensor.data())[0], `setState.${k}`).toBe(v);
      expect(weights.slice(2 + setState.length).map((w) => w.name)).toEqual(slots.map((s) => s.name));
      for (const s of slots) expectClose((await weights.find((w) => w.name === s.name)!.tensor.data()) as Float32Array, s.v, PARITY_TOLERANCE, s.name);
      tf.dispose(weights.map((w) => w.tensor));
      opt.dispose();
      tf.dispose(variables);
    });
  }
});

describe('16-bit state through TF.js: the twin\'s values, f32 weights, bit-identical restore', () => {
  for (const [name, options] of [
    ['adam', { lr: 0.01, amsgrad: true, stateFormat: 'bf16' }],
    ['rmsprop', { lr: 0.01, centered: true, momentum: 0.9, stateFormat: 'f16', stochasticRounding: { seed: 3 } }],
  ] as const) {
    it(`${name} ${JSON.stringify(options)}`, async () => {
      const { values: initial, variables } = makeVariables(17);
      const opt = new WebGPUOptimizer(name, options as never);
      const ref = createReferenceOptimizer(name as OptimizerName, variables.map((v, i) => ({ name: v.name, shape: v.shape, data: initial[i]!.slice() })), options as never);
      for (let s = 1; s <= STEPS; s++) {
        applyStep(opt, variables, s);
        ref.step(gradients(s));
      }
      (await values(variables)).forEach((p, i) => expectClose(p, ref.params[i]!, PARITY_TOLERANCE, `${name} param ${i}`));
      // The weights are f32: the stored 16-bit values, decoded.
      const weights = await opt.getWeights();
      const refSd = ref.stateDict({ dequantize: true });
      for (const [i, st] of refSd.state.entries()) {
        for (const [slot, v] of Object.entries(st)) {
          const w = weights.find((x) => x.name === `${variables[i]!.name}/${slot}`)!;
          expect(w.tensor.dtype).toBe('float32');
          expectClose((await w.tensor.data()) as Float32Array, v as Float32Array, PARITY_TOLERANCE, `${slot} of ${i}`);
        }
      }
      // Set back: the f32 weights round to the same 16-bit values, so the state is unchanged, bit for bit.
      await opt.setWeights(weights);
      const restored = await opt.getWeights();
      expect(restored.map((w) => w.name)).toEqual(weights.map((w) => w.name));
      for (const [k, w] of restored.entries()) expect(Array.from(await w.tensor.data()), w.name).toEqual(Array.from(await weights[k]!.tensor.data()));
      tf.dispose([...weights, ...restored].map((w) => w.tensor));
      opt.dispose();
      tf.dispose(variables);
    });
  }
});

/** tf.train.* and train.* (same arguments) where the algorithms agree: within 1e-5 after 5 steps. */
const AGREEING: [string, () => tf.Optimizer, () => tf.Optimizer][] = [
  ['sgd(0.1)', () => tf.train.sgd(0.1), () => train.sgd(0.1)],
  ['momentum(0.05, 0.9)', () => tf.train.momentum(0.05, 0.9), () => train.momentum(0.05, 0.9)],
  ['momentum(0.05, 0.9, nesterov)', () => tf.train.momentum(0.05, 0.9, true), () => train.momentum(0.05, 0.9, true)],
  ['adam(0.01)', () => tf.train.adam(0.01), () => train.adam(0.01)],
  ['adam(0.01, 0.8, 0.99, 1e-4)', () => tf.train.adam(0.01, 0.8, 0.99, 1e-4), () => train.adam(0.01, 0.8, 0.99, 1e-4)],
];

describe('train.* against tf.train.* with the same arguments (TF.js defaults)', () => {
  for (const [label, theirs, ours] of AGREEING) {
    it(label, async () => {
      const a = makeVariables(11);
      const b = makeVariables(11);
      const tfOpt = theirs();
      const opt = ours();
      for (let s = 1; s <= 5; s++) {
        applyStep(tfOpt, a.variables, s);
        applyStep(opt, b.variables, s);
      }
      const [va, vb] = [await values(a.variables), await values(b.variables)];
      vb.forEach((p, i) => expectClose(p, va[i]!, { atol: 1e-5, rtol: 0 }, `${label} param ${i}`));
      tfOpt.dispose();
      opt.dispose();
      tf.dispose([...a.variables, ...b.variables]);
    });
  }
});

describe('inside TF.js training', () => {
  /** A small dense classifier with fixed initial weights. */
  function model(seed: number) {
    const m = tfl.sequential();
    m.add(tfl.layers.dense({ inputShape: [4], units: 8, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }));
    m.add(tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }));
    return m;
  }
  function data() {
    const random = rng(5);
    const xs = Array.from({ length: 48 }, () => [random(), random(), random(), random()].map((v) => v * 2 - 1));
    const ys = xs.map((x) => [x[0]! + x[1]! > 0.3 ? 1 : 0, x[2]! - x[3]! > 0 ? 1 : 0, 0]).map(([p, q]) => (p ? 0 : q ? 1 : 2));
    return { x: tf.tensor2d(xs), y: tf.oneHot(tf.tensor1d(ys, 'int32'), 3) };
  }

  it('model.fit with train.adam matches tf.train.adam (loss per epoch within 1e-5 relative)', async () => {
    const { x, y } = data();
    const losses: number[][] = [];
    for (const optimizer of [tf.train.adam(0.02), train.adam(0.02)]) {
      const m = model(3);
      m.compile({ optimizer, loss: 'categoricalCrossentropy' });
      const h = await m.fit(x, y, { epochs: 6, batchSize: 16, shuffle: false, verbose: 0 });
      losses.push(h.history.loss as number[]);
      m.dispose();
    }
    const worst = losses[1]!.reduce((w, loss, e) => {
      const diff = Math.abs(loss - losses[0]![e]!);
      return { abs: Math.max(w.abs, diff), rel: Math.max(w.rel, diff / Math.abs(losses[0]![e]!)) };
    }, { abs: 0, rel: 0 });
    console.log(`model.fit, train.adam vs tf.train.adam, 6 epochs (losses ${losses[0]![0]!.toFixed(3)} → ${losses[0]![5]!.toFixed(3)}): largest difference ${worst.abs.toExponential(2)}, relative ${worst.rel.toExponential(2)}`);
    // Float32 rounding: the difference scales with the loss, so the bound is relative.
    expectClose(losses[1]!, losses[0]!, { atol: 0, rtol: 1e-5 }, 'loss per epoch');
    expect(losses[1]![5]!).toBeLessThan(losses[1]![0]! * 0.8);
    tf.dispose([x, y]);
  });

  it('optimizer.minimize works and no step reads the GPU back (mapAsync is never called)', async () => {
    const { variables } = makeVariables(21);
    const opt = train.momentum(0.01, 0.9);
    const loss = () => tf.addN(variables.map((v) => tf.sum(tf.square(v)))) as tf.Scalar;
    const before = (await loss().data())[0]!;
    const proto = GPUBuffer.prototype as unknown as { mapAsync: (...args: unknown[]) => Promise<void> };
    const original = proto.mapAsync;
    let maps = 0;
    proto.mapAsync = function (...args: unknown[]) {
      maps++;
      return original.apply(this, args);
    };
    try {
      for (let s = 0; s < 5; s++) tf.tidy(() => void opt.minimize(loss));
    } finally {
      proto.mapAsync = original;
    }
    expect(maps).toBe(0);
    expect((await loss().data())[0]!).toBeLessThan(before);
    expect(opt.iterations).toBe(5);
    opt.dispose();
    tf.dispose(variables);
  });

  it('values the user assigns between steps are used by the next step', async () => {
    const { values: initial, variables } = makeVariables(31);
    const opt = new WebGPUOptimizer('adam', { lr: 0.1 });
    const ref = createReferenceOptimizer('adam', variables.map((v, i) => ({ name: v.name, data: initial[i]!.slice() })), { lr: 0.1 });
    applyStep(opt, variables, 1);
    ref.step(gradients(1));
    const reset = variables.map((v) => new Float32Array(v.size).fill(0.25));
    variables[2]!.assign(tf.tensor(reset[2]!, variables[2]!.shape));
    ref.params[2]!.set(reset[2]!);
    applyStep(opt, variables, 2);
    ref.step(gradients(2));
    (await values(variables)).forEach((p, i) => expectClose(p, ref.params[i]!, PARITY_TOLERANCE, `param ${i}`));
    opt.dispose();
    tf.dispose(variables);
  });
});

describe('Schedule-Free: eval() and train() switch the variables', () => {
  it.each([
    ['adamw_schedule_free', { lr: 0.01, warmupSteps: 2, innerMomentum: 0.9 }],
    ['adamw_schedule_free_paper', { lr: 0.01, warmupSteps: 2 }],
  ] as const)('%s: the averaged point to evaluate at, then back; training and weights refuse in eval mode', async (name, options) => {
    const { values: initial, variables } = makeVariables(81);
    const opt = new WebGPUOptimizer(name, options);
    const ref = createReferenceOptimizer(name, variables.map((v, i) => ({ name: v.name, data: initial[i]!.slice() })), options);
    opt.eval(); // before the first step: the initial point is both
    expect(opt.mode).toBe('eval');
    expect(() => applyStep(opt, variables, 1)).toThrow(/eval mode\); call train\(\) before training/);
    opt.train();
    for (let s = 1; s <= 3; s++) {
      applyStep(opt, variables, s);
      ref.step(gradients(s));
    }
    opt.eval();
    ref.eval();
    expect(opt.mode).toBe('eval');
    (await values(variables)).forEach((p, i) => expectClose(p, ref.params[i]!, PARITY_TOLERANCE, `eval param ${i}`));
    expect(() => applyStep(opt, variables, 4)).toThrow(/call train\(\) before training/);
    await expect(opt.getWeights()).rejects.toThrow(/getWeights: .*eval mode/);
    opt.train();
    ref.train();
    applyStep(opt, variables, 4);
    ref.step(gradients(4));
    (await values(variables)).forEach((p, i) => expectClose(p, ref.params[i]!, PARITY_TOLERANCE, `param ${i} after train()`));
    expect(() => train.adam().eval()).toThrow(/adam has no train\/eval modes/);
    expect(train.adam().mode).toBeUndefined();
    opt.dispose();
    tf.dispose(variables);
  });
});

describe('saving and restoring', () => {
  it('getConfig / fromConfig and the serialization registry give the same optimizer', () => {
    const opt = new WebGPUOptimizer('adam', { lr: 0.003, betas: [0.8, 0.9], amsgrad: true });
    const config = opt.getConfig();
    expect(JSON.parse(JSON.stringify(config))).toEqual({ optimizer: 'adam', options: { lr: 0.003, betas: [0.8, 0.9], amsgrad: true } });
    const cls = tf.serialization.SerializationMap.getMap().classNameMap['WebGPUOptimizer']!;
    const copy = cls[1](cls[0], config) as WebGPUOptimizer;
    expect(copy).toBeInstanceOf(WebGPUOptimizer);
    expect(copy.getConfig()).toEqual(config);
    expect(copy.learningRate).toBe(0.003);
  });

  it('getWeights → setWeights on a new optimizer: the next step is identical', async () => {
    for (const name of ['adam', 'nadam', 'rmsprop'] as const) {
      const options = (OPTION_MATRIX[name] as readonly Record<string, unknown>[]).at(-1)!;
      const a = makeVariables(41);
      const b = makeVariables(41);
      const first = new WebGPUOptimizer(name, options as never);
      for (let s = 1; s <= 3; s++) applyStep(first, a.variables, s);
      b.variables.forEach((v, i) => v.assign(a.variables[i]!));
      const weights = await first.getWeights();
      const second = new WebGPUOptimizer(name, options as never);
      await second.setWeights(weights);
      expect(second.iterations).toBe(3);
      applyStep(first, a.variables, 4);
      applyStep(second, b.variables, 4);
      const [va, vb] = [await values(a.variables), await values(b.variables)];
      vb.forEach((p, i) => expect(p, `${name} param ${i}`).toEqual(va[i]));
      tf.dispose(weights.map((w) => w.tensor));
      first.dispose();
      second.dispose();
      tf.dispose([...a.variables, ...b.variables]);
    }
  });

  it("Prodigy's whole-set scalars (d, d_numerator, …) travel in the weights: the next step is identical; a weight for another optimizer is refused", async () => {
    const options = { lr: 1, betas: [0, 0.999], d0: 1e-3 } as const;
    const a = makeVariables(43);
    const b = makeVariables(43);
    const first = new WebGPUOptimizer('prodigy', options as never);
    for (let s = 1; s <= 3; s++) applyStep(first, a.variables, s);
    b.variables.forEach((v, i) => v.assign(a.variables[i]!));
    const weights = await first.getWeights();
    expect(weights.map((w) => w.name)).toEqual(expect.arrayContaining(['setState.d', 'setState.d_numerator', 'setState.d_max', 'setState.k']));
    const second = new WebGPUOptimizer('prodigy', options as never);
    await second.setWeights(weights);
    applyStep(first, a.variables, 4);
    applyStep(second, b.variables, 4);
    const [va, vb] = [await values(a.variables), await values(b.variables)];
    vb.forEach((p, i) => expect(p, `prodigy param ${i}`).toEqual(va[i]));
    const adam = new WebGPUOptimizer('adam', { lr: 0.01 } as never);
    applyStep(adam, b.variables, 5);
    const adamWeights = await adam.getWeights();
    await expect(adam.setWeights([...adamWeights, { name: 'setState.d', tensor: tf.scalar(1, 'float32') }])).rejects.toThrow(/unknown weights "setState\.d" \(adam keeps no whole-set scalars\)/);
    tf.dispose([...weights, ...adamWeights].map((w) => w.tensor));
    for (const o of [first, second, adam]) o.dispose();
    tf.dispose([...a.variables, ...b.variables]);
  });

  it('model.save with includeOptimizer, then loadLayersModel: training goes on identically', async () => {
    const m = tfl.sequential();
    m.add(tfl.layers.dense({ inputShape: [3], units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 9 }) }));
    m.compile({ optimizer: train.adam(0.05), loss: 'meanSquaredError' });
    const x = tf.tensor2d([[1, 2, 3], [0.5, -1, 2], [-1, 0, 1], [2, 2, -2]]);
    const y = tf.tensor2d([[1, 0], [0, 1], [1, 1], [0, 0]]);
    await m.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false, verbose: 0 });
    let saved: tf.io.ModelArtifacts | undefined;
    await m.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }), { includeOptimizer: true });
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    expect(loaded.optimizer).toBeInstanceOf(WebGPUOptimizer);
    expect((loaded.optimizer as WebGPUOptimizer).iterations).toBe(6);
    const [h1, h2] = [
      await m.fit(x, y, { epochs: 2, batchSize: 2, shuffle: false, verbose: 0 }),
      await loaded.fit(x, y, { epochs: 2, batchSize: 2, shuffle: false, verbose: 0 }),
    ];
    expect(h2.history.loss).toEqual(h1.history.loss);
    m.dispose();
    loaded.dispose();
    tf.dispose([x, y]);
  });
});

describe('misuse: a clear error, and nothing changes', () => {
  it('refuses bad construction', () => {
    expect(() => new WebGPUOptimizer('adamm' as never)).toThrow(/unknown optimizer "adamm"/);
    expect(() => new WebGPUOptimizer('adam', { lr: -1 })).toThrow(/lr/);
    expect(() => new WebGPUOptimizer('adam', { lrSchedule: () => 1 } as never)).toThrow(/option "lrSchedule".*learningRate/);
    expect(() => new WebGPUOptimizer('adam', { accumulation: { steps: 2 } } as never)).toThrow(/option "accumulation"/);
    expect(() => new WebGPUOptimizer('adam', null as never)).toThrow(/options must be an object/);
    expect(() => new WebGPUOptimizer('adam', { groups: [{ tensors: ['x'], lr: Number.NaN }] })).toThrow(/lr/);
    expect(() => train.adamax(0.002, 0.9, 0.999, null, 0.1)).toThrow(/decay 0.1/);
    const opt = train.adam(0.01);
    expect(() => (opt.learningRate = Number.NaN)).toThrow(/learningRate must be a finite number/);
    expect(opt.learningRate).toBe(0.01);
  });

  it('refuses bad gradients before touching any variable or state', async () => {
    const { values: initial, variables } = makeVariables(51);
    const opt = new WebGPUOptimizer('adam', { lr: 0.1 });
    const ref = createReferenceOptimizer('adam', variables.map((v, i) => ({ name: v.name, data: initial[i]!.slice() })), { lr: 0.1 });
    applyStep(opt, variables, 1);
    ref.step(gradients(1));
    const g = (i: number, shape = variables[i]!.shape, dtype: 'float32' | 'int32' = 'float32') => tf.zeros(shape, dtype);
    const all = () => Object.fromEntries(variables.map((v, i) => [v.name, g(i)]));
    const bad: [string, () => tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[], RegExp][] = [
      ['a missing variable', () => { const m = all(); delete m[variables[0]!.name]; return m; }, /missing "v\d+_0"/],
      ['an unknown variable', () => ({ ...all(), nosuch: g(0) }), /no variable named "nosuch"/],
      ['a wrong shape', () => ({ ...all(), [variables[1]!.name]: g(0) }), /has shape \[7,3\], the variable \[5\]/],
      ['int32', () => ({ ...all(), [variables[2]!.name]: g(2, undefined, 'int32') }), /only float32/],
      ['null', () => ({ ...all(), [variables[3]!.name]: null as unknown as tf.Tensor }), /is null, not a tensor/],
      ['a duplicate', () => [...variables.map((v, i) => ({ name: v.name, tensor: g(i) })), { name: variables[0]!.name, tensor: g(0) }], /two gradients for/],
      ['nothing', () => ({}), /got no gradients/],
    ];
    for (const [what, make, message] of bad) {
      const grads = make();
      expect(() => opt.applyGradients(grads), what).toThrow(message);
      tf.dispose(Array.isArray(grads) ? grads.map((x) => x.tensor) : Object.values(grads).filter(Boolean));
    }
    const extra = tf.variable(tf.zeros([2]), true, `extra${unique++}`);
    const withExtra = { ...all(), [extra.name]: tf.zeros([2]) };
    expect(() => opt.applyGradients(withExtra)).toThrow(/new "extra\d+"/);
    tf.dispose([...Object.values(withExtra), extra]);
    expect(opt.iterations).toBe(1);
    (await values(variables)).forEach((p, i) => expect(p).toEqual(ref.params[i]));
    applyStep(opt, variables, 2);
    ref.step(gradients(2));
    (await values(variables)).forEach((p, i) => expectClose(p, ref.params[i]!, PARITY_TOLERANCE, `param ${i} after the refusals`));
    opt.dispose();
    tf.dispose(variables);
  });

  it('refuses bad weights in setWeights and keeps its state', async () => {
    const { variables } = makeVariables(61);
    const opt = new WebGPUOptimizer('adam', { lr: 0.1 });
    for (let s = 1; s <= 2; s++) applyStep(opt, variables, s);
    const good = await opt.getWeights();
    const name = `${variables[1]!.name}/exp_avg`;
    const cases: [string, { name: string; tensor: tf.Tensor }[], RegExp][] = [
      ['a missing slot', good.filter((w) => w.name !== name), new RegExp(`no "${name}" weight`)],
      ['another variable', [...good, { name: 'other/thing', tensor: tf.zeros([1]) }], /state for 5 variables .*this optimizer updates 4/],
      ['an unknown slot', [...good, { name: `${variables[0]!.name}/bogus`, tensor: tf.zeros([21]) }], /unknown weights "v\d+_0\/bogus" \(variable 0 keeps exp_avg, exp_avg_sq\)/],
      ['an unknown count', [...good, { name: 'epoch', tensor: tf.scalar(1) }], /unknown weights "epoch"/],
      ['a wrong size', good.map((w) => (w.name === name ? { name, tensor: tf.zeros([4]) } : w)), /must be float32 with 5 values \(variable 1, "v\d+_1"\), got float32 with 4/],
      ['a bad count', good.map((w) => (w.name === 'iter' ? { name: 'iter', tensor: tf.scalar(-2, 'int32') } : w)), /"iter" must be one integer >= 0/],
    ];
    for (const [what, weights, message] of cases) await expect(opt.setWeights(weights), what).rejects.toThrow(message);
    const fresh = new WebGPUOptimizer('adam', { lr: 0.1 });
    await expect(fresh.setWeights([...good, { name: 'w/exp_avg', tensor: tf.zeros([2]) }])).rejects.toThrow(/no "w\/exp_avg_sq" weight/);
    await fresh.setWeights(good); // before any step: kept for the first one
    const other = makeVariables(62).variables.slice(0, 2);
    const grads = Object.fromEntries(other.map((v) => [v.name, tf.zerosLike(v)]));
    expect(() => fresh.applyGradients(grads)).toThrow(/setWeights is for 4 variables of shapes \[7,3\] \[5\] \[1\] \[3,11\]; this step updates 2/);
    expect(fresh.iterations).toBe(2);
    tf.dispose([...Object.values(grads), ...other]);
    fresh.dispose();
    const after = await opt.getWeights();
    expect(after.map((w) => w.name)).toEqual(good.map((w) => w.name));
    for (let i = 0; i < good.length; i++) expect(await after[i]!.tensor.data()).toEqual(await good[i]!.tensor.data());
    opt.dispose();
    tf.dispose(variables);
  });

  it('refuses a backend other than webgpu, naming it; takes tensors made under another backend once webgpu is back', async () => {
    const opt = train.sgd(0.1);
    let made: ReturnType<typeof makeVariables>;
    await tf.setBackend('cpu');
    try {
      made = makeVariables(71); // their values live in the cpu backend
      const grads = Object.fromEntries(made.variables.map((v) => [v.name, tf.zerosLike(v)]));
      expect(() => opt.applyGradients(grads)).toThrow(/needs TF.js's "webgpu" backend.*active backend is "cpu"/);
      tf.dispose(Object.values(grads));
    } finally {
      await tf.setBackend('webgpu');
    }
    const { values: initial, variables } = made!;
    const ref = createReferenceOptimizer('sgd', variables.map((v, i) => ({ name: v.name, data: initial[i]!.slice() })), { lr: 0.1 });
    applyStep(opt, variables, 1);
    ref.step(gradients(1));
    (await values(variables)).forEach((p, i) => expectClose(p, ref.params[i]!, PARITY_TOLERANCE, `param ${i}`));
    opt.dispose();
    tf.dispose(variables);
  });
});
