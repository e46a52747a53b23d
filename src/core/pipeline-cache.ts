/**
 * GPU objects made once per device and reused by every optimizer on it (pipelines, shader
 * modules): a WeakMap keyed by the device (webgpu-utils style), so nothing outlives the device.
 */
const caches = new WeakMap<GPUDevice, Map<string, unknown>>();

/** The value cached under `key` for `device`, made by `make` on first use. */
export function cached<T>(device: GPUDevice, key: string, make: () => T): T {
  let perDevice = caches.get(device);
  if (!perDevice) {
    perDevice = new Map();
    caches.set(device, perDevice);
  }
  if (!perDevice.has(key)) perDevice.set(key, make());
  return perDevice.get(key) as T;
}
