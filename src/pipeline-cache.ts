/** Compute pipelines cached per device and kernel variant (webgpu-utils style WeakMap). */
import { accumulateKernelSource, kernelSource, type KernelDefines, type KernelFamily } from './shaders.js';

export interface KernelPipeline {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroupLayout: GPUBindGroupLayout;
}

export interface KernelVariant {
  family: KernelFamily;
  defines: KernelDefines;
  /** Bindings of the state slots (4, 5, …). */
  slotBindings: readonly number[];
  workgroupSize: number;
}

const cache = new WeakMap<GPUDevice, Map<string, KernelPipeline>>();

export function variantKey(variant: KernelVariant): string {
  const flags = Object.entries(variant.defines)
    .filter(([, on]) => on)
    .map(([name]) => name)
    .sort()
    .join('+');
  return `${variant.family}[${flags}]@${variant.workgroupSize}`;
}

/** The pipeline of a kernel variant on `device`, created on first use. */
export function getKernelPipeline(device: GPUDevice, variant: KernelVariant): KernelPipeline {
  let perDevice = cache.get(device);
  if (!perDevice) {
    perDevice = new Map();
    cache.set(device, perDevice);
  }
  const key = variantKey(variant);
  const cached = perDevice.get(key);
  if (cached) return cached;

  const label = `webgpu-optim:${key}`;
  const storage = (binding: number, type: GPUBufferBindingType, hasDynamicOffset = false): GPUBindGroupLayoutEntry => ({
    binding,
    visibility: GPUShaderStage.COMPUTE,
    buffer: { type, hasDynamicOffset },
  });
  const entries = [
    storage(0, 'read-only-storage', true),
    storage(1, 'storage'),
    storage(2, 'read-only-storage'),
    ...(variant.defines.MULTI_GROUP ? [storage(3, 'read-only-storage')] : []),
    ...variant.slotBindings.map((b) => storage(b, 'storage')),
    ...(variant.defines.GRAD_CONTROL ? [storage(7, 'read-only-storage')] : []),
  ];
  const bindGroupLayout = device.createBindGroupLayout({ label: `${label}:bgl`, entries });
  const module = device.createShaderModule({ label: `${label}:module`, code: kernelSource(variant.family, variant.defines) });
  const pipeline = device.createComputePipeline({
    label: `${label}:pipeline`,
    layout: device.createPipelineLayout({ label: `${label}:layout`, bindGroupLayouts: [bindGroupLayout] }),
    compute: { module, entryPoint: 'main', constants: { WORKGROUP_SIZE: variant.workgroupSize } },
  });
  const result = { pipeline, bindGroupLayout };
  perDevice.set(key, result);
  return result;
}

const accumulateCache = new WeakMap<GPUDevice, Map<number, GPUComputePipeline>>();

/** The acc += grad pipeline on `device`, created on first use. */
export function getAccumulatePipeline(device: GPUDevice, workgroupSize: number): GPUComputePipeline {
  let perDevice = accumulateCache.get(device);
  if (!perDevice) {
    perDevice = new Map();
    accumulateCache.set(device, perDevice);
  }
  let pipeline = perDevice.get(workgroupSize);
  if (!pipeline) {
    const label = `webgpu-optim:accumulate@${workgroupSize}`;
    const module = device.createShaderModule({ label, code: accumulateKernelSource });
    pipeline = device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint: 'main', constants: { WORKGROUP_SIZE: workgroupSize } } });
    perDevice.set(workgroupSize, pipeline);
  }
  return pipeline;
}
