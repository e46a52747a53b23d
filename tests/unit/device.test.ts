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
});
