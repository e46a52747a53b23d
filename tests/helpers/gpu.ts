/** GPU test helpers: one device per test file, every test inside validation/OOM/internal scopes. */
import { requestOptimizerDevice } from '../../src/index.js';

let devicePromise: Promise<GPUDevice> | undefined;
const uncaptured: string[] = [];

export function getDevice(): Promise<GPUDevice> {
  devicePromise ??= requestOptimizerDevice().then((device) => {
    device.addEventListener('uncapturederror', (event) => {
      uncaptured.push((event as GPUUncapturedErrorEvent).error.message);
    });
    return device;
  });
  return devicePromise;
}

/**
 * Runs `body` with the device inside validation, out-of-memory and internal error scopes and
 * fails when any of them caught an error (or an error escaped to `uncapturederror`).
 */
export async function withDevice<T>(body: (device: GPUDevice) => Promise<T>): Promise<T> {
  const device = await getDevice();
  uncaptured.length = 0;
  device.pushErrorScope('internal');
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await body(device);
  } finally {
    const errors = await Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]);
    const messages = errors.filter((e): e is GPUError => e !== null).map((e) => e.message);
    if (messages.length > 0 || uncaptured.length > 0) {
      throw new Error(`WebGPU errors: ${[...messages, ...uncaptured].join(' | ')}`);
    }
  }
  return result;
}
