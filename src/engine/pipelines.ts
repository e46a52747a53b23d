/** Every compute pipeline the engine uses, cached per device and variant (webgpu-utils style WeakMap). */
import { kernelSource } from './wgsl.js';
import type { KernelDefines, OptimizerDefinition } from '../core/definition.js';
import { cached } from '../core/pipeline-cache.js';
import { bindGroupLayoutEntries, kernelBindings, type KernelBinding } from './bindings.js';

function flagKey(defines: KernelDefines): string {
  return Object.entries(defines)
    .filter(([, on]) => on)
    .map(([name]) => name)
    .sort()
    .join('+');
}

export interface KernelPipeline {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroupLayout: GPUBindGroupLayout;
  readonly bindings: readonly KernelBinding[];
}

/** The update pipeline of one optimizer variant. */
export function getKernelPipeline(
  device: GPUDevice,
  definition: OptimizerDefinition<any, any>,
  defines: KernelDefines,
  workgroupSize: number,
  entryPoint = 'main',
  vectorsPerInvocation = 1,
): KernelPipeline {
  // mainBlockwise, tensorPartialsBlockwise (8-bit state): workgroups of workgroupSize invocations,
  // vectorsPerInvocation vec4s each (q8.wgsl's LANE_VECTORS, a constant of the generated source).
  const blockwise = entryPoint.endsWith('Blockwise');
  const shape = entryPoint === 'main' || blockwise ? `@${workgroupSize}x${vectorsPerInvocation}` : `@${workgroupSize}`;
  const key = `${definition.name}[${flagKey(defines)}]${shape}${entryPoint === 'main' ? '' : `:${entryPoint}`}`;
  return cached(device, `kernel:${key}`, () => {
    const label = `webgpu-optim:${key}`;
    const bindings = kernelBindings(definition.slots(defines), defines);
    const bindGroupLayout = device.createBindGroupLayout({ label: `${label}:bgl`, entries: bindGroupLayoutEntries(bindings) });
    const module = device.createShaderModule({ label: `${label}:module`, code: kernelSource(definition, defines, blockwise ? vectorsPerInvocation : undefined) });
    const pipeline = device.createComputePipeline({
      label: `${label}:pipeline`,
      layout: device.createPipelineLayout({ label: `${label}:layout`, bindGroupLayouts: [bindGroupLayout] }),
      // The mode entry points (toEval/toTrain) keep one vector per invocation.
      compute: {
        module,
        entryPoint,
        constants:
          entryPoint === 'main'
            ? { WORKGROUP_SIZE: workgroupSize, VECTORS_PER_INVOCATION: vectorsPerInvocation }
            : blockwise
              ? { TILE_LANES: workgroupSize }
              : { WORKGROUP_SIZE: workgroupSize },
      },
    });
    return { pipeline, bindGroupLayout, bindings };
  });
}
