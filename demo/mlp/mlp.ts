/**
 * An MLP on the GPU for the demo: gather a batch from a GPU-resident dataset, dense layers with
 * ReLU, softmax cross-entropy, and the backward pass, which writes each weight's gradient into the
 * parameter set's packed gradient buffer so that one optimizer step updates every layer.
 */
import type { ParameterSet } from '../../src/index.js';
import source from './mlp.wgsl?raw';

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

interface Pipelines {
  gather: GPUComputePipeline;
  denseForward: GPUComputePipeline;
  softmaxCrossEntropy: GPUComputePipeline;
  denseBackwardParams: GPUComputePipeline;
  denseBackwardInput: GPUComputePipeline;
}

const pipelineCache = new WeakMap<GPUDevice, Pipelines>();

function pipelines(device: GPUDevice): Pipelines {
  let cached = pipelineCache.get(device);
  if (!cached) {
    const module = device.createShaderModule({ label: 'demo:mlp', code: source });
    const make = (entryPoint: string) => device.createComputePipeline({ label: `demo:mlp:${entryPoint}`, layout: 'auto', compute: { module, entryPoint } });
    cached = {
      gather: make('gather'),
      denseForward: make('denseForward'),
      softmaxCrossEntropy: make('softmaxCrossEntropy'),
      denseBackwardParams: make('denseBackwardParams'),
      denseBackwardInput: make('denseBackwardInput'),
    };
    pipelineCache.set(device, cached);
  }
  return cached;
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
  const p = pipelines(device);
  const label = `demo:mlp×${batch}`;
  const owned: GPUBuffer[] = [];
  const buffer = (name: string, bytes: number, usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC) => {
    const b = device.createBuffer({ label: `${label}:${name}`, size: Math.max(16, bytes), usage });
    owned.push(b);
    return b;
  };
  const uniform = (b: number, i: number, o: number, relu: boolean) => {
    const u = buffer('dims', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    device.queue.writeBuffer(u, 0, Uint32Array.of(b, i, o, relu ? 1 : 0));
    return u;
  };
  const layerCount = layers.length - 1;
  const tensor = (name: string) => {
    const t = params.tensors.find((x) => x.name === name);
    if (!t) throw new Error(`demo: the parameter set has no tensor ${name}`);
    return t;
  };
  const range = (buf: GPUBuffer, name: string) => {
    const t = tensor(name);
    return { buffer: buf, offset: t.byteOffset, size: t.byteLength };
  };

  const indices = buffer('batchIndex', batch * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  const x0 = buffer('x', batch * layers[0]! * 4);
  const labels = buffer('labels', batch * 4);
  const z = layers.slice(1).map((o, l) => buffer(`z${l}`, batch * o * 4));
  const a = layers.slice(1).map((o, l) => buffer(`a${l}`, batch * o * 4));
  const dz = layers.slice(1).map((o, l) => buffer(`dz${l}`, batch * o * 4));
  const loss = buffer('loss', batch * 4);
  const correct = buffer('correct', batch * 4);
  const staging = buffer('staging', batch * Math.max(2, layers[layerCount]!) * 4, GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ);

  type Step = { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; count: number };
  const bind = (pipeline: GPUComputePipeline, entries: [number, GPUBufferBinding][], name: string) =>
    device.createBindGroup({ label: `${label}:${name}`, layout: pipeline.getBindGroupLayout(0), entries: entries.map(([binding, resource]) => ({ binding, resource })) });

  const forward: Step[] = [
    {
      pipeline: p.gather,
      count: batch * layers[0]!,
      bindGroup: bind(p.gather, [[0, { buffer: uniform(batch, layers[0]!, 0, false) }], [1, { buffer: dataset.features }], [2, { buffer: dataset.labels }], [3, { buffer: indices }], [4, { buffer: x0 }], [5, { buffer: labels }]], 'gather'),
    },
  ];
  for (let l = 0; l < layerCount; l++) {
    const last = l === layerCount - 1;
    forward.push({
      pipeline: p.denseForward,
      count: batch * layers[l + 1]!,
      bindGroup: bind(p.denseForward, [
        [0, { buffer: uniform(batch, layers[l]!, layers[l + 1]!, !last) }],
        [6, { buffer: l === 0 ? x0 : a[l - 1]! }],
        [7, range(params.paramBuffer, `W${l}`)],
        [8, range(params.paramBuffer, `b${l}`)],
        [9, { buffer: z[l]! }],
        [10, { buffer: a[l]! }],
      ], `dense${l}`),
    });
  }
  forward.push({
    pipeline: p.softmaxCrossEntropy,
    count: batch,
    bindGroup: bind(p.softmaxCrossEntropy, [
      [0, { buffer: uniform(batch, 0, layers[layerCount]!, false) }],
      [11, { buffer: z[layerCount - 1]! }],
      [12, { buffer: labels }],
      [13, { buffer: dz[layerCount - 1]! }],
      [14, { buffer: loss }],
      [15, { buffer: correct }],
    ], 'softmaxCrossEntropy'),
  });

  const backward: Step[] = [];
  for (let l = layerCount - 1; l >= 0; l--) {
    const dims = uniform(batch, layers[l]!, layers[l + 1]!, false);
    backward.push({
      pipeline: p.denseBackwardParams,
      count: (layers[l]! + 1) * layers[l + 1]!,
      bindGroup: bind(p.denseBackwardParams, [
        [0, { buffer: dims }],
        [6, { buffer: l === 0 ? x0 : a[l - 1]! }],
        [16, { buffer: dz[l]! }],
        [17, range(params.gradBuffer, `W${l}`)],
        [18, range(params.gradBuffer, `b${l}`)],
      ], `backwardParams${l}`),
    });
    if (l > 0) {
      backward.push({
        pipeline: p.denseBackwardInput,
        count: batch * layers[l]!,
        bindGroup: bind(p.denseBackwardInput, [
          [0, { buffer: dims }],
          [7, range(params.paramBuffer, `W${l}`)],
          [16, { buffer: dz[l]! }],
          [19, { buffer: z[l - 1]! }],
          [20, { buffer: dz[l - 1]! }],
        ], `backwardInput${l}`),
      });
    }
  }

  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const record = (encoder: GPUCommandEncoder, steps: Step[], name: string) => {
    const pass = encoder.beginComputePass({ label: `${label}:${name}` });
    for (const s of steps) {
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, s.bindGroup);
      const groups = Math.ceil(s.count / 64);
      const x = Math.min(groups, maxDim);
      pass.dispatchWorkgroups(x, Math.ceil(groups / x));
    }
    pass.end();
  };

  const read = async (src: GPUBuffer, bytes: number) => {
    const encoder = device.createCommandEncoder({ label: `${label}:read` });
    encoder.copyBufferToBuffer(src, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    const copy = staging.getMappedRange(0, bytes).slice(0);
    staging.unmap();
    return copy;
  };

  return {
    batch,
    setBatch(rows) {
      if (rows.length !== batch) throw new RangeError(`demo: expected ${batch} batch indices, got ${rows.length}`);
      device.queue.writeBuffer(indices, 0, rows as Uint32Array<ArrayBuffer>);
    },
    recordForward: (encoder) => record(encoder, forward, 'forward'),
    recordBackward: (encoder) => record(encoder, backward, 'backward'),
    async readMetrics() {
      const losses = new Float32Array(await read(loss, batch * 4));
      const hits = new Uint32Array(await read(correct, batch * 4));
      let sum = 0;
      let right = 0;
      for (let b = 0; b < batch; b++) {
        sum += losses[b]!;
        right += hits[b]!;
      }
      return { loss: sum / batch, accuracy: right / batch };
    },
    async readLogits() {
      return new Float32Array(await read(z[layerCount - 1]!, batch * layers[layerCount]! * 4));
    },
    destroy() {
      for (const b of owned) b.destroy();
    },
  };
}
