/** The MLP's compute pipelines (mlp.wgsl), made once per device. */
import source from './mlp.wgsl?raw';

export interface MlpPipelines {
  gather: GPUComputePipeline;
  denseForward: GPUComputePipeline;
  softmaxCrossEntropy: GPUComputePipeline;
  denseBackwardParams: GPUComputePipeline;
  denseBackwardInput: GPUComputePipeline;
}

const pipelineCache = new WeakMap<GPUDevice, MlpPipelines>();

export function mlpPipelines(device: GPUDevice): MlpPipelines {
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
