/** Getting a GPUDevice in the browser or in Node (npm package `webgpu`, Dawn). */

/**
 * Requests an adapter and a device with the adapter's largest buffer limits, so big parameter
 * sets need fewer splits. Pass `gpu` in Node: `const gpu = create([])` from the `webgpu` package,
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
  if (!adapter) throw new Error('webgpu-optim: no WebGPU adapter was found');
  return adapter.requestDevice({
    label: 'webgpu-optim:device',
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
    },
  });
}
