/** Page 2: train an MLP with several optimizers side by side, everything on the GPU. */
import { digits, moons, spirals, type Dataset } from '../data/datasets.js';
import { createTrainer, type TrainOptimizer, type TrainProgress } from '../mlp/trainer.js';
import { Chart, COLORS, demoDevice, renderHeader, showError } from './common.js';
import type { OptimizerName } from '../../src/index.js';

renderHeader();

type Preset = Omit<TrainOptimizer, 'name'> & { checked: boolean };

/** The choices offered, per registered optimizer (keyed by the registry: a new one must appear here). */
const PRESETS: { readonly [K in OptimizerName]: readonly Preset[] } = {
  sgd: [
    { label: 'GD', options: {}, checked: true },
    { label: 'Momentum', options: { momentum: 0.9 }, checked: true },
    { label: 'Nesterov', options: { momentum: 0.9, nesterov: true }, checked: false },
  ],
  adagrad: [{ label: 'AdaGrad', options: {}, checked: false }],
  rmsprop: [{ label: 'RMSProp', options: {}, checked: false }],
  adadelta: [{ label: 'Adadelta', options: {}, checked: false }],
  adam: [{ label: 'Adam', options: {}, checked: true }],
  adamw: [{ label: 'AdamW', options: {}, checked: false }],
  adamax: [{ label: 'Adamax', options: {}, checked: false }],
  nadam: [{ label: 'NAdam', options: {}, checked: false }],
  radam: [{ label: 'RAdam', options: {}, checked: false }],
  rprop: [{ label: 'Rprop', options: {}, checked: false }],
  lion: [{ label: 'Lion', options: {}, checked: false }],
  adamw_schedule_free: [{ label: 'Schedule-Free AdamW', options: {}, checked: false }],
  ema_momentum: [{ label: 'EMA momentum', options: { beta: 0.9 }, checked: false }],
};
const BASE = (Object.entries(PRESETS) as [OptimizerName, readonly Preset[]][]).flatMap(([name, presets]) => presets.map((p) => ({ name, ...p })));
const OPTIMIZERS = BASE.map((o, k) => ({ ...o, color: COLORS[k]! }));

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fieldset = $('optimizers');
for (const o of OPTIMIZERS) {
  const label = document.createElement('label');
  label.innerHTML = `<input type="checkbox" value="${o.label}" ${o.checked ? 'checked' : ''}>&nbsp;<span style="color:${o.color}">${o.label}</span>`;
  fieldset.append(label);
}

// Query parameters preset the controls: ?dataset=moons&hidden=16,16&lr=0.01&batch=64&epochs=40&optimizers=GD,Adam&autorun=1
const query = new URLSearchParams(location.search);
for (const id of ['dataset', 'hidden', 'lr', 'batch', 'epochs', 'init', 'seed']) {
  const value = query.get(id);
  if (value === null) continue;
  const control = $(id) as HTMLInputElement | HTMLSelectElement;
  control.value = value;
  if (control.value !== value) showError(`"${value}" is not a valid ${id}; kept ${control.value || 'the default'}.`);
}
if (query.get('optimizers')) {
  const chosen = query.get('optimizers')!.split(',');
  fieldset.querySelectorAll<HTMLInputElement>('input').forEach((box) => (box.checked = chosen.includes(box.value)));
}

const status = $('status');
const lossChart = new Chart($('loss') as HTMLCanvasElement, {
  type: 'line',
  data: { datasets: [] },
  options: {
    animation: false,
    responsive: false,
    parsing: false,
    scales: {
      x: { type: 'linear', title: { display: true, text: 'step' } },
      y: { type: 'logarithmic', title: { display: true, text: 'training loss (whole set)' } },
    },
    plugins: { legend: { position: 'top' } },
  },
});

const ready = demoDevice();
let stopRequested = false;

async function loadDataset(name: string, seed: number): Promise<Dataset> {
  if (name === 'moons') return moons(512, 0.15, seed);
  if (name === 'spirals') return spirals(600, 3, 0.2, seed);
  return digits(100);
}

function drawBoundary(canvas: HTMLCanvasElement, probs: Float32Array, grid: number, dataset: Dataset, bounds: number[]) {
  const ctx = canvas.getContext('2d')!;
  const size = canvas.width;
  const cell = size / grid;
  const palette = [[31, 119, 180], [255, 127, 14], [44, 160, 44]];
  const C = dataset.classes;
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      const i = gy * grid + gx;
      let best = 0;
      for (let c = 1; c < C; c++) if (probs[i * C + c]! > probs[i * C + best]!) best = c;
      const [r, g, b] = palette[best % palette.length]!;
      const confidence = probs[i * C + best]!;
      ctx.fillStyle = `rgba(${r},${g},${b},${0.15 + 0.45 * (confidence - 1 / C) * (C / (C - 1))})`;
      ctx.fillRect(gx * cell, size - (gy + 1) * cell, cell + 0.5, cell + 0.5);
    }
  }
  const [x0, x1, y0, y1] = bounds as [number, number, number, number];
  for (let k = 0; k < dataset.labels.length; k++) {
    const [r, g, b] = palette[dataset.labels[k]! % palette.length]!;
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    const px = ((dataset.features[2 * k]! - x0) / (x1 - x0)) * size;
    const py = size - ((dataset.features[2 * k + 1]! - y0) / (y1 - y0)) * size;
    ctx.beginPath();
    ctx.arc(px, py, 2.2, 0, 2 * Math.PI);
    ctx.fill();
  }
}

async function start() {
  const { device } = await ready;
  stopRequested = false;
  $('start').toggleAttribute('disabled', true);
  $('stop').toggleAttribute('disabled', false);
  status.dataset.state = 'running';
  const seed = Math.floor(Number(($('seed') as HTMLInputElement).value));
  const datasetName = ($('dataset') as HTMLSelectElement).value;
  status.textContent = `Loading ${datasetName}…`;
  const dataset = await loadDataset(datasetName, seed);
  const hidden = ($('hidden') as HTMLInputElement).value.split(',').map((s) => Math.floor(Number(s.trim()))).filter((n) => n > 0);
  const lr = Number(($('lr') as HTMLInputElement).value);
  const batchValue = ($('batch') as HTMLSelectElement).value;
  const batchSize = batchValue === 'full' ? dataset.labels.length : Number(batchValue);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`Unknown batch size "${batchValue}".`);
  const epochs = Math.max(1, Math.floor(Number(($('epochs') as HTMLInputElement).value)));
  const chosen = new Set(Array.from(fieldset.querySelectorAll<HTMLInputElement>('input:checked'), (b) => b.value));
  const optimizers = OPTIMIZERS.filter((o) => chosen.has(o.label)).map((o) => ({ ...o, options: { ...o.options, lr } }));
  if (optimizers.length === 0) throw new Error('Choose at least one optimizer.');
  if (!(lr >= 0) || hidden.length === 0) throw new Error('lr must be >= 0 and there must be at least one hidden layer.');
  const trainer = createTrainer(device, {
    dataset, hidden, optimizers, batchSize, epochs,
    init: ($('init') as HTMLSelectElement).value as 'he' | 'xavier',
    seed,
    evalEvery: Math.max(1, Math.floor(dataset.labels.length / batchSize)),
  });
  lossChart.data.datasets = optimizers.map((o) => ({ label: o.label, data: [] as { x: number; y: number }[], borderColor: o.color, backgroundColor: o.color, pointRadius: 0, borderWidth: 2 }));
  const body = document.querySelector('#metrics tbody')!;
  const show = (p: TrainProgress) => {
    p.metrics.forEach((m, k) => (lossChart.data.datasets[k]!.data as { x: number; y: number }[]).push({ x: p.step, y: Math.max(m.loss, 1e-6) }));
    lossChart.update();
    body.innerHTML = p.metrics
      .map((m, k) => `<tr><td style="color:${optimizers[k]!.color}">${m.label}</td><td>${m.loss.toFixed(4)}</td><td>${(m.accuracy * 100).toFixed(1)}%</td><td>${m.stepsPerSecond.toFixed(0)}</td></tr>`)
      .join('');
    status.textContent = `epoch ${p.epoch}/${epochs}, step ${p.step}/${p.totalSteps} (batch ${batchSize}, ${dataset.labels.length} samples, layers ${trainer.layers.join('-')})`;
  };
  const t0 = performance.now();
  const final = await trainer.run(show, () => stopRequested);
  const seconds = (performance.now() - t0) / 1000;

  const boundaries = $('boundaries');
  boundaries.innerHTML = '';
  $('boundaryTitle').hidden = dataset.inputs !== 2;
  if (dataset.inputs === 2) {
    const grid = 64;
    const xs = Array.from({ length: dataset.labels.length }, (_, k) => dataset.features[2 * k]!);
    const ys = Array.from({ length: dataset.labels.length }, (_, k) => dataset.features[2 * k + 1]!);
    const pad = 0.3;
    const bounds = [Math.min(...xs) - pad, Math.max(...xs) + pad, Math.min(...ys) - pad, Math.max(...ys) + pad];
    const points = new Float32Array(grid * grid * 2);
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++) {
        points[2 * (gy * grid + gx)] = bounds[0]! + ((gx + 0.5) / grid) * (bounds[1]! - bounds[0]!);
        points[2 * (gy * grid + gx) + 1] = bounds[2]! + ((gy + 0.5) / grid) * (bounds[3]! - bounds[2]!);
      }
    }
    for (const [k, o] of optimizers.entries()) {
      const figure = document.createElement('figure');
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 220;
      figure.append(canvas, Object.assign(document.createElement('figcaption'), { textContent: `${o.label}: ${(final.metrics[k]!.accuracy * 100).toFixed(1)}%` }));
      boundaries.append(figure);
      drawBoundary(canvas, await trainer.predict(k, points), grid, dataset, bounds);
    }
  }
  trainer.destroy();
  (window as unknown as { trainResult: unknown }).trainResult = { ...final, seconds, dataset: dataset.name, batchSize, lr, layers: trainer.layers };
  status.textContent += ` — done in ${seconds.toFixed(1)} s`;
  status.dataset.state = 'done';
  $('start').toggleAttribute('disabled', false);
  $('stop').toggleAttribute('disabled', true);
}

$('start').addEventListener('click', () =>
  start().catch((e) => {
    status.dataset.state = 'error';
    $('start').toggleAttribute('disabled', false);
    showError(String(e?.message ?? e));
  }),
);
$('stop').addEventListener('click', () => (stopRequested = true));
if (query.get('autorun')) ready.then(() => $('start').click()).catch(() => {});
