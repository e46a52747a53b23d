/**
 * webgpu-optim/tfjs: this library's optimizers as TF.js optimizers, on TF.js's webgpu backend.
 * TF.js (`@tensorflow/tfjs-core` and `@tensorflow/tfjs-backend-webgpu`, 4.x) is a peer dependency.
 *
 * @example
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-webgpu';
 * import { train } from 'webgpu-optim/tfjs';
 * await tf.setBackend('webgpu');
 * model.compile({ optimizer: train.adam(1e-3), loss: 'categoricalCrossentropy' });
 * await model.fit(xs, ys, { epochs: 5 });
 * @packageDocumentation
 */
export { WebGPUOptimizer, type TfjsOptimizerOptions } from './optimizer.js';
export { train } from './train.js';
export type { NamedTensor } from './weights.js';
