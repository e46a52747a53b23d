/**
 * An MLP on the GPU for the demo: gather a batch from a GPU-resident dataset, dense layers with
 * ReLU, softmax cross-entropy, and the backward pass, which writes each weight's gradient into the
 * parameter set's packed gradient buffer so that one optimizer step updates every layer.
 */
import type { ParameterSet } from '../../src/index.js';
import { createMlpBuffers } from './buffers.js';
import { backwardSteps, forwardSteps, recordSteps, type MlpGraph } from './passes.js';
import { mlpPipelines } from './pipelines.js';

export type WeightInit = 'he' | 'xavier';

/** Gaussian from a seeded uniform source (Box–Muller). */
function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * Initial weights `W0, b0, W1, b1, …` for layer sizes `[in, h1, …, out]`: He (std √(2/fan_in),
 * for ReLU) or Xavier/Glorot (std √(2/(fan_in + fan_out))); biases zero.
 */
export function initialWeights(layers: readonly number[], init: WeightInit, random: () => number) {
  const tensors: { name: string; shape: number[]; data: Float32Array }[] = [];
  for (let l = 0; l + 1 < layers.length; l++) {
    const fanIn = layers[l]!;
    const fanOut = layers[l + 1]!;
    const std = init === 'he' ? Math.sqrt(2 / fanIn) : Math.sqrt(2 / (fanIn + fanOut));
    // W is [fan_in, fan_out], row-major (the shape matters to Adafactor's factored state).
    tensors.push({ name: `W${l}`, shape: [fanIn, fanOut], data: Float32Array.from({ length: fanIn * fanOut }, () => gaussian(random) * std) });
    tensors.push({ name: `b${l}`, shape: [fanOut], data: new Float32Array(fanOut) });
  }
  return tensors;
}

export interface GpuDataset {
  readonly features: GPUBuffer;
  readonly labels: GPUBuffer;
  readonly count: number;
  readonly inputs: number;
  readonly classes: number;
  destroy(): void;
}

export function uploadDataset(device: GPUDevice, features: Float32Array, labels: Uint32Array, inputs: number, classes: number): GpuDataset {
  const make = (label: string, data: Float32Array | Uint32Array) => {
    const buffer = device.createBuffer({ label, size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
    return buffer;
  };
  const f = make('demo:dataset:features', features);
  const l = make('demo:dataset:labels', labels);
  return { features: f, labels: l, count: labels.length, inputs, classes, destroy: () => (f.destroy(), l.destroy()) };
}

export interface MlpRunner {
  readonly batch: number;
  /** Rows of the dataset that make up the next batch (`batch` of them). */
  setBatch(indices: Uint32Array): void;
  /** Gather, forward, loss and dLogits. */
  recordForward(encoder: GPUCommandEncoder): void;
  /** Backward: writes the gradients into `params.gradBuffer`. */
  recordBackward(encoder: GPUCommandEncoder): void;
  /** Mean loss and accuracy of the last forward pass. */
  readMetrics(): Promise<{ loss: number; accuracy: number }>;
  /** Logits of the last forward pass, `[batch × classes]`. */
  readLogits(): Promise<Float32Array>;
  destroy(): void;
}

/** The MLP over `params` (tensors from `initialWeights`) with a fixed batch size. */
export function createMlp(device: GPUDevice, params: ParameterSet, layers: readonly number[], dataset: GpuDataset, batch: number): MlpRunner {
  const label = `demo:mlp×${batch}`;
  const buffers = createMlpBuffers(device, label, layers, batch);
  const graph: MlpGraph = { device, label, pipelines: mlpPipelines(device), buffers, params, layers, batch, features: dataset.features, dataLabels: dataset.labels };
  const forward = forwardSteps(graph);
  const backward = backwardSteps(graph);
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const classes = layers[layers.length - 1]!;
  const read = (src: GPUBuffer, bytes: number) => readBack(device, `${label}:read`, src, buffers.staging, bytes);
  return {
    batch,
    setBatch(rows) {
      if (rows.length !== batch) throw new RangeError(`demo: expected ${batch} batch indices, got ${rows.length}`);
      device.queue.writeBuffer(buffers.indices, 0, rows as Uint32Array<ArrayBuffer>);
    },
    recordForward: (encoder) => recordSteps(encoder, forward, `${label}:forward`, maxDim),
    recordBackward: (encoder) => recordSteps(encoder, backward, `${label}:backward`, maxDim),
    async readMetrics() {
      return batchMetrics(new Float32Array(await read(buffers.loss, batch * 4)), new Uint32Array(await read(buffers.correct, batch * 4)));
    },
    async readLogits() {
      return new Float32Array(await read(buffers.z[layers.length - 2]!, batch * classes * 4));
    },
    destroy: () => buffers.destroy(),
  };
}

/** Copies `bytes` of `src` through `staging` (MAP_READ) and returns them. */
async function readBack(device: GPUDevice, label: string, src: GPUBuffer, staging: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const encoder = device.createCommandEncoder({ label });
  encoder.copyBufferToBuffer(src, 0, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ, 0, bytes);
  const copy = staging.getMappedRange(0, bytes).slice(0);
  staging.unmap();
  return copy;
}

/** Mean loss and accuracy of a batch from its rows' losses and hits (1: classified right). */
function batchMetrics(losses: Float32Array, hits: Uint32Array): { loss: number; accuracy: number } {
  let sum = 0;
  let right = 0;
  for (let b = 0; b < losses.length; b++) {
    sum += losses[b]!;
    right += hits[b]!;
  }
  return { loss: sum / losses.length, accuracy: right / losses.length };
}
