/**
 * Model weights as a standard safetensors file: one F32 tensor per parameter, keyed by its name
 * (as PyTorch's `model.state_dict()` keys), with its real shape, and metadata `format`
 * "webgpu-optim/weights", `version` "1". `safetensors.torch.load_file` reads it as it is; reading
 * it back matches tensors by name and shape and refuses a missing, extra or mis-shaped tensor
 * before anything is written (docs/checkpoint-format.md).
 */
import { checkParameterSet, type ParameterSet } from '../engine/parameters.js';
import { isObject, refusal, shown, type Fail } from '../core/refusal.js';
import { encodeSafetensors, readSafetensors } from './safetensors.js';
import { TORCH_CHECKPOINT_FORMAT } from './torch.js';

export const WEIGHTS_FORMAT = 'webgpu-optim/weights';
export const WEIGHTS_VERSION = '1';

/** A tensor's name and dimensions (a ParameterSet's `tensors`, or the reference optimizer's). */
export interface WeightsTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

/**
 * The weights file of `values` (one Float32Array per tensor, in the order of `tensors`), each
 * stored under its tensor's name with its shape.
 *
 * @example
 * const file = encodeWeights(await params.read(), params.tensors); // Uint8Array: save as model.safetensors
 */
export function encodeWeights(values: readonly Float32Array[], tensors: readonly WeightsTensor[]): Uint8Array {
  const fail = refusal('encodeWeights');
  if (!Array.isArray(values) || !Array.isArray(tensors) || values.length !== tensors.length) fail(`one Float32Array per tensor: got ${shown(values?.length)} values for ${shown(tensors?.length)} tensors`);
  const content: Record<string, { shape: number[]; data: Float32Array }> = Object.create(null);
  tensors.forEach((tensor, i) => {
    if (!isObject(tensor) || typeof tensor.name !== 'string' || !Array.isArray(tensor.shape)) fail(`tensors[${i}] must be { name, shape }, got ${shown(tensor)}`);
    if (tensor.name in content) fail(`two tensors are named ${JSON.stringify(tensor.name)}`);
    content[tensor.name] = { shape: [...tensor.shape], data: values[i]! };
  });
  return encodeSafetensors({ tensors: content, metadata: { format: WEIGHTS_FORMAT, version: WEIGHTS_VERSION } });
}

/**
 * Any standard F32 safetensors file keyed by parameter name is weights (one that
 * `safetensors.torch.save_file(model.state_dict())` wrote has no format, or "pt"): refused are
 * an optimizer checkpoint and another version of this format.
 */
function checkWeightsMetadata(metadata: Record<string, string>, fail: Fail): void {
  if (metadata.format === TORCH_CHECKPOINT_FORMAT) fail(`metadata.format is "${TORCH_CHECKPOINT_FORMAT}": an optimizer checkpoint, not model weights (read it with fromTorchCheckpoint)`);
  if (metadata.format === WEIGHTS_FORMAT && metadata.version !== WEIGHTS_VERSION) fail(`metadata.version is ${shown(metadata.version)}; this library reads version "${WEIGHTS_VERSION}"`);
}

/**
 * The values a weights file holds for `tensors`, in their order: every tensor must be in the file
 * under its name with its shape, and the file must hold no other tensor. Nothing is returned
 * unless all of them match.
 *
 * @example
 * const values = decodeWeights(file, params.tensors); // one Float32Array per tensor
 */
export function decodeWeights(file: Uint8Array, tensors: readonly WeightsTensor[]): Float32Array[] {
  return readWeights(file, tensors, 'decodeWeights');
}

function readWeights(file: Uint8Array, tensors: readonly WeightsTensor[], what: string): Float32Array[] {
  const fail = refusal(what);
  if (!Array.isArray(tensors)) fail(`tensors must be an array of { name, shape } (a parameter set's tensors), got ${shown(tensors)}`);
  tensors.forEach((tensor, i) => {
    if (!isObject(tensor) || typeof tensor.name !== 'string' || !Array.isArray(tensor.shape)) fail(`tensors[${i}] must be { name, shape }, got ${shown(tensor)}`);
  });
  const { tensors: stored, metadata } = readSafetensors(file, what);
  checkWeightsMetadata(metadata, fail);
  const wanted = new Set(tensors.map((t) => t.name));
  for (const name of Object.keys(stored)) if (!wanted.has(name)) fail(`the file holds tensor ${JSON.stringify(name)}, which is not a parameter here`);
  return tensors.map(({ name, shape }) => {
    const tensor = stored[name] ?? fail(`the file has no tensor ${JSON.stringify(name)}`);
    if (JSON.stringify(tensor.shape) !== JSON.stringify(shape)) fail(`tensor ${JSON.stringify(name)} has shape ${shown(tensor.shape)} in the file, ${shown(shape)} here`);
    return tensor.data;
  });
}

/**
 * A parameter set's weights as a safetensors file (reads the parameters back from the GPU once).
 *
 * @example
 * const params = createParameterSet(device, [{ name: 'fc.weight', data: w, shape: [10, 784] }, { name: 'fc.bias', data: b }]);
 * const file = await saveWeights(params);       // Python: safetensors.torch.load_file("model.safetensors")
 * loadWeights(params, file);                     // back into the same (or an identical) set
 */
export async function saveWeights(params: ParameterSet): Promise<Uint8Array> {
  checkParameterSet(params, 'saveWeights');
  return encodeWeights(await params.read(), params.tensors);
}

/**
 * Writes a weights file into a parameter set: tensors matched by name and shape; a missing, extra
 * or mis-shaped tensor is refused before anything is written.
 */
export function loadWeights(params: ParameterSet, file: Uint8Array): void {
  checkParameterSet(params, 'loadWeights');
  params.write(readWeights(file, params.tensors, 'loadWeights'));
}
