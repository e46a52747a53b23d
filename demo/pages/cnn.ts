/**
 * The CNN page: the classic optimizer comparison in TF.js, each optimizer from webgpu-optim/tfjs
 * or from tf.train, on TF.js's webgpu backend. Live loss per batch, held-out accuracy per epoch,
 * time per epoch. `window.cnnResults` holds every run's figures (the e2e test reads them).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { buildCnn, CNN_SIZES, type CnnSizeName } from '../../common/cnn/model.js';
import { digitImages } from '../cnn/data.js';
import { fitRun, medianOf, type FitProgress } from '../../common/cnn/fit.js';
import { CNN_OPTIMIZERS, type Implementation } from '../../common/cnn/optimizers.js';
import { Chart, clearError, COLORS, demoDevice, renderHeader, showError } from '../../common/page.js';

interface RunResult extends FitProgress {
  label: string;
  implementation: Implementation;
  lr: number;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLParagraphElement>('status');
const results: RunResult[] = [];
(window as unknown as { cnnResults: RunResult[] }).cnnResults = results;
let stopRequested = false;

renderHeader();
for (const [i, o] of CNN_OPTIMIZERS.entries()) {
  const label = document.createElement('label');
  label.innerHTML = `<input type="checkbox" value="${i}" checked /> ${o.label} <input type="number" step="any" min="0" value="${o.lr}" data-lr="${i}" style="width:70px" />`;
  $('optimizers').append(label);
}

/** A line chart of {x, y} points with titled axes (datasets are added per run). */
function lineChart(id: string, title: string, x: { label: string; wholeSteps?: boolean }, y: { label: string; min?: number; max?: number }) {
  return new Chart($<HTMLCanvasElement>(id), {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      parsing: false,
      plugins: { title: { display: true, text: title } },
      scales: {
        x: { type: 'linear', ticks: x.wholeSteps ? { stepSize: 1 } : {}, title: { display: true, text: x.label } },
        y: { min: y.min, max: y.max, title: { display: true, text: y.label } },
      },
    },
  });
}

const lossChart = lineChart('loss', 'training loss per batch (cross-entropy)', { label: 'batch' }, { label: 'loss' });
lossChart.options.elements = { point: { radius: 0 } };
const accuracyChart = lineChart('accuracy', 'held-out accuracy after each epoch', { label: 'epoch', wholeSteps: true }, { label: 'accuracy', min: 0, max: 1 });

function setStatus(state: 'idle' | 'running' | 'done' | 'error', text: string) {
  status.dataset.state = state;
  status.textContent = text;
}

/** The page's settings, checked: a clear message instead of a run on bad input. */
function readSettings() {
  const integer = (id: string, min: number, max: number) => {
    const value = Number($<HTMLInputElement>(id).value);
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${id} must be an integer from ${min} to ${max}, got "${$<HTMLInputElement>(id).value}"`);
    return value;
  };
  const chosen = [...document.querySelectorAll<HTMLInputElement>('#optimizers input[type=checkbox]:checked')].map((c) => Number(c.value));
  if (chosen.length === 0) throw new Error('Choose at least one optimizer.');
  const optimizers = chosen.map((i) => {
    const lr = Number(document.querySelector<HTMLInputElement>(`[data-lr="${i}"]`)!.value);
    if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`${CNN_OPTIMIZERS[i]!.label}: the learning rate must be a number > 0`);
    return { optimizer: CNN_OPTIMIZERS[i]!, lr };
  });
  const implementation = $<HTMLSelectElement>('implementation').value as Implementation | 'both';
  return {
    size: CNN_SIZES[$<HTMLSelectElement>('size').value as CnnSizeName],
    epochs: integer('epochs', 1, 100),
    batchSize: integer('batch', 1, 8000),
    halveEvery: integer('halveEvery', 1, 100),
    optimizers,
    implementations: (implementation === 'both' ? ['webgpu-optim', 'tf.train'] : [implementation]) as Implementation[],
  };
}

function showRow(run: RunResult, halveEvery: number) {
  const row = document.createElement('tr');
  row.innerHTML = `<td>${run.label}</td><td>${run.implementation}</td><td>${run.lr} (every ${halveEvery})</td><td>${run.epochLosses.at(-1)?.toFixed(4) ?? '–'}</td><td>${((run.testAccuracy.at(-1) ?? NaN) * 100).toFixed(1)}%</td><td>${medianOf(run.epochMs).toFixed(0)}</td>`;
  $('results').querySelector('tbody')!.append(row);
}

async function start() {
  clearError();
  let settings: ReturnType<typeof readSettings>;
  try {
    settings = readSettings();
  } catch (error) {
    setStatus('error', 'Not started.');
    showError((error as Error).message);
    return;
  }
  $<HTMLButtonElement>('start').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  stopRequested = false;
  results.length = 0;
  $('results').querySelector('tbody')!.replaceChildren();
  lossChart.data.datasets = [];
  accuracyChart.data.datasets = [];
  try {
    setStatus('running', 'Loading the digits…');
    const { train, test } = await digitImages(settings.size);
    const total = settings.optimizers.length * settings.implementations.length;
    let color = 0;
    for (const { optimizer, lr } of settings.optimizers) {
      for (const implementation of settings.implementations) {
        if (stopRequested) break;
        const run: RunResult = { label: optimizer.label, implementation, lr, batchLosses: [], epochLosses: [], testAccuracy: [], epochMs: [], lrs: [] };
        results.push(run);
        const name = `${optimizer.label} (${implementation})`;
        const style = { borderColor: COLORS[color % COLORS.length], backgroundColor: COLORS[color++ % COLORS.length], borderDash: implementation === 'tf.train' ? [5, 4] : [] };
        const loss = { label: name, data: [] as { x: number; y: number }[], borderWidth: 1.5, ...style };
        const acc = { label: name, data: [] as { x: number; y: number }[], ...style };
        lossChart.data.datasets.push(loss);
        accuracyChart.data.datasets.push(acc);
        setStatus('running', `Training ${name}: run ${results.length} of ${total}…`);
        const model = buildCnn(settings.size, 1);
        const tfOptimizer = optimizer.make(implementation, lr);
        try {
          await fitRun(model, tfOptimizer, train, test, {
            epochs: settings.epochs,
            batchSize: settings.batchSize,
            lr,
            halveEvery: settings.halveEvery,
            onProgress: (p) => {
              Object.assign(run, p);
              loss.data = p.batchLosses.map((y, x) => ({ x: x + 1, y }));
              acc.data = p.testAccuracy.map((y, x) => ({ x: x + 1, y }));
              lossChart.update();
              accuracyChart.update();
              return !stopRequested;
            },
          });
        } finally {
          model.dispose();
          tfOptimizer.dispose();
        }
        showRow(run, settings.halveEvery);
      }
    }
    tf.dispose([train.x, train.y, test.x, test.y]);
    setStatus('done', stopRequested ? 'Stopped.' : `Done: ${results.length} runs.`);
  } catch (error) {
    setStatus('error', 'Failed.');
    showError(String((error as Error).message ?? error));
  } finally {
    $<HTMLButtonElement>('start').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
  }
}

async function init() {
  try {
    // The banner names the adapter (and says when it is a software one); TF.js makes its own device.
    (await demoDevice()).device.destroy();
    if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not start its webgpu backend here.');
    await tf.ready();
  } catch (error) {
    showError(String((error as Error).message ?? error));
    setStatus('error', 'No WebGPU.');
    return;
  }
  $('start').addEventListener('click', () => void start());
  $('stop').addEventListener('click', () => (stopRequested = true));
}

void init();
