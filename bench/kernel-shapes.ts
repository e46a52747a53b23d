/**
 * The kernel-shape experiment: Adam's packed step and the roofline copy kernel at several
 * workgroup sizes × vec4s per invocation, on one big tensor and on many small ones. GPUs hide
 * memory latency with loads in flight (more vectors per thread help them); an emulator pays per
 * invocation. The default shape (256 × 1) is kept or changed by what this measures.
 */
import { createOptimizer, createParameterSet } from '../src/index.js';
import type { GpuTimer } from './gpu-timer.js';
import { createRoofline } from './roofline.js';
import { measure, type Measurement, type TimingConfig } from './timing.js';
import { formatCount, OPTIMIZERS } from './workloads.js';

export interface KernelShapeRow {
  workload: string;
  elements: number;
  workgroupSize: number;
  vectorsPerInvocation: number;
  fused: Measurement | { error: string };
  roofline: Measurement | { error: string };
}

export function kernelShapePlan(quick: boolean, maxWorkgroupSize: number) {
  return {
    workloads: quick
      ? [{ label: `1 × ${formatCount(1 << 18)}`, sizes: [1 << 18] }, { label: '200 × 2048', sizes: Array(200).fill(2048) }]
      : [{ label: `1 × ${formatCount(1 << 24)}`, sizes: [1 << 24] }, { label: '2000 × 2048', sizes: Array(2000).fill(2048) }],
    workgroupSizes: (quick ? [64, 256] : [64, 128, 256, 512]).filter((w) => w <= maxWorkgroupSize),
    vectorsPerInvocation: quick ? [1, 4] : [1, 2, 4, 8],
  };
}

async function attempt(body: () => Promise<Measurement>): Promise<Measurement | { error: string }> {
  try {
    return await body();
  } catch (error) {
    return { error: String((error as Error)?.message ?? error) };
  }
}

export async function measureKernelShapes(
  device: GPUDevice,
  timer: GpuTimer,
  timing: TimingConfig,
  quick: boolean,
  progress?: (message: string) => void,
): Promise<KernelShapeRow[]> {
  const adam = OPTIMIZERS.find((o) => o.name === 'adam')!;
  const plan = kernelShapePlan(quick, Math.min(device.limits.maxComputeInvocationsPerWorkgroup, device.limits.maxComputeWorkgroupSizeX));
  const rows: KernelShapeRow[] = [];
  for (const workload of plan.workloads) {
    const elements = workload.sizes.reduce((a, b) => a + b, 0);
    for (const workgroupSize of plan.workgroupSizes) {
      for (const vectorsPerInvocation of plan.vectorsPerInvocation) {
        progress?.(`kernel shape · ${workload.label} · ${workgroupSize} × ${vectorsPerInvocation}`);
        const fused = await attempt(async () => {
          const tensors = workload.sizes.map((n, i) => ({ name: `t${i}`, data: new Float32Array(n).fill(0.5) }));
          const params = createParameterSet(device, tensors, { label: 'bench:shape', workgroupSize, vectorsPerInvocation });
          const o = createOptimizer('adam', params);
          try {
            return await measure(timer.steps(o), timing, timer.clock);
          } finally {
            o.destroy();
            params.destroy();
          }
        });
        const roofline = await attempt(async () => {
          const roof = createRoofline(device, Math.ceil(elements / 64) * 64, adam.reads, adam.writes, workgroupSize, vectorsPerInvocation);
          try {
            return await measure(
              timer.run(
                (encoder, k) => {
                  for (let s = 0; s < k; s++) roof.record(encoder, timer.writes(s, k));
                },
                (k) => {
                  for (let s = 0; s < k; s++) {
                    const encoder = device.createCommandEncoder({ label: 'bench:shape:roofline' });
                    roof.record(encoder);
                    device.queue.submit([encoder.finish()]);
                  }
                },
              ),
              timing,
              timer.clock,
            );
          } finally {
            roof.destroy();
          }
        });
        rows.push({ workload: workload.label, elements, workgroupSize, vectorsPerInvocation, fused, roofline });
      }
    }
  }
  return rows;
}
