/** Getting a GPUDevice in the browser or in Node (npm package `webgpu`, Dawn). */
import { watchDeviceLoss } from '../core/device-loss.js';

const inNode = () => typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

/** What Node users need when Dawn finds no adapter: a Vulkan driver, real or emulated. */
const NODE_NO_ADAPTER =
  ' In Node, Dawn needs a Vulkan driver: a GPU\'s own, or a software one such as SwiftShader ' +
  '(on Debian: `apt-get install chromium`, then LD_LIBRARY_PATH=/usr/lib/chromium and ' +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json); check `vulkaninfo` if a GPU is present.';

/**
 * Requests an adapter and a device with the adapter's largest buffer limits, so big parameter
 * sets need fewer splits, and the `subgroups` feature where the adapter has it. Pass `gpu` in Node: `const gpu = create([])` from the `webgpu` package,
 * and keep `gpu` referenced while the device is in use (Dawn aborts if it is garbage-collected).
 *
 * @example
 * const device = await requestOptimizerDevice();
 */
export async function requestOptimizerDevice(
  gpu: GPU | undefined = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu,
  adapterOptions?: GPURequestAdapterOptions,
): Promise<GPUDevice> {
  if (!gpu) {
    throw new Error(
      'webgpu-optim: WebGPU is not available (navigator.gpu is undefined). Use a browser with WebGPU ' +
        'on a secure context (https or http://localhost), or pass the `webgpu` package\'s GPU in Node.',
    );
  }
  const adapter = await gpu.requestAdapter(adapterOptions);
  if (!adapter) throw new Error(`webgpu-optim: no WebGPU adapter was found.${inNode() ? NODE_NO_ADAPTER : ''}`);
  const device = await adapter.requestDevice({
    label: 'webgpu-optim:device',
    // Muon's Newton–Schulz pass has a subgroup variant of its GEMMs, chosen where the device has them.
    requiredFeatures: adapter.features.has('subgroups') ? ['subgroups' as GPUFeatureName] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
    },
  });
  watchDeviceLoss(device); // a loss is then known at once, to every call
  return device;
}
