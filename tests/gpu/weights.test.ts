/**
 * Model weights files of a parameter set (saveWeights / loadWeights): one F32 tensor per parameter
 * under its name with its shape, read back exactly; a file that does not fit the set is refused
 * before anything is written.
 */
import { describe, expect, test } from 'vitest';
import { createParameterSet, decodeSafetensors, encodeWeights, loadWeights, saveWeights } from '../../src/index.js';
import { randomArray, rng } from '../helpers/data.js';
import { withDevice } from '../helpers/gpu.js';

const TENSORS = () => [
  { name: 'fc.weight', data: randomArray(12, rng(1)), shape: [3, 4] },
  { name: 'fc.bias', data: randomArray(3, rng(2)) },
  { name: '__proto__', data: randomArray(5, rng(3)), shape: [5, 1] },
];

describe('model weights', () => {
  test('saveWeights writes every parameter under its name and shape; loadWeights reads it back exactly', () =>
    withDevice(async (device) => {
      const tensors = TENSORS();
      const params = createParameterSet(device, tensors);
      const file = await saveWeights(params);
      const { tensors: stored, metadata } = decodeSafetensors(file);
      expect({ ...metadata }).toEqual({ format: 'webgpu-optim/weights', version: '1' });
      expect(Object.keys(stored).sort()).toEqual(['__proto__', 'fc.bias', 'fc.weight']);
      expect(stored['fc.weight']!.shape).toEqual([3, 4]);
      expect(stored['fc.bias']!.shape).toEqual([3]);
      params.write(tensors.map((t) => new Float32Array(t.data.length)));
      loadWeights(params, file);
      (await params.read()).forEach((values, i) => expect(Array.from(values), tensors[i]!.name).toEqual(Array.from(tensors[i]!.data)));
      params.destroy();
    }));

  test('a missing, extra or mis-shaped tensor is refused and the parameters are left as they were', () =>
    withDevice(async (device) => {
      const tensors = TENSORS();
      const params = createParameterSet(device, tensors);
      const zeros = tensors.map((t) => new Float32Array(t.data.length));
      const shapes = tensors.map((t) => t.shape ?? [t.data.length]);
      const file = (names: string[], shapeOf: (i: number) => number[]) => encodeWeights(names.map((_, i) => zeros[i] ?? new Float32Array(1)), names.map((name, i) => ({ name, shape: shapeOf(i) })));
      const names = tensors.map((t) => t.name);
      expect(() => loadWeights(params, file(names.slice(0, 2), (i) => shapes[i]!))).toThrow('webgpu-optim: loadWeights: the file has no tensor "__proto__"');
      expect(() => loadWeights(params, file([...names, 'extra'], (i) => shapes[i] ?? [1]))).toThrow('webgpu-optim: loadWeights: the file holds tensor "extra", which is not a parameter here');
      expect(() => loadWeights(params, file(names, (i) => (i === 0 ? [4, 3] : shapes[i]!)))).toThrow('webgpu-optim: loadWeights: tensor "fc.weight" has shape [4,3] in the file, [3,4] here');
      expect(() => loadWeights(params, new Uint8Array(3))).toThrow(/webgpu-optim: loadWeights: not a float32 safetensors file/);
      (await params.read()).forEach((values, i) => expect(Array.from(values)).toEqual(Array.from(tensors[i]!.data)));
      params.destroy();
      await expect(saveWeights(params)).rejects.toThrow(/destroyed/);
    }));
});
