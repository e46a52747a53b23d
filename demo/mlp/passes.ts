/**
 * The MLP's forward and backward passes as lists of dispatches, each with its bind group made
 * once: gather, dense layers and softmax cross-entropy forward; per layer from the last, the
 * weight and bias gradients (into the parameter set's gradient buffer) and the input gradient.
 */
import type { ParameterSet } from '../../src/index.js';
import type { MlpBuffers } from './buffers.js';
import type { MlpPipelines } from './pipelines.js';

/** One dispatch: `count` invocations of `pipeline` over `bindGroup`. */
export interface MlpStep {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  count: number;
}

/** What the passes are built from: one runner's pipelines, buffers, parameters and shape. */
export interface MlpGraph {
  device: GPUDevice;
  label: string;
  pipelines: MlpPipelines;
  buffers: MlpBuffers;
  params: ParameterSet;
  layers: readonly number[];
  batch: number;
  /** The dataset's features and labels, which the gather reads. */
  features: GPUBuffer;
  dataLabels: GPUBuffer;
}

function bind(g: MlpGraph, pipeline: GPUComputePipeline, entries: [number, GPUBufferBinding][], name: string): GPUBindGroup {
  return g.device.createBindGroup({ label: `${g.label}:${name}`, layout: pipeline.getBindGroupLayout(0), entries: entries.map(([binding, resource]) => ({ binding, resource })) });
}

/** The bytes of tensor `name` in `buffer` (the parameter set's parameter or gradient buffer). */
function tensorRange(params: ParameterSet, buffer: GPUBuffer, name: string): GPUBufferBinding {
  const t = params.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`demo: the parameter set has no tensor ${name}`);
  return { buffer, offset: t.byteOffset, size: t.byteLength };
}

/** Gather the batch, every dense layer (ReLU on all but the last), then the loss and its gradient of the logits. */
export function forwardSteps(g: MlpGraph): MlpStep[] {
  const { pipelines: p, buffers: b, layers, batch } = g;
  const layerCount = layers.length - 1;
  const forward: MlpStep[] = [
    {
      pipeline: p.gather,
      count: batch * layers[0]!,
      bindGroup: bind(g, p.gather, [[0, { buffer: b.dims(batch, layers[0]!, 0, false) }], [1, { buffer: g.features }], [2, { buffer: g.dataLabels }], [3, { buffer: b.indices }], [4, { buffer: b.x0 }], [5, { buffer: b.labels }]], 'gather'),
    },
  ];
  for (let l = 0; l < layerCount; l++) {
    const last = l === layerCount - 1;
    forward.push({
      pipeline: p.denseForward,
      count: batch * layers[l + 1]!,
      bindGroup: bind(g, p.denseForward, [
        [0, { buffer: b.dims(batch, layers[l]!, layers[l + 1]!, !last) }],
        [6, { buffer: l === 0 ? b.x0 : b.a[l - 1]! }],
        [7, tensorRange(g.params, g.params.paramBuffer, `W${l}`)],
        [8, tensorRange(g.params, g.params.paramBuffer, `b${l}`)],
        [9, { buffer: b.z[l]! }],
        [10, { buffer: b.a[l]! }],
      ], `dense${l}`),
    });
  }
  forward.push({
    pipeline: p.softmaxCrossEntropy,
    count: batch,
    bindGroup: bind(g, p.softmaxCrossEntropy, [
      [0, { buffer: b.dims(batch, 0, layers[layerCount]!, false) }],
      [11, { buffer: b.z[layerCount - 1]! }],
      [12, { buffer: b.labels }],
      [13, { buffer: b.dz[layerCount - 1]! }],
      [14, { buffer: b.loss }],
      [15, { buffer: b.correct }],
    ], 'softmaxCrossEntropy'),
  });
  return forward;
}

/** From the last layer to the first: its weight and bias gradients, then (but for the first) its input's. */
export function backwardSteps(g: MlpGraph): MlpStep[] {
  const { pipelines: p, buffers: b, layers, batch } = g;
  const backward: MlpStep[] = [];
  for (let l = layers.length - 2; l >= 0; l--) {
    const dims = b.dims(batch, layers[l]!, layers[l + 1]!, false);
    backward.push({
      pipeline: p.denseBackwardParams,
      count: (layers[l]! + 1) * layers[l + 1]!,
      bindGroup: bind(g, p.denseBackwardParams, [
        [0, { buffer: dims }],
        [6, { buffer: l === 0 ? b.x0 : b.a[l - 1]! }],
        [16, { buffer: b.dz[l]! }],
        [17, tensorRange(g.params, g.params.gradBuffer, `W${l}`)],
        [18, tensorRange(g.params, g.params.gradBuffer, `b${l}`)],
      ], `backwardParams${l}`),
    });
    if (l > 0) {
      backward.push({
        pipeline: p.denseBackwardInput,
        count: batch * layers[l]!,
        bindGroup: bind(g, p.denseBackwardInput, [
          [0, { buffer: dims }],
          [7, tensorRange(g.params, g.params.paramBuffer, `W${l}`)],
          [16, { buffer: b.dz[l]! }],
          [19, { buffer: b.z[l - 1]! }],
          [20, { buffer: b.dz[l - 1]! }],
        ], `backwardInput${l}`),
      });
    }
  }
  return backward;
}

/** Records `steps` as one compute pass; workgroups of 64 spill into y past the device's per-dimension limit. */
export function recordSteps(encoder: GPUCommandEncoder, steps: readonly MlpStep[], label: string, maxWorkgroupsPerDimension: number): void {
  const pass = encoder.beginComputePass({ label });
  for (const s of steps) {
    pass.setPipeline(s.pipeline);
    pass.setBindGroup(0, s.bindGroup);
    const groups = Math.ceil(s.count / 64);
    const x = Math.min(groups, maxWorkgroupsPerDimension);
    pass.dispatchWorkgroups(x, Math.ceil(groups / x));
  }
  pass.end();
}
