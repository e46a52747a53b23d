/** Page 2: train an MLP with several optimizers side by side, everything on the GPU. */
import { cosineWithWarmup, stepDecay, type LrSchedule, type OptimizerCreateOptions, type OptimizerName } from '../../src/index.js';
import { getDefinition } from '../../src/optimizers/registry.js';
import { splitDataset, type Dataset } from '../data/datasets.js';
import { createTrainer, type TrainOptimizer, type TrainProgress } from '../mlp/trainer.js';
import { argmaxRows, boundaryGrid, drawBoundary, drawDigit } from '../train/draw.js';
import { isBlockwise, takesBlockwise } from '../train/state-choices.js';
import { Chart, clearError, COLORS, demoDevice, FieldError, renderHeader, showError } from '../../common/page.js';

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
  adamw: [
    { label: 'AdamW', options: {}, checked: false },
    { label: 'Cautious AdamW', options: { cautious: true }, checked: false },
  ],
  adamax: [{ label: 'Adamax', options: {}, checked: false }],
  nadam: [{ label: 'NAdam', options: {}, checked: false }],
  radam: [{ label: 'RAdam', options: {}, checked: false }],
  rprop: [{ label: 'Rprop', options: {}, checked: false }],
  lion: [
    { label: 'Lion', options: {}, checked: false },
    { label: 'Cautious Lion', options: { cautious: true }, checked: false },
  ],
  adamw_schedule_free: [{ label: 'Schedule-Free AdamW', options: {}, checked: false }],
  adamw_schedule_free_paper: [{ label: 'Schedule-Free AdamW (paper form)', options: {}, checked: false }],
  ema_momentum: [{ label: 'EMA momentum', options: { beta: 0.9 }, checked: false }],
  lamb: [{ label: 'LAMB', options: {}, checked: false }],
  // The page gives every optimizer one lr (default 0.01); LARS's step is lr·η of each tensor's norm,
  // so η = 0.2 here gives the 0.002 that trains these nets (lr 2 with optax's η = 0.001).
  lars: [{ label: 'LARS (η 0.2)', options: { trustCoefficient: 0.2 }, checked: false }],
  adafactor: [{ label: 'Adafactor', options: {}, checked: false }],
  ademamix: [{ label: 'AdEMAMix', options: {}, checked: false }],
  // Muon orthogonalizes the weight matrices; AdamW (lr 3e-3 here, beside the page's lr for Muon)
  // takes the biases, as every Muon recipe pairs them. One buffer holds Muon's momentum and AdamW's
  // exp_avg, exp_avg_sq covers AdamW's tensors only: 4 bytes per matrix element, 8 per bias element.
  muon: [{ label: 'Muon + AdamW', options: { adamw: { lr: 0.003 } }, checked: false }],
  // Prodigy estimates its step size d; the page's lr multiplies it (the authors recommend lr 1).
  prodigy: [{ label: 'Prodigy (set lr 1)', options: {}, checked: false }],
};
const BASE = (Object.entries(PRESETS) as [OptimizerName, readonly Preset[]][]).flatMap(([name, presets]) => presets.map((p) => ({ name, ...p })));
const OPTIMIZERS = BASE.map((o, k) => ({ ...o, color: COLORS[k]! }));

/** How the optimizer state can be stored (docs/state-formats.md): the choices, by the name the page shows. */
const STATE_CHOICES: Readonly<Record<string, { options: Pick<OptimizerCreateOptions, 'stateFormat' | 'stochasticRounding'>; checked: boolean; hint: string }>> = {
  f32: { options: {}, checked: true, hint: "4 bytes per value (PyTorch's)" },
  bf16: { options: { stateFormat: 'bf16' }, checked: false, hint: '2 bytes, f32 range, 8 significant bits, nearest rounding' },
  'bf16 sr': { options: { stateFormat: 'bf16', stochasticRounding: { seed: 1 } }, checked: false, hint: 'bf16 with stochastic rounding: right on average' },
  f16: { options: { stateFormat: 'f16' }, checked: false, hint: '2 bytes, 11 significant bits, narrow range (second moments stored as roots)' },
  q8: { options: { stateFormat: 'q8' }, checked: false, hint: '8-bit block-wise (1 byte per value and one scale per 256); tensors under 4096 values keep f32, as bitsandbytes' },
  q4: { options: { stateFormat: 'q4' }, checked: false, hint: "4-bit block-wise (two codes per byte and one scale per 128), torchao's 4-bit recipe; tensors under 4096 values keep f32" },
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fieldset = $('optimizers');
for (const o of OPTIMIZERS) {
  const label = document.createElement('label');
  label.innerHTML = `<input type="checkbox" value="${o.label}" ${o.checked ? 'checked' : ''}>&nbsp;<span style="color:${o.color}">${o.label}</span>`;
  fieldset.append(label);
}
for (const [name, choice] of Object.entries(STATE_CHOICES)) {
  const label = document.createElement('label');
  label.title = choice.hint;
  label.innerHTML = `<input type="checkbox" value="${name}" ${choice.checked ? 'checked' : ''}>&nbsp;${name}`;
  $('formats').append(label);
}

/**
 * The settings each dataset starts with (switching dataset applies them): the 2-D sets train a
 * small net for many epochs; digits, 784 inputs and 1000 images, a wider one for a few epochs
 * (with the 2-D settings it fits its training set and falls behind on the held-out one).
 */
const DATASET_DEFAULTS: Readonly<Record<string, Readonly<Record<'hidden' | 'lr' | 'batch' | 'epochs', string>>>> = {
  moons: { hidden: '16,16', lr: '0.01', batch: '64', epochs: '40' },
  spirals: { hidden: '16,16', lr: '0.01', batch: '64', epochs: '40' },
  digits: { hidden: '64', lr: '0.05', batch: '64', epochs: '5' },
};
function applyDatasetDefaults() {
  const defaults = DATASET_DEFAULTS[($('dataset') as HTMLSelectElement).value];
  for (const [id, value] of Object.entries(defaults ?? {})) ($(id) as HTMLInputElement | HTMLSelectElement).value = value;
}
$('dataset').addEventListener('change', applyDatasetDefaults);

// Query parameters preset the controls (after the dataset's defaults): ?dataset=moons&hidden=16,16&lr=0.01&batch=64&epochs=40&optimizers=GD,Adam&formats=f32,bf16,bf16%20sr&autorun=1
const query = new URLSearchParams(location.search);
const QUERY_CONTROLS = ['dataset', 'hidden', 'lr', 'batch', 'epochs', 'schedule', 'init', 'seed'];
for (const id of QUERY_CONTROLS) {
  const value = query.get(id);
  if (value === null) continue;
  const control = $(id) as HTMLInputElement | HTMLSelectElement;
  const before = control.value;
  control.value = value;
  if (control.value !== value) {
    control.value = before;
    showError(`"${value}" is not a valid ${id}; kept ${before}.`, id);
  }
  if (id === 'dataset') applyDatasetDefaults();
}
if (!query.has('dataset')) applyDatasetDefaults();
for (const key of ['optimizers', 'formats']) {
  const chosen = query.get(key)?.split(',');
  if (chosen) $(key).querySelectorAll<HTMLInputElement>('input').forEach((box) => (box.checked = chosen.includes(box.value)));
}

const status = $('status');
type Point = { x: number; y: number };

/** A line chart of {x, y} points: x linear, y log or linear from 0, both axes titled. */
function lineChart(id: string, x: string, y: string, logY: boolean, plugins: object = {}) {
  return new Chart($(id) as HTMLCanvasElement, {
    type: 'line',
    data: { datasets: [] as { label: string; data: Point[] }[] },
    options: {
      animation: false,
      responsive: false,
      parsing: false,
      scales: {
        x: { type: 'linear', title: { display: true, text: x } },
        y: logY ? { type: 'logarithmic', title: { display: true, text: y } } : { beginAtZero: true, title: { display: true, text: y } },
      },
      plugins,
    },
  });
}
const lossChart = lineChart('loss', 'optimizer step', 'loss: training set (solid), held-out (dashed)', true, {
  legend: { position: 'top', labels: { filter: (item: { text: string }) => !item.text.endsWith('(test)') } },
});
const lrChart = lineChart('lrChart', 'optimizer step', 'learning rate', false, { legend: { display: false }, title: { display: true, text: 'lr schedule' } });
const batchChart = lineChart('batchChart', 'epoch (passes over the training set)', 'training loss (whole set)', true);

const ready = demoDevice();
let stopRequested = false;

/** What actually ran: the plain gradient step is SGD at batch 1, GD on the full set, mini-batch SGD between. */
function titleOf(label: string, batchSize: number, samples: number): string {
  if (label !== 'GD') return label;
  if (batchSize === 1) return 'SGD (batch 1)';
  return batchSize >= samples ? 'GD (full batch)' : `mini-batch SGD (${batchSize})`;
}

const formatBytes = (bytes: number) => (bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : bytes >= 1 << 10 ? `${(bytes / (1 << 10)).toFixed(1)} KiB` : `${bytes} B`);

const evaluationsFor = (train: Dataset) => (train.inputs > 2 ? 12 : 150);

function scheduleFor(kind: string, totalSteps: number): LrSchedule | undefined {
  if (kind === 'step') return stepDecay({ stepSize: Math.max(1, Math.ceil(totalSteps / 2)), gamma: 0.1 });
  if (kind === 'cosine') return cosineWithWarmup({ warmupSteps: Math.round(totalSteps / 10), totalSteps });
  return undefined;
}

interface RunSettings {
  data: { train: Dataset; test: Dataset };
  hidden: number[];
  lr: number;
  batchSize: number;
  epochs: number;
  schedule: string;
  seed: number;
  init: 'he' | 'xavier';
  chosen: (typeof OPTIMIZERS)[number][];
}

/**
 * Each optimizer once per state choice: f32 keeps its label and colour, 16-bit copies are
 * "Adam · bf16" in colours no other curve of the run has (Adafactor's factored state is f32 only).
 */
function withFormats(optimizers: typeof OPTIMIZERS, choices: readonly string[]): typeof OPTIMIZERS {
  const used = new Set(optimizers.map((o) => o.color));
  const freeColor = () => {
    const color = COLORS.find((c) => !used.has(c)) ?? COLORS[used.size % COLORS.length]!;
    used.add(color);
    return color;
  };
  return optimizers.flatMap((o) =>
    choices
      .filter((choice) => choice === 'f32' || !getDefinition(o.name).shapedSlots)
      // 8- and 4-bit state where the optimizer takes it: not cautious updates (their count reads the
      // state outside the block-wise tiles), Prodigy or Muon (the definition's noQ8State says why).
      .filter((choice) => !isBlockwise(STATE_CHOICES[choice]?.options.stateFormat) || takesBlockwise(o))
      .map((choice) => (choice === 'f32' ? o : { ...o, label: `${o.label} · ${choice}`, options: { ...o.options, ...STATE_CHOICES[choice]!.options }, color: freeColor() })),
  );
}

/** Reads and checks the controls, then loads the dataset; a control that is off throws a FieldError naming it. */
async function readSettings(): Promise<RunSettings> {
  const text = (id: string) => ($(id) as HTMLInputElement | HTMLSelectElement).value;
  const hidden = text('hidden').split(',').map((s) => Number(s.trim()));
  if (text('hidden').trim() === '' || !hidden.every((n) => Number.isInteger(n) && n > 0)) {
    throw new FieldError('hidden', `Hidden layers must be positive whole numbers separated by commas, got "${text('hidden')}".`);
  }
  const lr = Number(text('lr'));
  if (text('lr').trim() === '' || !(lr >= 0) || !Number.isFinite(lr)) throw new FieldError('lr', `lr must be a number >= 0, got "${text('lr')}".`);
  const epochs = Number(text('epochs'));
  if (!Number.isInteger(epochs) || epochs < 1) throw new FieldError('epochs', `Epochs must be a whole number >= 1, got "${text('epochs')}".`);
  const seed = Number(text('seed'));
  if (!Number.isInteger(seed)) throw new FieldError('seed', `The seed must be a whole number, got "${text('seed')}".`);
  const batchValue = text('batch');
  if (batchValue !== 'full' && !(Number.isInteger(Number(batchValue)) && Number(batchValue) >= 1)) throw new FieldError('batch', `Unknown batch size "${batchValue}".`);
  const checked = new Set(Array.from(fieldset.querySelectorAll<HTMLInputElement>('input:checked'), (b) => b.value));
  const formats = Array.from($('formats').querySelectorAll<HTMLInputElement>('input:checked'), (b) => b.value);
  if (formats.length === 0) throw new FieldError('formats', 'Choose at least one state format.');
  const chosen = withFormats(OPTIMIZERS.filter((o) => checked.has(o.label)), formats);
  if (chosen.length === 0) throw new FieldError('optimizers', 'Choose at least one optimizer.');
  const datasetName = text('dataset');
  status.textContent = `Loading ${datasetName}…`;
  const data = await splitDataset(datasetName, seed);
  const batchSize = batchValue === 'full' ? data.train.labels.length : Number(batchValue);
  return { data, hidden, lr, batchSize, epochs, schedule: text('schedule'), seed, init: text('init') as 'he' | 'xavier', chosen };
}

/** The optimizers as the trainer takes them: lr, the schedule (where the optimizer takes one), a title. */
function trainOptimizers(settings: RunSettings, schedule: LrSchedule | undefined, batchSize: number) {
  return settings.chosen.map((o) => {
    const scheduled = schedule && !getDefinition(o.name).noLrSchedule;
    const title = titleOf(o.label, batchSize, settings.data.train.labels.length) + (schedule && !scheduled ? ' (its own schedule)' : '');
    return { ...o, title, options: { ...o.options, lr: settings.lr, ...(scheduled ? { lrSchedule: schedule } : {}) } };
  });
}

function plotSchedule(schedule: LrSchedule | undefined, lr: number, totalSteps: number) {
  const points: Point[] = [];
  for (let k = 0; k <= 200; k++) {
    const t = Math.round((k / 200) * Math.max(0, totalSteps - 1));
    points.push({ x: t + 1, y: schedule ? schedule(t, lr) : lr });
  }
  lrChart.data.datasets = [{ label: 'lr', data: points, borderColor: '#444', pointRadius: 0, borderWidth: 2 }];
  lrChart.update();
}

const setRunning = (running: boolean) => {
  $('start').toggleAttribute('disabled', running);
  $('compareBatches').toggleAttribute('disabled', running);
  $('stop').toggleAttribute('disabled', !running);
};

/** What every run starts with: the device, a clean page, the controls read and checked. */
async function beginRun() {
  const { device } = await ready;
  stopRequested = false;
  clearError();
  setRunning(true);
  status.dataset.state = 'running';
  return { device, settings: await readSettings() };
}

async function start() {
  const { device, settings } = await beginRun();
  const { train, test } = settings.data;
  const totalSteps = Math.floor(train.labels.length / Math.min(settings.batchSize, train.labels.length)) * settings.epochs;
  const schedule = scheduleFor(settings.schedule, totalSteps);
  const optimizers = trainOptimizers(settings, schedule, settings.batchSize);
  plotSchedule(schedule, settings.lr, totalSteps);
  const trainer = createTrainer(device, {
    dataset: train, test, hidden: settings.hidden, optimizers, batchSize: settings.batchSize, epochs: settings.epochs, init: settings.init, seed: settings.seed,
    // A fixed number of evaluations whatever the batch size, so the loss curve has points at batch
    // 1 too: 150 on the small 2-D sets, 12 on digits (each pass over 1200 images costs more).
    evalEvery: Math.max(1, Math.ceil(totalSteps / evaluationsFor(train))),
  });
  lossChart.data.datasets = optimizers.flatMap((o) => [
    { label: o.title, data: [] as Point[], borderColor: o.color, backgroundColor: o.color, pointRadius: 0, borderWidth: 2 },
    { label: `${o.title} (test)`, data: [] as Point[], borderColor: o.color, backgroundColor: o.color, pointRadius: 0, borderWidth: 1.5, borderDash: [5, 4] },
  ]);
  const boundaries = createBoundaryView(train, test, optimizers.map((o) => o.title));
  const body = document.querySelector('#metrics tbody')!;
  const stateNotes = document.querySelector<HTMLElement>('#state-notes')!;
  let lastDraw = 0;
  const show = async (p: TrainProgress) => {
    p.metrics.forEach((m, k) => {
      (lossChart.data.datasets[2 * k]!.data as Point[]).push({ x: p.step, y: Math.max(m.loss, 1e-6) });
      if (m.testLoss !== undefined) (lossChart.data.datasets[2 * k + 1]!.data as Point[]).push({ x: p.step, y: Math.max(m.testLoss, 1e-6) });
    });
    lossChart.update();
    body.innerHTML = p.metrics
      .map((m, k) => `<tr><td style="color:${optimizers[k]!.color}">${optimizers[k]!.title}</td><td>${m.loss.toFixed(4)}</td><td>${(m.accuracy * 100).toFixed(1)}%</td><td>${m.testAccuracy === undefined ? '–' : `${(m.testAccuracy * 100).toFixed(1)}%`}</td><td>${m.stepsPerSecond.toFixed(0)}</td><td${m.stateNote ? ` title="${m.stateNote.replace(/"/g, '&quot;')}"` : ''}>${formatBytes(m.stateBytes)}${m.stateNote ? ' *' : ''}</td></tr>`)
      .join('');
    // Once per distinct note: a q8 optimizer whose tensors all stay f32 says why in words.
    const notes = [...new Set(p.metrics.map((m) => m.stateNote).filter((n): n is string => n !== undefined))];
    stateNotes.textContent = notes.map((n) => `* ${n}`).join('\n');
    status.textContent = `epoch ${p.epoch}/${settings.epochs}, step ${p.step}/${p.totalSteps} (batch ${settings.batchSize}, ${train.labels.length} training + ${test.labels.length} held-out samples, layers ${trainer.layers.join('-')})`;
    // The boundaries move while training (redrawn at most a few times a second).
    if (boundaries && (performance.now() - lastDraw > 400 || p.step === p.totalSteps)) {
      lastDraw = performance.now();
      await boundaries.draw(trainer, p);
    }
  };
  const t0 = performance.now();
  const final = await trainer.run(show, () => stopRequested);
  const seconds = (performance.now() - t0) / 1000;
  await boundaries?.draw(trainer, final);
  await showDigits(trainer, test, final);
  trainer.destroy();
  // For tests and the console: points per loss curve and the lr curve drawn.
  (window as unknown as { demoCharts: unknown }).demoCharts = {
    loss: lossChart.data.datasets.filter((_, i) => i % 2 === 0).map((d) => d.data.length),
    lr: (lrChart.data.datasets[0]!.data as Point[]).map((p) => p.y),
  };
  (window as unknown as { trainResult: unknown }).trainResult = { ...final, seconds, dataset: train.name, batchSize: settings.batchSize, lr: settings.lr, layers: trainer.layers, titles: optimizers.map((o) => o.title) };
  status.textContent += ` — done in ${seconds.toFixed(1)} s`;
  status.dataset.state = 'done';
  setRunning(false);
}

/** Decision boundaries of each network on a 2-D dataset, redrawn as training goes (undefined otherwise). */
function createBoundaryView(train: Dataset, test: Dataset, titles: string[]) {
  const container = $('boundaries');
  container.innerHTML = '';
  $('boundaryTitle').hidden = train.inputs !== 2;
  if (train.inputs !== 2) return undefined;
  const grid = 56;
  const { points, bounds } = boundaryGrid(train, grid);
  const figures = titles.map((title) => {
    const figure = document.createElement('figure');
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 220;
    const caption = Object.assign(document.createElement('figcaption'), { textContent: title });
    figure.append(canvas, caption);
    container.append(figure);
    return { canvas, caption, title };
  });
  return {
    async draw(trainer: ReturnType<typeof createTrainer>, p: TrainProgress) {
      for (const [k, f] of figures.entries()) {
        drawBoundary(f.canvas, await trainer.predict(k, points), grid, train, test, bounds);
        const m = p.metrics[k]!;
        f.caption.textContent = `${f.title}: train ${(m.accuracy * 100).toFixed(1)}%, test ${((m.testAccuracy ?? 0) * 100).toFixed(1)}% (step ${p.step})`;
      }
    },
  };
}

/** For digits: 24 held-out images with the prediction of the network with the lowest test loss. */
async function showDigits(trainer: ReturnType<typeof createTrainer>, test: Dataset, final: TrainProgress) {
  const container = $('digits');
  container.innerHTML = '';
  $('digitsTitle').hidden = test.inputs !== 784;
  if (test.inputs !== 784) return;
  const best = final.metrics.reduce((b, m, k) => ((m.testLoss ?? Infinity) < (final.metrics[b]!.testLoss ?? Infinity) ? k : b), 0);
  // Two held-out images of every class, in class order (the set interleaves its classes, so
  // evenly spaced rows would skip some).
  const perClass = 2;
  const picks = Array.from({ length: test.classes }, (_, c) => Array.from(test.labels.keys()).filter((row) => test.labels[row] === c).slice(0, perClass)).flat();
  const count = picks.length;
  const pixels = new Float32Array(count * 784);
  picks.forEach((row, i) => pixels.set(test.features.subarray(row * 784, (row + 1) * 784), i * 784));
  const predicted = argmaxRows(await trainer.predict(best, pixels), test.classes);
  $('digitsTitle').textContent = `Held-out digits and what ${final.metrics[best]!.label} (lowest test loss) says they are`;
  picks.forEach((row, i) => {
    const canvas = document.createElement('canvas');
    canvas.width = 56;
    canvas.height = 74;
    drawDigit(canvas, pixels.subarray(i * 784, (i + 1) * 784), test.labels[row]!, predicted[i]!);
    canvas.dataset.label = String(test.labels[row]);
    canvas.dataset.predicted = String(predicted[i]);
    container.append(canvas);
  });
}

/** One optimizer (the first checked) at batch 1, 64 and the full set: loss against epochs. */
async function compareBatches() {
  const { device, settings } = await beginRun();
  const n = settings.data.train.labels.length;
  const sizes = [1, 64, n];
  const colors = COLORS.slice(0, sizes.length);
  $('batchTitle').hidden = false;
  $('batchPanel').hidden = false;
  batchChart.data.datasets = [];
  const finals: { batchSize: number; title: string; loss: number }[] = [];
  for (const [k, batchSize] of sizes.entries()) {
    const stepsPerEpoch = Math.floor(n / batchSize);
    const totalSteps = stepsPerEpoch * settings.epochs;
    const [optimizer] = trainOptimizers({ ...settings, chosen: settings.chosen.slice(0, 1) }, scheduleFor(settings.schedule, totalSteps), batchSize);
    const title = optimizer!.label === 'GD' ? optimizer!.title : `${optimizer!.title}, batch ${batchSize === n ? `${n} (full)` : batchSize}`;
    const points: Point[] = [];
    batchChart.data.datasets.push({ label: title, data: points, borderColor: colors[k], backgroundColor: colors[k], pointRadius: 0, borderWidth: 2 });
    const trainer = createTrainer(device, {
      dataset: settings.data.train, hidden: settings.hidden, optimizers: [optimizer!], batchSize, epochs: settings.epochs, init: settings.init, seed: settings.seed,
      evalEvery: Math.max(1, Math.ceil(totalSteps / evaluationsFor(settings.data.train))),
    });
    const final = await trainer.run((p) => {
      points.push({ x: p.step / stepsPerEpoch, y: Math.max(p.metrics[0]!.loss, 1e-6) });
      batchChart.update();
      status.textContent = `${title}: epoch ${p.epoch}/${settings.epochs}, step ${p.step}/${p.totalSteps}`;
    }, () => stopRequested);
    trainer.destroy();
    finals.push({ batchSize, title, loss: final.metrics[0]!.loss });
  }
  (window as unknown as { batchResult: unknown }).batchResult = finals;
  status.textContent = `Done: ${finals.map((f) => `${f.title} → loss ${f.loss.toFixed(4)}`).join('; ')}`;
  status.dataset.state = 'done';
  setRunning(false);
}

/** A run that could not start or failed: the message beside its cause, the status line says so. */
const fail = (e: unknown) => {
  status.dataset.state = 'error';
  status.textContent = e instanceof FieldError ? 'Not started: a setting needs changing (see the message beside it).' : 'Stopped by an error (see the message above).';
  setRunning(false);
  showError(String((e as Error)?.message ?? e), e instanceof FieldError ? e.field : undefined);
};
$('start').addEventListener('click', () => start().catch(fail));
$('compareBatches').addEventListener('click', () => compareBatches().catch(fail));
$('stop').addEventListener('click', () => (stopRequested = true));
if (query.get('autorun')) ready.then(() => $('start').click()).catch(() => {});
