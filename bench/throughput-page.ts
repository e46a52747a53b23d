/** The demo's Benchmark page: the throughput suite (suite.ts) in the page, drawn as bars, with the ratios that matter. */
import { MODE_LABELS, runSuite, type Mode, type Row } from './suite.js';
import { tfjsRunner } from './tfjs.js';
import { OPTIMIZERS } from './workloads.js';
import { optimizerNames } from '../src/optimizers/registry.js';
import { Chart, COLORS, demoDevice, renderHeader, showError } from '../common/page.js';

renderHeader();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');

// Every registered optimizer: the benchmark's configurations, and the registered names it has no
// row of its own for (shown, not offered), so a newly registered optimizer appears here by itself.
const select = $<HTMLSelectElement>('optimizer');
for (const o of OPTIMIZERS) select.append(new Option(o.label === o.name ? o.label : `${o.label} (${o.name})`, o.label, o.name === 'adam', o.name === 'adam'));
for (const name of optimizerNames.filter((n) => !OPTIMIZERS.some((o) => o.name === n))) {
  const option = new Option(`${name} (no benchmark row of its own)`, name);
  option.disabled = true;
  select.append(option);
}

/** "1e6" as 1M, "1e-2" as 0.01: the log axis labels only powers of ten, so they never crowd. */
function powerOfTenLabel(value: number): string {
  const exponent = Math.log10(value);
  if (Math.abs(exponent - Math.round(exponent)) > 1e-6) return '';
  const e = Math.round(exponent);
  if (e >= 9) return `${10 ** (e - 9)}G`;
  if (e >= 6) return `${10 ** (e - 6)}M`;
  if (e >= 3) return `${10 ** (e - 3)}k`;
  return e >= 0 ? String(10 ** e) : (10 ** e).toFixed(-e);
}

const chart = new Chart<'bar', (number | null)[], string>($('bars') as HTMLCanvasElement, {
  type: 'bar',
  data: { labels: [] as string[], datasets: [] },
  options: {
    animation: false,
    responsive: false,
    scales: {
      y: {
        type: 'logarithmic',
        title: { display: true, text: 'million elements updated per second (taller is faster)' },
        ticks: { callback: (value) => powerOfTenLabel(Number(value)) },
      },
    },
    plugins: { legend: { position: 'right' } },
  },
});
(window as unknown as { benchChart: unknown }).benchChart = chart;
const ready = demoDevice();

/** What the page compares: each column's time per step over the packed step's (or the roofline's). */
const RATIOS = [
  { key: 'perTensorOverFused', label: 'per-tensor dispatch ÷ packed', over: 'perTensor', under: 'fused' },
  { key: 'fusedOverRoofline', label: 'packed ÷ roofline copy (same bytes)', over: 'fused', under: 'roofline' },
  { key: 'cpuFastOverFused', label: 'CPU plain-JS loop ÷ packed', over: 'cpuFast', under: 'fused' },
  { key: 'tfjsWebgpuOverFused', label: 'TF.js webgpu ÷ packed', over: 'tfjsWebgpu', under: 'fused' },
] as const satisfies readonly { key: string; label: string; over: Mode; under: Mode }[];

type Ratios = Record<(typeof RATIOS)[number]['key'], number | undefined>;

const medianOf = (row: Row, mode: Mode) => {
  const o = row.results[mode];
  return o && 'median' in o ? o.median : undefined;
};

/** Each row's ratios of times per step (undefined where a column was not measured). */
function ratiosOf(row: Row): Ratios {
  return Object.fromEntries(RATIOS.map((r) => {
    const over = medianOf(row, r.over);
    const under = medianOf(row, r.under);
    return [r.key, over === undefined || under === undefined ? undefined : over / under];
  })) as Ratios;
}

function showRatios(rows: Row[], ratios: Ratios[]) {
  const table = $<HTMLTableElement>('ratios');
  table.tHead!.innerHTML = `<tr><th>workload</th><th>packed step</th>${RATIOS.map((r) => `<th>${r.label}</th>`).join('')}</tr>`;
  table.tBodies[0]!.innerHTML = rows
    .map((row, k) => {
      const fused = medianOf(row, 'fused');
      const cells = RATIOS.map((r) => ratios[k]![r.key]).map((v) => `<td>${v === undefined ? '–' : `${v.toPrecision(3)}×`}</td>`);
      return `<tr><td>${row.workload}</td><td>${fused === undefined ? '–' : `${fused.toPrecision(3)} ms`}</td>${cells.join('')}</tr>`;
    })
    .join('');
  table.hidden = false;
}

async function run() {
  const { device, software } = await ready;
  const optimizer = select.value;
  const quick = ($('size') as HTMLSelectElement).value === 'quick';
  status.dataset.state = 'running';
  const modes: Mode[] = ['fused', 'perTensor', 'roofline', 'cpuFast', 'cpuReference', ...(($('tfjs') as HTMLInputElement).checked ? (['tfjsWebgpu', 'tfjsCpu'] as Mode[]) : [])];
  const results = await runSuite(
    device,
    { tfjs: { tfjsWebgpu: tfjsRunner('webgpu'), tfjsCpu: tfjsRunner('cpu') }, progress: (m, d, t) => (status.textContent = `[${d}/${t}] ${m}`) },
    { quick, optimizers: [optimizer], modes, timing: { reps: quick ? 3 : 5, minRepMs: quick ? 20 : 100, maxSteps: 256 }, slowCpuLimit: 1 << 22, sweep: false },
  );
  chart.data.labels = results.rows.map((r) => r.workload);
  chart.data.datasets = modes.map((mode, k) => ({
    label: MODE_LABELS[mode],
    backgroundColor: COLORS[k % COLORS.length],
    data: results.rows.map((r) => {
      const median = medianOf(r, mode);
      return median === undefined ? null : r.elements / (median / 1000) / 1e6;
    }),
  }));
  chart.update();
  const ratios = results.rows.map(ratiosOf);
  showRatios(results.rows, ratios);
  $('note').textContent = `${optimizer}: medians of repeated runs after warm-up (${results.clock === 'gpu-timestamps' ? 'GPU timestamps' : 'wall clock'}); the table divides times per step (over 1: the first named is slower).` +
    (software ? ' This adapter is a software one (SwiftShader): the GPU bars are CPU-emulated, not GPU speed.' : '');
  (window as unknown as { benchResult: unknown }).benchResult = { ...results, ratios };
  status.dataset.state = 'done';
  status.textContent = 'Done.';
}

$('run').addEventListener('click', () =>
  run().catch((e) => {
    status.dataset.state = 'error';
    status.textContent = 'Stopped by an error (see the message above).';
    showError(String(e?.message ?? e));
  }),
);
const requested = new URLSearchParams(location.search).get('optimizer');
if (requested !== null) {
  if (OPTIMIZERS.some((o) => o.label === requested)) select.value = requested;
  else showError(`"${requested}" is not an optimizer this page benchmarks; kept ${select.value}.`, 'optimizer');
}
if (new URLSearchParams(location.search).get('autorun')) ready.then(() => $('run').click()).catch(() => {});
