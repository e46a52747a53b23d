// npm run bench:node: the same benchmark in Node through the `webgpu` package (Dawn), plus the
// CPU loop on worker threads. scripts/bench-node.sh sets the Vulkan variables Dawn needs here.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { createServer } from 'vite';
import { create, globals } from 'webgpu';
import { makeCpuState } from './cpu-kernels.js';
import { cpuModel, parseArgs, progressPrinter, reportFailures, rootDir, writeResults } from './cli.mjs';
import { isSoftware } from './report.mjs';

Object.assign(globalThis, globals);
const { quick, config } = parseArgs(process.argv.slice(2));

/** The plain-JS kernel split over worker threads sharing the arrays. */
const workers = {
  threads: os.availableParallelism(),
  async setup(opt, elements) {
    const st = makeCpuState(elements, (bytes) => new SharedArrayBuffer(bytes));
    const buffers = Object.fromEntries(Object.entries(st).map(([k, a]) => [k, a.buffer]));
    const n = this.threads;
    const chunk = Math.ceil(elements / n / 16) * 16;
    const pool = Array.from({ length: n }, (_, w) =>
      new Worker(new URL('./cpu-worker.mjs', import.meta.url), {
        workerData: { name: opt.name, buffers, begin: Math.min(elements, w * chunk), end: Math.min(elements, (w + 1) * chunk) },
      }),
    );
    return {
      steps: (k, t0) => Promise.all(pool.map((w) => new Promise((resolve) => {
        w.once('message', resolve);
        w.postMessage({ k, t0 });
      }))),
      dispose: () => Promise.all(pool.map((w) => w.terminate())),
    };
  },
};

const gpu = create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  console.error('No WebGPU adapter from Dawn. On a GPU-less Linux host set VK_ICD_FILENAMES to SwiftShader\'s ICD (scripts/bench-node.sh does).');
  process.exit(1);
}
const features = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
const device = await adapter.requestDevice({
  label: 'bench:device',
  requiredFeatures: features,
  requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
});
device.addEventListener('uncapturederror', (e) => console.error('WebGPU error:', e.error.message));

const server = await createServer({ root: rootDir, logLevel: 'error', server: { middlewareMode: true, hmr: false, watch: null }, appType: 'custom' });
let exitCode = 0;
try {
  const { runSuite } = await server.ssrLoadModule('/bench/suite.ts');
  const result = await runSuite(device, { workers, progress: progressPrinter() }, config);
  const info = adapter.info;
  const results = {
    meta: {
      date: new Date().toISOString(),
      environment: 'Node (Dawn via the webgpu package)',
      adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, isFallbackAdapter: adapter.isFallbackAdapter ?? false, timestampQuery: features.length > 0 },
      runtime: `Node ${process.version}, webgpu (Dawn) npm package`,
      cpu: cpuModel(),
      reps: config.timing.reps,
      command: `npm run bench:node --${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
    },
    clock: result.clock,
    rows: result.rows,
    hostCost: result.hostCost,
  };
  results.meta.software = isSoftware(results.meta);
  writeResults(results, 'node-dawn', quick);
  exitCode = Math.max(exitCode, reportFailures(results));
} catch (error) {
  console.error(`\nbench: ${error.message}`); // a bad filter or nothing measured: nothing written
  exitCode = 1;
} finally {
  await server.close();
  device.destroy();
}
process.exit(exitCode);
