/**
 * Which devices are lost, known synchronously. WebGPU reports a loss only through the `device.lost`
 * promise, so a call cannot ask whether its device is lost; every device the library sees
 * (requestOptimizerDevice, createParameterSet, each object's lifecycle) is watched from then on.
 * A device first handed to the library after its loss is known lost from the next call on.
 */
const watched = new WeakSet<GPUDevice>();
const lostReasons = new WeakMap<GPUDevice, string>();

/** Starts following `device.lost` (once per device). */
export function watchDeviceLoss(device: GPUDevice): void {
  if (watched.has(device) || typeof device.lost?.then !== 'function') return;
  watched.add(device);
  device.lost.then((info) => {
    lostReasons.set(device, `${info.reason}${info.message ? `: ${info.message}` : ''}`);
  });
}

/** Why `device` was lost (`"destroyed: …"`), or undefined while it is not known to be lost. */
export function deviceLoss(device: GPUDevice): string | undefined {
  watchDeviceLoss(device);
  return lostReasons.get(device);
}
