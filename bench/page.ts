/** Browser entry of the benchmark: Playwright calls window.runBenchmark(config). */
import { measureFit } from './fit.js';
import { jaxRunner } from './jaxjs.js';
import { jaxMuonRunner } from './jaxjs-muon.js';
import { runSuite, type SuiteConfig } from './suite.js';
import { tfjsRunner, tfjsVersion } from './tfjs.js';

declare global {
  interface Window {
    runBenchmark: (config: SuiteConfig) => Promise<unknown>;
    benchProgress?: (message: string, done: number, total: number) => void;
    benchRows?: (rows: unknown[]) => void;
  }
}

async function requestBenchDevice() {
  if (!navigator.gpu) throw new Error('navigator.gpu is missing: WebGPU is off or the page is not a secure context');
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter');
  const features: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  const device = await adapter.requestDevice({
    label: 'bench:device',
    requiredFeatures: features,
    // The largest buffers and workgroups the adapter allows (the kernel-shape experiment tries 512).
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
    },
  });
  const info = adapter.info;
  return {
    device,
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isFallbackAdapter: (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
      timestampQuery: features.length > 0,
      maxBufferSize: device.limits.maxBufferSize,
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    },
  };
}

window.runBenchmark = async (config) => {
  const status = document.getElementById('status')!;
  const { device, adapter } = await requestBenchDevice();
  const results = await runSuite(
    device,
    { tfjs: { tfjsWebgpu: tfjsRunner('webgpu'), tfjsCpu: tfjsRunner('cpu') }, jax: jaxRunner(), jaxMuon: jaxMuonRunner(), progress: (m, d, t) => {
      status.textContent = `[${d}/${t}] ${m}`;
      window.benchProgress?.(m, d, t);
    }, onRows: (rows) => window.benchRows?.(rows), fit: measureFit },
    config,
  );
  device.destroy();
  return { ...results, adapter, runtime: { userAgent: navigator.userAgent, tfjs: tfjsVersion, hardwareConcurrency: navigator.hardwareConcurrency } };
};
