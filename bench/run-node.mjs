// npm run bench:node: the same benchmark in Node through the `webgpu` package (Dawn), plus the
// CPU loop on worker threads. scripts/bench-node.sh sets the Vulkan variables Dawn needs here.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { create, globals } from 'webgpu';
import { makeCpuState } from './cpu-kernels.js';
import { cpuModel, parseArgs, partialRows, progressPrinter, reportFailures, rootDir, writeResults } from './cli.mjs';
import { drawCharts } from './charts.mjs';
import { isSoftware } from './report.mjs';

Object.assign(globalThis, globals);
const { quick, config } = parseArgs(process.argv.slice(2));
const gpu = create([]);
// The peers (TF.js, jax-js) look for WebGPU where a browser has it.
Object.defineProperty(globalThis, 'navigator', {
  value: { ...globalThis.navigator, gpu, userAgent: `Node ${process.version}`, hardwareConcurrency: os.availableParallelism() },
  configurable: true,
});

/**
 * The suite, the library and the peers, bundled by `npm run bench:bundle` (scripts/bench-node.sh
 * builds it first): TF.js's Node code needs CommonJS `require`, which a bundle provides and Vite's
 * on-the-fly module runner does not.
 */
async function loadEntry() {
  const bundle = process.env.BENCH_BUNDLE ?? `${rootDir}/dist/bench/node-entry.js`;
  try {
    return { entry: await import(pathToFileURL(bundle).href), close: async () => {} };
  } catch (error) {
    throw new Error(`cannot load the benchmark bundle ${bundle} (npm run bench:bundle builds it): ${error.message}`);
  }
}

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

const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  console.error('No WebGPU adapter from Dawn. On a GPU-less Linux host set VK_ICD_FILENAMES to SwiftShader\'s ICD (scripts/bench-node.sh does).');
  process.exit(1);
}
// The largest buffers and workgroups the adapter allows (the kernel-shape experiment tries 512).
const BENCH_LIMITS = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX'];
const features = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
const device = await adapter.requestDevice({
  label: 'bench:device',
  requiredFeatures: features,
  requiredLimits: Object.fromEntries(BENCH_LIMITS.map((name) => [name, adapter.limits[name]])),
});
device.addEventListener('uncapturederror', (e) => console.error('WebGPU error:', e.error.message));

const { entry, close } = await loadEntry();
const info = adapter.info;
const adapterMeta = { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, isFallbackAdapter: adapter.isFallbackAdapter ?? false, timestampQuery: features.length > 0 };
const software = isSoftware({ adapter: adapterMeta });
const tag = software ? 'node-dawn-swiftshader' : 'node-dawn-hardware';
const partial = partialRows(`${quick ? 'quick-' : ''}${tag}`);
let exitCode = 0;
try {
  const env = {
    workers,
    tfjs: { tfjsWebgpu: entry.tfjsRunner('webgpu'), tfjsCpu: entry.tfjsRunner('cpu') },
    jax: entry.jaxRunner(),
    jaxMuon: entry.jaxMuonRunner(),
    progress: progressPrinter(),
    onRows: partial.write,
    fit: entry.measureFit,
  };
  if (config.fit && !software) config.fit.networks = ['small', 'article'];
  const result = await entry.runSuite(device, env, config);
  const results = {
    meta: {
      date: new Date().toISOString(),
      environment: 'Node (Dawn via the webgpu package)',
      adapter: adapterMeta,
      runtime: `Node ${process.version}, webgpu (Dawn) npm package, TF.js ${entry.tfjsVersion}`,
      cpu: cpuModel(),
      reps: config.timing.reps,
      command: `npm run bench:node --${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
    },
    clock: result.clock,
    gradients: result.gradients,
    rows: result.rows,
    hostCost: result.hostCost,
    kernelShapes: result.kernelShapes,
    muon: result.muon,
    fit: result.fit,
  };
  results.meta.software = software;
  const dir = writeResults(results, tag, quick);
  partial.done();
  await drawCharts(dir, [{ tag, data: results }]);
  exitCode = Math.max(exitCode, reportFailures(results));
} catch (error) {
  console.error(`\nbench: ${error.message}`); // a bad filter or nothing measured: nothing written
  exitCode = 1;
} finally {
  await close();
  device.destroy();
}
process.exit(exitCode);
