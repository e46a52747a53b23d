/**
 * webgpu-optim/tfjs follows its variables by identity, not by name alone: a variable disposed and
 * re-created under the same name is refused (clear error, no iteration counted, nothing written,
 * no tensor leaked), and the variables it packed still train once the caller uses them again.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebGPUOptimizer } from '../../src/tfjs/index.js';

let unique = 0;

beforeAll(async () => {
  expect(await tf.setBackend('webgpu')).toBe(true);
});
afterAll(() => {
  tf.disposeVariables();
});

function gradientsFor(variables: tf.Variable[], value: number): tf.NamedTensorMap {
  return Object.fromEntries(variables.map((v) => [v.name, tf.fill(v.shape, value)]));
}

describe('TF.js: variables are followed by identity', () => {
  it.each(['adam', 'adamw_schedule_free'] as const)('%s: a variable disposed and re-created under its name is refused, never written; nothing counted or leaked', async (name) => {
    const run = unique++;
    const a = tf.variable(tf.fill([3, 2], 1), true, `id${run}_a`);
    const b = tf.variable(tf.fill([4], 2), true, `id${run}_b`);
    const opt = new WebGPUOptimizer(name, { lr: 0.1 });
    const first = gradientsFor([a, b], 0.5);
    opt.applyGradients(first);
    tf.dispose(Object.values(first));
    const trained = (await b.data()) as Float32Array;

    b.dispose();
    const reborn = tf.variable(tf.fill([4], 7), true, `id${run}_b`);
    const grads = gradientsFor([a, reborn], 0.5);
    const tensorsBefore = tf.memory().numTensors;
    const aBefore = await a.data();
    expect(() => opt.applyGradients(grads)).toThrow(
      new RegExp(`webgpu-optim/tfjs: applyGradients: variable "id${run}_b" is not the one this optimizer packed \\(it was disposed and a new variable took its name\\); create a new optimizer for the new variables`),
    );
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(opt.iterations).toBe(1);
    expect(await reborn.data()).toEqual(new Float32Array(4).fill(7));
    expect(await a.data()).toEqual(aBefore);
    if (name === 'adamw_schedule_free') {
      expect(() => opt.eval()).toThrow(/variable "id\d+_b" is not the one this optimizer packed/);
      expect(opt.mode).toBe('train');
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    }
    tf.dispose(Object.values(grads));
    expect(trained).not.toEqual(new Float32Array(4).fill(2));
    opt.dispose();
    tf.dispose([a, reborn]);
  });

  it('applyGradients, eval(), train() and the learningRate setter while setWeights is pending are refused (the load would overwrite them); afterwards they run', async () => {
    const run = unique++;
    const w = tf.variable(tf.fill([4], 1), true, `load${run}_w`);
    const opt = new WebGPUOptimizer('adamw_schedule_free', { lr: 0.1 });
    const step = () => {
      const grads = gradientsFor([w], 0.5);
      try {
        opt.applyGradients(grads);
      } finally {
        tf.dispose(Object.values(grads));
      }
    };
    step();
    const weights = await opt.getWeights();
    step();
    const before = await w.data();
    const tensorsBefore = tf.memory().numTensors;
    const loading = opt.setWeights(weights);
    expect(() => step()).toThrow(/applyGradients: setWeights is still pending; await it first/);
    expect(() => opt.eval()).toThrow(/eval\(\): setWeights is still pending/);
    // The load restores the lr it was given: a new one set now would be lost, so it is refused too.
    expect(() => (opt.learningRate = 0.5)).toThrow(/learningRate: setWeights is still pending/);
    expect(opt.learningRate).toBe(0.1);
    expect(opt.iterations).toBe(2);
    expect(opt.mode).toBe('train');
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    await loading;
    expect(opt.iterations).toBe(1);
    expect(await w.data()).toEqual(before);
    step();
    expect(opt.iterations).toBe(2);
    tf.dispose(weights.map((x) => x.tensor));
    opt.dispose();
    w.dispose();
  });
});
