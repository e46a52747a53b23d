/**
 * What the TF.js optimizer needs from TF.js's webgpu backend (tfjs-backend-webgpu 4.x), in one
 * place: its GPUDevice, the GPUBuffer behind a tensor, a way to submit the commands TF.js has
 * recorded but not yet submitted, and a new tensor on a buffer from TF.js's own pool. TF.js
 * exposes these as public members of the backend class but not in its typed API, so the shapes
 * are declared here and checked once, with a clear error if a TF.js version moves them.
 */
import * as tf from '@tensorflow/tfjs-core';

interface TensorData {
  resource: unknown;
  values: unknown;
  dtype: string;
}

/** The members of TF.js's WebGPUBackend used here. */
interface WebGPUBackendInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: object): TensorData | undefined };
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  makeTensorInfo(shape: number[], dtype: 'float32'): { dataId: object; shape: number[]; dtype: 'float32' };
}

/** Backends already found to have every member (checked once, not on every step). */
const checked = new WeakSet<object>();

const REQUIRED = ['device', 'tensorMap', 'uploadToGPU', 'ensureCommandEncoderReady', 'endComputePassEncoder', 'submitQueue', 'makeTensorInfo'];

/** TF.js's active backend when it is 'webgpu'; a clear error naming the active one otherwise. */
export function webgpuBackend(what: string): WebGPUBackendInternals {
  const name = tf.getBackend();
  if (name !== 'webgpu') {
    throw new Error(
      `webgpu-optim/tfjs: ${what} needs TF.js's "webgpu" backend (import '@tensorflow/tfjs-backend-webgpu'; ` +
        `await tf.setBackend('webgpu')); the active backend is ${JSON.stringify(name)}`,
    );
  }
  const backend = tf.backend() as unknown as Partial<WebGPUBackendInternals>;
  if (!checked.has(backend)) {
    const missing = REQUIRED.filter((key) => !(key in backend));
    if (missing.length > 0) {
      throw new Error(`webgpu-optim/tfjs: this TF.js webgpu backend lacks ${missing.join(', ')} (tested with tfjs-backend-webgpu 4.22)`);
    }
    checked.add(backend);
  }
  return backend as WebGPUBackendInternals;
}

/** Submits what TF.js has recorded so far, so that commands submitted next run after it. */
export function flushTfjs(backend: WebGPUBackendInternals): void {
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
}

interface EngineInternals {
  state: { tensorInfo: { get(dataId: object): { backend: unknown } | undefined } };
  moveData(backend: unknown, dataId: object): void;
}

/**
 * The GPUBuffer holding `tensor`'s values: a tensor made under another TF.js backend (say 'cpu',
 * before `setBackend('webgpu')`) is moved to webgpu first, as TF.js does when an op reads it, and
 * values still on the CPU are uploaded.
 */
export function bufferOf(backend: WebGPUBackendInternals, tensor: tf.Tensor): GPUBuffer {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.state.tensorInfo.get(tensor.dataId)?.backend !== backend) engine.moveData(backend, tensor.dataId);
  backend.uploadToGPU(tensor.dataId);
  const resource = backend.tensorMap.get(tensor.dataId)?.resource as GPUBuffer | undefined;
  if (!resource || typeof resource.size !== 'number' || typeof resource.usage !== 'number') {
    throw new Error('webgpu-optim/tfjs: a tensor is not held in a GPUBuffer (a texture-backed tensor cannot be a gradient)');
  }
  return resource;
}

/**
 * A float32 tensor of `shape` on a buffer from TF.js's pool, and that buffer, for the caller to
 * fill on the GPU before any TF.js command reads it.
 */
export function pooledTensor(backend: WebGPUBackendInternals, shape: number[]): { tensor: tf.Tensor; buffer: GPUBuffer } {
  const info = backend.makeTensorInfo(shape, 'float32');
  backend.uploadToGPU(info.dataId);
  const tensor = tf.engine().makeTensorFromTensorInfo(info, backend as unknown as tf.KernelBackend);
  return { tensor, buffer: backend.tensorMap.get(info.dataId)!.resource as GPUBuffer };
}
