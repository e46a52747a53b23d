/** Every compute pipeline the engine uses, cached per device and variant (webgpu-utils style WeakMap). */
import { accumulateKernelSource, gradStatsSource, kernelSource, tensorSumsSource } from '../kernels/sources.js';
import type { KernelDefines, OptimizerDefinition } from '../optimizers/definition.js';
import { bindGroupLayoutEntries, kernelBindings, type KernelBinding } from './bindings.js';

const caches = new WeakMap<GPUDevice, Map<string, unknown>>();

/** The value cached under `key` for `device`, made by `make` on first use. */
function cached<T>(device: GPUDevice, key: string, make: () => T): T {
  let perDevice = caches.get(device);
  if (!perDevice) {
    perDevice = new Map();
    caches.set(device, perDevice);
  }
  if (!perDevice.has(key)) perDevice.set(key, make());
  return perDevice.get(key) as T;
}

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

/** acc += grad. */
export function getAccumulatePipeline(device: GPUDevice, workgroupSize: number): GPUComputePipeline {
  return cached(device, `accumulate@${workgroupSize}`, () => {
    const label = `webgpu-optim:accumulate@${workgroupSize}`;
    const module = device.createShaderModule({ label, code: accumulateKernelSource });
    return device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint: 'main', constants: { WORKGROUP_SIZE: workgroupSize } } });
  });
}

/** The per-tensor sums of the layer-wise optimizers (src/kernels/tensor-sums.wgsl), one entry point. */
export function getTensorSumsPipeline(device: GPUDevice, entryPoint: string): GPUComputePipeline {
  const module = cached(device, 'tensorSums', () => device.createShaderModule({ label: 'webgpu-optim:tensorSums', code: tensorSumsSource }));
  return cached(device, `tensorSums:${entryPoint}`, () =>
    device.createComputePipeline({ label: `webgpu-optim:${entryPoint}`, layout: 'auto', compute: { module, entryPoint } }),
  );
}

/** The gradient-statistics passes (src/kernels/grad-stats.wgsl) and the override that sizes each. */
const STATS_SIZE_OVERRIDE = {
  chunkStats: 'CHUNK_WORKGROUP',
  groupStats: 'GROUP_WORKGROUP',
  finalize: 'FINAL_WORKGROUP',
  smallStats: 'SMALL_WORKGROUP',
} as const;

export type StatsPass = keyof typeof STATS_SIZE_OVERRIDE;

/** One gradient-statistics pass for `groups` parameter groups, `workgroupSize` invocations wide. */
export function getGradStatsPipeline(device: GPUDevice, groups: number, pass: StatsPass, workgroupSize: number): GPUComputePipeline {
  const multiGroup = groups > 1;
  const module = cached(device, `gradStats:${multiGroup}`, () =>
    device.createShaderModule({ label: `webgpu-optim:gradStats${multiGroup ? ':groups' : ''}`, code: gradStatsSource({ MULTI_GROUP: multiGroup }) }),
  );
  return cached(device, `gradStats:${groups}:${pass}@${workgroupSize}`, () =>
    device.createComputePipeline({
      label: `webgpu-optim:gradStats×${groups}:${pass}@${workgroupSize}`,
      layout: 'auto',
      compute: { module, entryPoint: pass, constants: { GROUPS: groups, [STATS_SIZE_OVERRIDE[pass]]: workgroupSize } },
    }),
  );
}
