/** The gradient-statistics pipelines (shaders/grad-stats.wgsl), one per pass, group count and size. */
import { cached } from '../core/pipeline-cache.js';
import { preprocess } from '../core/wgsl-preprocess.js';
import { controlWgsl } from './control-block.js';
import controlSource from '../../shaders/control.wgsl?raw';
import gradStatsWgsl from '../../shaders/grad-stats.wgsl?raw';

/** The gradient statistics passes (chunkStats, groupStats, finalize) with the control block's structs. */
function gradStatsSource(multiGroup: boolean): string {
  return preprocess(`${controlWgsl()}\n${controlSource}\n${gradStatsWgsl}`, { MULTI_GROUP: multiGroup });
}

/** The gradient-statistics passes (shaders/grad-stats.wgsl) and the override that sizes each. */
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
    device.createShaderModule({ label: `webgpu-optim:gradStats${multiGroup ? ':groups' : ''}`, code: gradStatsSource(multiGroup) }),
  );
  return cached(device, `gradStats:${groups}:${pass}@${workgroupSize}`, () =>
    device.createComputePipeline({
      label: `webgpu-optim:gradStats×${groups}:${pass}@${workgroupSize}`,
      layout: 'auto',
      compute: { module, entryPoint: pass, constants: { GROUPS: groups, [STATS_SIZE_OVERRIDE[pass]]: workgroupSize } },
    }),
  );
}
