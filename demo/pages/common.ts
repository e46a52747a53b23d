/** Shared by the demo pages: the device, the adapter banner, navigation and error display. */
import { Chart, registerables } from 'chart.js';
import '../style.css';

Chart.register(...registerables);
export { Chart };

const PAGES = [
  ['index.html', 'webgpu-optim demo'],
  ['paths.html', 'Optimizer paths'],
  ['train.html', 'Train a network'],
  ['cnn.html', 'CNN with TF.js'],
  ['bench.html', 'Benchmark'],
] as const;

export function renderHeader(): HTMLElement {
  const header = document.createElement('header');
  const here = location.pathname.split('/').pop() || 'index.html';
  for (const [href, title] of PAGES) {
    const a = document.createElement('a');
    a.href = href;
    a.textContent = title;
    if (href === here) a.className = 'current';
    header.append(a);
  }
  const adapter = document.createElement('span');
  adapter.className = 'adapter';
  adapter.id = 'adapter';
  adapter.textContent = 'WebGPU: …';
  header.append(adapter);
  document.body.prepend(header);
  return adapter;
}

export interface DemoDevice {
  device: GPUDevice;
  description: string;
  software: boolean;
}

/** Requests the device and shows which adapter runs the demo (and when it is a software one). */
export async function demoDevice(): Promise<DemoDevice> {
  const banner = document.getElementById('adapter') ?? renderHeader();
  try {
    if (!navigator.gpu) throw new Error('WebGPU is not available in this browser (or the page is not a secure context).');
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('No WebGPU adapter was found.');
    const info = adapter.info;
    const description = [info.vendor, info.architecture, info.description].filter(Boolean).join(' · ') || 'unknown adapter';
    const software = /swiftshader|llvmpipe|lavapipe/i.test(description) || Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter);
    banner.textContent = `WebGPU adapter: ${description}${software ? ' — software (CPU-emulated): speeds are CPU speeds' : ''}`;
    banner.classList.toggle('software', software);
    const device = await adapter.requestDevice({ label: 'demo:device' });
    device.addEventListener('uncapturederror', (e) => showError(`WebGPU error: ${(e as GPUUncapturedErrorEvent).error.message}`));
    return { device, description, software };
  } catch (error) {
    banner.textContent = 'WebGPU unavailable';
    showError(String((error as Error).message ?? error));
    throw error;
  }
}

export function showError(message: string): void {
  let box = document.getElementById('error');
  if (!box) {
    box = document.createElement('p');
    box.id = 'error';
    box.className = 'error';
    document.querySelector('main')?.prepend(box);
  }
  box.textContent = message;
  console.error(message);
}

export const COLORS = ['#1f77b4', '#ff7f0e', '#8c564b', '#2ca02c', '#9467bd', '#e377c2', '#d62728', '#17becf', '#bcbd22', '#7f7f7f', '#aec7e8', '#ffbb78', '#98df8a', '#ff9896'];

/** Removes the message of an earlier failure (called when a new run starts). */
export function clearError(): void {
  document.getElementById('error')?.remove();
}
