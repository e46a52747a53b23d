// Plain Node, no Vite: the built library (dist/lib) with the `webgpu` package (Dawn). Prints JSON
// with the largest difference between the GPU and the CPU reference after a few Adam steps.
import { create, globals } from 'webgpu';
import { createOptimizer, createParameterSet, createReferenceOptimizer, requestOptimizerDevice } from '../../dist/lib/webgpu-optim.js';

Object.assign(globalThis, globals);
// Keep the GPU object referenced while the device is used: if it is garbage-collected, Dawn
// aborts inside mapAsync ("std::system_error: Invalid argument").
const gpu = create([]);
const device = await requestOptimizerDevice(gpu);
const errors = [];
device.addEventListener('uncapturederror', (e) => errors.push(e.error.message));
const tensors = [1, 63, 1000].map((n, t) => ({ name: `t${t}`, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i + t)) }));
const params = createParameterSet(device, tensors);
const adam = createOptimizer('adam', params, { lr: 0.01, amsgrad: true, groups: [{ tensors: ['t0'], weightDecay: 0.1 }] });
const ref = createReferenceOptimizer('adam', tensors.map((t) => ({ name: t.name, data: t.data.slice() })), { lr: 0.01, amsgrad: true, groups: [{ tensors: ['t0'], weightDecay: 0.1 }] });
for (let s = 1; s <= 5; s++) {
  const grads = tensors.map((t, k) => Float32Array.from(t.data, (_, i) => Math.cos(i * s + k)));
  params.writeGrads(grads);
  adam.step();
  ref.step(grads);
}
const got = await params.read();
let maxDiff = 0;
got.forEach((p, t) => p.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - ref.params[t][i])))));
const moved = got.some((p, t) => p.some((v, i) => v !== tensors[t].data[i]));
console.log(JSON.stringify({ maxDiff, moved, steps: adam.stepCount, errors }));
adam.destroy();
params.destroy();
device.destroy();
void gpu;
process.exit(0);
