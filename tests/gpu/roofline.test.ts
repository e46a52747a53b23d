/**
 * The benchmark's roofline kernel moves the bytes an optimizer moves: on a device with WebGPU's
 * default limits (8 storage buffers) a traffic of 9 arrays (Prodigy's) still runs, the read-only
 * arrays past the limit as regions of its last buffer, and reads every one of them.
 */
import { describe, expect, test } from 'vitest';
import { createRoofline } from '../../bench/roofline.js';

describe('bench roofline', () => {
  test('9 arrays read, 4 written: within maxStorageBuffersPerShaderStage 8, no validation error', async () => {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter!.requestDevice({ label: 'test:roofline-default-limits' });
    try {
      expect(device.limits.maxStorageBuffersPerShaderStage).toBe(8);
      const made: GPUBufferDescriptor[] = [];
      const createBuffer = device.createBuffer.bind(device);
      device.createBuffer = (descriptor) => (made.push(descriptor), createBuffer(descriptor));
      device.pushErrorScope('validation');
      const roofline = createRoofline(device, 1001, 9, 4);
      const encoder = device.createCommandEncoder({ label: 'test:roofline' });
      roofline.record(encoder);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      expect(await device.popErrorScope()).toBeNull();
      // 7 buffers of one array, the last holding the 2 read-only arrays past the limit: 9 arrays' bytes.
      expect(made.map((d) => d.size)).toEqual([...new Array<number>(7).fill(251 * 16), 2 * 251 * 16]);
      roofline.destroy();
      // Within the limit, one buffer per array, as before.
      made.length = 0;
      createRoofline(device, 1001, 3, 2).destroy();
      expect(made.map((d) => d.size)).toEqual([251 * 16, 251 * 16, 251 * 16]);
    } finally {
      device.destroy();
    }
  });
});
