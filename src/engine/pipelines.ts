/** The update kernel's pipelines, cached per device and variant (webgpu-utils style WeakMap). */
import { cached } from '../core/pipeline-cache.js';
import { bindGroupLayoutEntries, kernelBindings, type KernelBinding } from './bindings.js';
import { gridConstants, variantKey, type KernelVariant } from './kernel-variant.js';
import { kernelSource } from './wgsl.js';

export interface KernelPipeline {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroupLayout: GPUBindGroupLayout;
  readonly bindings: readonly KernelBinding[];
}

/**
 * The pipeline of one kernel variant (its module, layout and bindings made once per device; a
 * pass's subgroup variant where the device has the `subgroups` feature).
 */
export function getKernelPipeline(device: GPUDevice, variant: KernelVariant): KernelPipeline {
  const key = variantKey(variant);
  return cached(device, `kernel:${key}`, () => {
    const label = `webgpu-optim:${key}`;
    const bindings = kernelBindings(variant);
    const bindGroupLayout = device.createBindGroupLayout({ label: `${label}:bgl`, entries: bindGroupLayoutEntries(bindings) });
    const module = device.createShaderModule({ label: `${label}:module`, code: kernelSource(variant, { subgroups: device.features.has('subgroups') }) });
    const pipeline = device.createComputePipeline({
      label: `${label}:pipeline`,
      layout: device.createPipelineLayout({ label: `${label}:layout`, bindGroupLayouts: [bindGroupLayout] }),
      compute: { module, entryPoint: variant.entryPoint, constants: gridConstants(variant.grid) },
    });
    return { pipeline, bindGroupLayout, bindings };
  });
}
