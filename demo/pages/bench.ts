/** Page 3: the throughput benchmark (bench/suite.ts) in the page, drawn as bars. */
import { MODE_LABELS, runSuite, type Mode } from '../../bench/suite.js';
import { tfjsRunner } from '../../bench/tfjs.js';
import { Chart, COLORS, demoDevice, renderHeader, showError } from './common.js';

renderHeader();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const chart = new Chart<'bar', (number | null)[], string>($('bars') as HTMLCanvasElement, {
  type: 'bar',
  data: { labels: [] as string[], datasets: [] },
  options: {
    animation: false,
    responsive: false,
    scales: { y: { type: 'logarithmic', title: { display: true, text: 'million elements updated per second (longer is faster)' } } },
    plugins: { legend: { position: 'right' } },
  },
});
const ready = demoDevice();

async function run() {
  const { device, software } = await ready;
  const optimizer = ($('optimizer') as HTMLSelectElement).value;
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
      const o = r.results[mode];
      return o && 'median' in o ? r.elements / (o.median / 1000) / 1e6 : null;
    }),
  }));
  chart.update();
  $('note').textContent = `${optimizer}: medians of repeated runs after warm-up (${results.clock === 'gpu-timestamps' ? 'GPU timestamps' : 'wall clock'}).` +
    (software ? ' This adapter is a software one (SwiftShader): the GPU bars are CPU-emulated, not GPU speed.' : '');
  (window as unknown as { benchResult: unknown }).benchResult = results;
  status.dataset.state = 'done';
  status.textContent = 'Done.';
}

$('run').addEventListener('click', () =>
  run().catch((e) => {
    status.dataset.state = 'error';
    showError(String(e?.message ?? e));
  }),
);
if (new URLSearchParams(location.search).get('autorun')) ready.then(() => $('run').click()).catch(() => {});
