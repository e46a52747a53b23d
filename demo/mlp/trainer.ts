/**
 * Trains the same MLP with several optimizers side by side on the GPU: same data, same initial
 * weights, same batch order. Each optimizer has its own packed parameter set; each step is one
 * command buffer (forward, backward, one optimizer dispatch).
 */
import { createOptimizer, createParameterSet, type Optimizer, type OptimizerName, type ParameterSet } from '../../src/index.js';
import type { Dataset } from '../data/datasets.js';
import { permutation, seededRandom } from '../../common/random.js';
import { createMlp, initialWeights, uploadDataset, type GpuDataset, type MlpRunner, type WeightInit } from './mlp.js';

export interface TrainOptimizer {
  label: string;
  name: OptimizerName;
  options: Record<string, unknown>;
  color?: string;
}

export interface TrainConfig {
  dataset: Dataset;
  /** Held out: evaluated beside the training set, never trained on. */
  test?: Dataset;
  hidden: number[];
  optimizers: TrainOptimizer[];
  /** 1 = SGD, N = full batch (BGD), in between = mini-batches. */
  batchSize: number;
  epochs: number;
  init: WeightInit;
  seed: number;
  /** Evaluate on the whole training (and test) set every this many steps (and at the end). */
  evalEvery: number;
}

export interface OptimizerMetrics {
  label: string;
  loss: number;
  accuracy: number;
  /** On the held-out set, when there is one. */
  testLoss?: number;
  testAccuracy?: number;
  stepsPerSecond: number;
  /** Bytes of optimizer state on the GPU (`Optimizer.stateBytes`). */
  stateBytes: number;
  /** Why the state is the size it is, where that is not obvious (`Optimizer.stateStorage.note`). */
  stateNote?: string;
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  metrics: OptimizerMetrics[];
}

export interface Trainer {
  readonly layers: number[];
  /** Trains; `onProgress` may return a promise (drawing from the GPU), which the run awaits. */
  run(onProgress?: (p: TrainProgress) => void | Promise<void>, shouldStop?: () => boolean): Promise<TrainProgress>;
  /** Class probabilities of optimizer `index`'s network on `points` ([n × inputs]): boundaries, digit predictions. */
  predict(index: number, points: Float32Array): Promise<Float32Array>;
  destroy(): void;
}

interface Member {
  spec: TrainOptimizer;
  params: ParameterSet;
  optimizer: Optimizer<any>;
  train: MlpRunner;
  evaluate: MlpRunner;
  test?: MlpRunner;
  busyMs: number;
  steps: number;
}

export function createTrainer(device: GPUDevice, config: TrainConfig): Trainer {
  const { dataset } = config;
  const n = dataset.labels.length;
  const batch = Math.max(1, Math.min(n, Math.floor(config.batchSize)));
  const layers = [dataset.inputs, ...config.hidden, dataset.classes];
  const gpuData = uploadDataset(device, dataset.features, dataset.labels, dataset.inputs, dataset.classes);
  const testData = config.test && uploadDataset(device, config.test.features, config.test.labels, dataset.inputs, dataset.classes);
  const members = createMembers(device, config, layers, batch, gpuData, testData);
  const stepsPerEpoch = Math.floor(n / batch);
  const totalSteps = stepsPerEpoch * config.epochs;
  const random = seededRandom(config.seed + 1);
  const predictors = createPredictors(device, members, layers, dataset);
  const evaluate = (step: number, epoch: number) => evaluateMembers(device, members, { step, totalSteps, epoch });

  return {
    layers,
    async run(onProgress, shouldStop) {
      let step = 0;
      let progress = await evaluate(0, 0);
      await onProgress?.(progress);
      for (let epoch = 1; epoch <= config.epochs; epoch++) {
        const order = permutation(n, random);
        for (let k = 0; k < stepsPerEpoch; k++) {
          if (shouldStop?.()) return progress;
          stepMembers(device, members, order.subarray(k * batch, (k + 1) * batch));
          step++;
          if (step % config.evalEvery === 0 || step === totalSteps) {
            await waitForSteps(device, members);
            progress = await evaluate(step, epoch);
            await onProgress?.(progress);
          }
        }
      }
      return progress;
    },
    predict: (index, points) => predictors.predict(index, points),
    destroy() {
      for (const m of members) destroyMember(m);
      predictors.destroy();
      gpuData.destroy();
      testData?.destroy();
    },
  };
}

/** One network per optimizer, each on its own copy of the same initial weights (seeded by `config.seed`). */
function createMembers(device: GPUDevice, config: TrainConfig, layers: number[], batch: number, gpuData: GpuDataset, testData: GpuDataset | undefined): Member[] {
  const weights = initialWeights(layers, config.init, seededRandom(config.seed));
  /** A runner over every row of `data` (evaluation). */
  const whole = (params: ParameterSet, data: GpuDataset, rows: number) => {
    const runner = createMlp(device, params, layers, data, rows);
    runner.setBatch(Uint32Array.from({ length: rows }, (_, i) => i));
    return runner;
  };
  return config.optimizers.map((spec) => {
    const params = createParameterSet(device, weights.map((w) => ({ name: w.name, shape: w.shape, data: w.data.slice() })), { label: `demo:${spec.label}` });
    return {
      spec,
      params,
      optimizer: createOptimizer(spec.name, params, spec.options as never),
      train: createMlp(device, params, layers, gpuData, batch),
      evaluate: whole(params, gpuData, config.dataset.labels.length),
      test: testData && whole(params, testData, config.test!.labels.length),
      busyMs: 0,
      steps: 0,
    };
  });
}

/** One training step of every network on the batch `rows`: forward, backward and the optimizer in one command buffer each. */
function stepMembers(device: GPUDevice, members: readonly Member[], rows: Uint32Array): void {
  for (const m of members) {
    const t0 = performance.now();
    m.train.setBatch(rows);
    const encoder = device.createCommandEncoder({ label: `demo:step:${m.spec.label}` });
    m.train.recordForward(encoder);
    m.train.recordBackward(encoder);
    m.optimizer.step(encoder);
    device.queue.submit([encoder.finish()]);
    m.busyMs += performance.now() - t0;
    m.steps++;
  }
}

/** Waits for the submitted steps and shares the wait among the networks, so that steps/s includes their GPU time. */
async function waitForSteps(device: GPUDevice, members: readonly Member[]): Promise<void> {
  const t0 = performance.now();
  await device.queue.onSubmittedWorkDone();
  const waited = (performance.now() - t0) / members.length;
  for (const m of members) m.busyMs += waited;
}

/** Loss and accuracy of every network on the whole training set (and the held-out set). */
async function evaluateMembers(device: GPUDevice, members: readonly Member[], at: Omit<TrainProgress, 'metrics'>): Promise<TrainProgress> {
  const metrics: OptimizerMetrics[] = [];
  const measure = async (runner: MlpRunner) => {
    const encoder = device.createCommandEncoder({ label: 'demo:evaluate' });
    runner.recordForward(encoder);
    device.queue.submit([encoder.finish()]);
    return runner.readMetrics();
  };
  for (const m of members) {
    const { loss, accuracy } = await measure(m.evaluate);
    const held = m.test && (await measure(m.test));
    metrics.push({ label: m.spec.label, loss, accuracy, testLoss: held?.loss, testAccuracy: held?.accuracy, stepsPerSecond: m.busyMs > 0 ? (m.steps / m.busyMs) * 1000 : 0, stateBytes: m.optimizer.stateBytes, stateNote: m.optimizer.stateStorage.note });
  }
  return { ...at, metrics };
}

function destroyMember(m: Member): void {
  m.train.destroy();
  m.evaluate.destroy();
  m.test?.destroy();
  m.optimizer.destroy();
  m.params.destroy();
}

/**
 * Class probabilities of a network on given points. One runner per (network, points array): the
 * points are uploaded once, the weights read live.
 */
function createPredictors(device: GPUDevice, members: readonly Member[], layers: readonly number[], dataset: Dataset) {
  const predictors: { index: number; points: Float32Array; data: GpuDataset; runner: MlpRunner }[] = [];
  const predictorFor = (index: number, points: Float32Array, count: number) => {
    let predictor = predictors.find((p) => p.index === index && p.points === points);
    if (!predictor) {
      const data = uploadDataset(device, points, new Uint32Array(count), dataset.inputs, dataset.classes);
      const runner = createMlp(device, members[index]!.params, layers, data, count);
      runner.setBatch(Uint32Array.from({ length: count }, (_, i) => i));
      predictor = { index, points, data, runner };
      predictors.push(predictor);
    }
    return predictor;
  };
  return {
    async predict(index: number, points: Float32Array): Promise<Float32Array> {
      const count = points.length / dataset.inputs;
      const { runner } = predictorFor(index, points, count);
      const encoder = device.createCommandEncoder({ label: 'demo:predict' });
      runner.recordForward(encoder);
      device.queue.submit([encoder.finish()]);
      return softmaxRows(await runner.readLogits(), count, dataset.classes);
    },
    destroy() {
      for (const p of predictors) {
        p.runner.destroy();
        p.data.destroy();
      }
    },
  };
}

/** Row-wise softmax of `count` rows of `classes` logits (the largest subtracted first). */
function softmaxRows(logits: Float32Array, count: number, classes: number): Float32Array {
  const probs = new Float32Array(logits.length);
  for (let i = 0; i < count; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    const max = Math.max(...row);
    let total = 0;
    for (let c = 0; c < classes; c++) total += Math.exp(row[c]! - max);
    for (let c = 0; c < classes; c++) probs[i * classes + c] = Math.exp(row[c]! - max) / total;
  }
  return probs;
}
