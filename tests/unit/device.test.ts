import { describe, expect, test } from 'vitest';
import { requestOptimizerDevice } from '../../src/engine/device.js';

describe('requestOptimizerDevice', () => {
  test('no WebGPU at all: says where WebGPU comes from', async () => {
    await expect(requestOptimizerDevice(undefined)).rejects.toThrow(/navigator\.gpu is undefined.*`webgpu` package/);
  });

  test('no adapter in Node: says which Vulkan driver to install and which variables to set', async () => {
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    const error = await requestOptimizerDevice(gpu).catch((e: Error) => e);
    expect(String(error)).toMatch(/no WebGPU adapter was found/);
    expect(String(error)).toMatch(/VK_ICD_FILENAMES=\/usr\/lib\/chromium\/vk_swiftshader_icd\.json/);
    expect(String(error)).toMatch(/LD_LIBRARY_PATH=\/usr\/lib\/chromium/);
  });

  test("requests the adapter's 'subgroups' feature where it has it (Muon's GEMMs can use it), and no feature where not", async () => {
    for (const has of [true, false]) {
      let asked: GPUDeviceDescriptor | undefined;
      const device = { lost: new Promise(() => {}) } as unknown as GPUDevice;
      const adapter = {
        features: new Set(has ? ['subgroups', 'timestamp-query'] : ['timestamp-query']),
        limits: { maxStorageBufferBindingSize: 1 << 28, maxBufferSize: 1 << 30, maxStorageBuffersPerShaderStage: 10 },
        requestDevice: async (descriptor: GPUDeviceDescriptor) => ((asked = descriptor), device),
      };
      const gpu = { requestAdapter: async () => adapter } as unknown as GPU;
      expect(await requestOptimizerDevice(gpu)).toBe(device);
      expect(asked?.requiredFeatures).toEqual(has ? ['subgroups'] : []);
    }
  });
});
