// A worker thread of the CPU baseline: runs the plain-JS kernel on its slice of shared arrays.
import { parentPort, workerData } from 'node:worker_threads';
import { fastCpuKernel } from './cpu-kernels.js';

const { name, buffers, begin, end } = workerData;
const st = Object.fromEntries(Object.entries(buffers).map(([k, b]) => [k, new Float32Array(b)]));
const kernel = fastCpuKernel({ name });
// The suite starts workers only for optimizers that have a loop (cpuLoopFor).
if (!kernel) throw new Error(`bench: no plain-JS loop for ${name}`);
parentPort.on('message', ({ k, t0 }) => {
  for (let s = 1; s <= k; s++) kernel(st, t0 + s, begin, end);
  parentPort.postMessage('done');
});
