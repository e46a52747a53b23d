/**
 * The frame of every page in the demo's navigation (demo/*.html and the benchmark page
 * bench/throughput.html): the device, the adapter banner, navigation and error display.
 */
import { Chart, registerables } from 'chart.js';
import './style.css';

export { COLORS } from './palette.js';

Chart.register(...registerables);
export { Chart };

/** The navigation: each page's folder (from the site root) and file, and its title. */
const PAGES = [
  ['demo', 'index.html', 'webgpu-optim demo'],
  ['demo', 'paths.html', 'Optimizer paths'],
  ['demo', 'train.html', 'Train a network'],
  ['demo', 'cnn.html', 'CNN with TF.js'],
  ['bench', 'throughput.html', 'Benchmark'],
] as const;

/**
 * The header: links to every page, relative to this one (the pages sit in two sibling folders,
 * in the dev server and in the build alike), and the adapter banner, which it returns.
 */
export function renderHeader(): HTMLElement {
  const header = document.createElement('header');
  const path = location.pathname.split('/');
  const here = path.pop() || 'index.html';
  const folder = path.pop();
  for (const [dir, file, title] of PAGES) {
    const a = document.createElement('a');
    a.href = dir === folder ? file : `../${dir}/${file}`;
    a.textContent = title;
    if (dir === folder && file === here) a.className = 'current';
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

/** A refusal caused by one control: the page shows it beside that control. */
export class FieldError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'FieldError';
  }
}

/**
 * Shows `message` in the page's one error box: beside the control with id `field` (after its
 * label, which is marked invalid) when one caused it, else at the top of the page.
 */
export function showError(message: string, field?: string): void {
  clearError();
  const box = document.createElement('p');
  box.id = 'error';
  box.className = 'error';
  box.setAttribute('role', 'alert');
  box.textContent = message;
  const control = field ? document.getElementById(field) : null;
  if (control) {
    box.dataset.for = field;
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', 'error');
    (control.closest('label') ?? control).after(box);
  } else {
    document.querySelector('main')?.prepend(box);
  }
  console.error(message);
}

/** Removes the message of an earlier failure (called when a new run starts). */
export function clearError(): void {
  const box = document.getElementById('error');
  if (box?.dataset.for) {
    const control = document.getElementById(box.dataset.for);
    control?.removeAttribute('aria-invalid');
    control?.removeAttribute('aria-describedby');
  }
  box?.remove();
}
