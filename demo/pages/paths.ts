/**
 * Page 1: the classic optimizer-paths figure as small multiples (one panel per optimizer, as in
 * the textbook figure on x²/20 + y²), on several surfaces, with sliders that recompute at once and
 * a player that walks the paths step by step.
 */
import { drawPanel, type PanelPath } from '../paths/panel.js';
import { PATH_OPTIMIZERS, pathOptions, runPath } from '../paths/paths.js';
import { SURFACES } from '../paths/surfaces.js';
import { clearError, demoDevice, renderHeader, showError } from '../../common/page.js';

renderHeader();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const surfaceSelect = $<HTMLSelectElement>('surface');
// The option names the surface only (the title above the panels gives its formula), so the select fits a phone's width.
surfaceSelect.innerHTML = SURFACES.map((s, i) => `<option value="${i}" title="${s.formula}">${s.label}</option>`).join('');

/** Per-optimizer lr sliders on a log scale (10^-4 … 10^2). */
const rateInputs = PATH_OPTIMIZERS.map((opt) => {
  const label = document.createElement('label');
  label.innerHTML = `<span style="color:${opt.color}">■</span>&nbsp;${opt.label}<input type="range" min="-4" max="2" step="0.01"><output></output>`;
  $('rates').append(label);
  return { slider: label.querySelector('input')!, output: label.querySelector('output')! };
});
const lrOf = (k: number) => Number((10 ** Number(rateInputs[k]!.slider.value)).toPrecision(2));
function resetRates() {
  const surface = SURFACES[Number(surfaceSelect.value)]!;
  PATH_OPTIMIZERS.forEach((opt, k) => {
    rateInputs[k]!.slider.value = String(Math.log10(Number(surface.rates[opt.label] ?? opt.options.lr)));
    rateInputs[k]!.output.textContent = String(lrOf(k));
  });
}

const canvases = PATH_OPTIMIZERS.map(() => {
  const canvas = document.createElement('canvas');
  canvas.width = 300;
  canvas.height = 238;
  $('panels').append(canvas);
  return canvas;
});
const at = $<HTMLInputElement>('at');
let paths: PanelPath[] = [];

function draw(k: number) {
  const surface = SURFACES[Number(surfaceSelect.value)]!;
  paths.forEach((path, i) => drawPanel(canvases[i]!, surface, path, k));
  $('atLabel').textContent = `step ${k}`;
}

const ready = demoDevice();
let generation = 0;

/** Recomputes every path with the current controls (a newer call supersedes an older one). */
async function run() {
  const { device } = await ready;
  const mine = ++generation;
  const index = Number(surfaceSelect.value);
  const surface = SURFACES[index]!;
  const steps = Math.max(1, Math.min(2000, Math.floor(Number($<HTMLInputElement>('steps').value) || surface.steps)));
  const knobs = { momentum: Number($<HTMLInputElement>('momentum').value), betas: [Number($<HTMLInputElement>('beta1').value), Number($<HTMLInputElement>('beta2').value)] as [number, number] };
  for (const id of ['momentum', 'beta1', 'beta2']) document.querySelector(`output[for=${id}]`)!.textContent = $<HTMLInputElement>(id).value;
  clearError();
  status.dataset.state = 'running';
  status.textContent = `Computing ${steps} steps for ${PATH_OPTIMIZERS.length} optimizers on the GPU…`;
  const next: PanelPath[] = [];
  for (const [k, opt] of PATH_OPTIMIZERS.entries()) {
    const options = pathOptions(opt, surface, { ...knobs, lr: lrOf(k) });
    next.push({ label: opt.label, color: opt.color, lr: options.lr as number, points: await runPath(device, { ...opt, options }, steps, index) });
  }
  if (mine !== generation) return;
  paths = next;
  $('title').textContent = `Optimizer paths on ${surface.label}: f(x, y) = ${surface.formula}, from (${surface.start.join(', ')})`;
  at.max = String(steps);
  at.value = String(steps);
  draw(steps);
  (window as unknown as { pathResults: unknown }).pathResults = paths.map((p) => ({ label: p.label, color: p.color, lr: p.lr, path: p.points, final: p.points[p.points.length - 1], points: p.points.length, surface: surface.key }));
  status.dataset.state = 'done';
  status.textContent = `Done: ${steps} steps each on ${surface.label}.`;
}

const rerun = () =>
  run().catch((e) => {
    status.dataset.state = 'error';
    status.textContent = 'Stopped by an error (see the message above).';
    showError(String(e?.message ?? e));
  });
let pending: ReturnType<typeof setTimeout> | undefined;
/** Sliders fire many events while dragged: recompute once they pause. */
const rerunSoon = () => {
  clearTimeout(pending);
  pending = setTimeout(rerun, 120);
};

let playing: number | undefined;
function stopPlaying() {
  if (playing !== undefined) cancelAnimationFrame(playing);
  playing = undefined;
  $('play').textContent = '▶ Play';
}
$('play').addEventListener('click', () => {
  if (playing !== undefined) return stopPlaying();
  const total = Number(at.max);
  const begin = performance.now();
  $('play').textContent = '■ Stop';
  const frame = () => {
    const k = Math.min(total, Math.floor(((performance.now() - begin) / 4000) * total));
    at.value = String(k);
    draw(k);
    playing = k < total ? requestAnimationFrame(frame) : undefined;
    if (playing === undefined) stopPlaying();
  };
  playing = requestAnimationFrame(frame);
});
$('step').addEventListener('click', () => {
  stopPlaying();
  const k = Number(at.value) >= Number(at.max) ? 0 : Number(at.value) + 1;
  at.value = String(k);
  draw(k);
});
at.addEventListener('input', () => {
  stopPlaying();
  draw(Number(at.value));
});
surfaceSelect.addEventListener('change', () => {
  stopPlaying();
  resetRates();
  $<HTMLInputElement>('steps').value = String(SURFACES[Number(surfaceSelect.value)]!.steps);
  rerun();
});
for (const id of ['steps', 'momentum', 'beta1', 'beta2']) $(id).addEventListener('input', () => (stopPlaying(), rerunSoon()));
rateInputs.forEach(({ slider, output }, k) => slider.addEventListener('input', () => { output.textContent = String(lrOf(k)); stopPlaying(); rerunSoon(); }));

const query = new URLSearchParams(location.search);
const requested = SURFACES.findIndex((s) => s.key === query.get('surface'));
if (requested >= 0) surfaceSelect.value = String(requested);
resetRates();
$<HTMLInputElement>('steps').value = String(SURFACES[Number(surfaceSelect.value)]!.steps);
ready.then(rerun).catch(() => {});
