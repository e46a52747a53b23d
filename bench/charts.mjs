// The charts of one benchmark run as a self-contained HTML page (Chart.js inlined), drawn in
// headless Chromium and saved as PNG by bench/render.mjs and the browser run.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { adapterLine, isSoftware, MODES } from './report.mjs';

const ok = (o) => o && typeof o.median === 'number';
const label = Object.fromEntries(MODES);
const COLORS = {
  fused: '#1f77b4', perTensor: '#9ecae1', roofline: '#555555', cpuFast: '#ff7f0e', cpuWorkers: '#fdae6b',
  cpuReference: '#d62728', tfjsWebgpu: '#2ca02c', tfjsCpu: '#a1d99b', jaxFlat: '#9467bd', jaxPerTensor: '#c5b0d5',
};

/** Log axes labelled at powers of ten only (Chart.js labels every minor tick otherwise); the page sets the callback. */
const decades = { decades: true };

/** Step time (log) per workload and implementation, Adam (the optimizer every peer has), all by the wall clock. */
function stepTimeChart(results) {
  const rows = results.rows.filter((r) => r.optimizer === 'adam' && !r.workload.startsWith('sweep'));
  const wall = rows.some((r) => ok(r.results.fusedWall));
  const packed = wall ? ['fusedWall', 'perTensorWall'] : ['fused', 'perTensor'];
  const modes = [...packed, 'cpuFast', 'cpuWorkers', 'tfjsWebgpu', 'tfjsCpu', 'jaxFlat', 'jaxPerTensor'].filter((m) => rows.some((r) => ok(r.results[m])));
  return {
    title: 'Adam: wall time per optimizer step (log scale; shorter is faster)',
    config: {
      type: 'bar',
      data: {
        labels: rows.map((r) => r.workload),
        datasets: modes.map((m) => ({ label: label[m], backgroundColor: COLORS[m.replace('Wall', '')], data: rows.map((r) => (ok(r.results[m]) ? r.results[m].median : null)) })),
      },
      options: { scales: { y: { type: 'logarithmic', ticks: decades, title: { display: true, text: 'ms per step' } }, x: { title: { display: true, text: 'workload (tensors × elements)' } } } },
    },
  };
}

/** Achieved bandwidth against the copy roofline as the tensor grows (single-tensor Adam rows). */
function bandwidthChart(results) {
  const rows = results.rows.filter((r) => r.optimizer === 'adam' && r.tensors === 1).sort((a, b) => a.elements - b.elements);
  const gbps = (r, m) => (ok(r.results[m]) ? (r.elements * r.bytesPerElement) / (r.results[m].median / 1000) / 1e9 : null);
  const series = (m, color, dash) => ({ label: m === 'fused' ? 'Adam, packed fused' : 'copy roofline (same bytes)', borderColor: color, backgroundColor: color, borderDash: dash, data: rows.map((r) => ({ x: r.elements, y: gbps(r, m) })) });
  return {
    title: 'Adam: memory bandwidth achieved vs tensor size',
    config: {
      type: 'line',
      data: { datasets: [series('fused', COLORS.fused, []), series('roofline', COLORS.roofline, [6, 4])] },
      options: {
        scales: {
          x: { type: 'logarithmic', ticks: decades, title: { display: true, text: 'elements in the tensor' } },
          y: { beginAtZero: true, title: { display: true, text: 'GB/s (bytes read + written ÷ GPU time)' } },
        },
      },
    },
  };
}

/** Step time vs number of 2048-element tensors: packed, per tensor, TF.js, jax-js. */
function tensorCountChart(results) {
  const rows = results.rows.filter((r) => r.optimizer === 'adam' && (r.workload.startsWith('sweep') || /^\d+ × 2048$/.test(r.workload))).sort((a, b) => a.tensors - b.tensors);
  const modes = ['fusedWall', 'perTensorWall', 'tfjsWebgpu', 'jaxFlat', 'jaxPerTensor'].filter((m) => rows.some((r) => ok(r.results[m])));
  return {
    title: 'Adam: wall time per step vs number of tensors (2048 elements each)',
    config: {
      type: 'line',
      data: { datasets: modes.map((m) => ({ label: label[m], borderColor: COLORS[m.replace('Wall', '')], backgroundColor: COLORS[m.replace('Wall', '')], data: rows.map((r) => ({ x: r.tensors, y: ok(r.results[m]) ? r.results[m].median : null })) })) },
      options: {
        scales: {
          x: { type: 'logarithmic', ticks: decades, title: { display: true, text: 'tensors' } },
          y: { type: 'logarithmic', ticks: decades, title: { display: true, text: 'ms per step (wall clock)' } },
        },
      },
    },
  };
}

/** The kernel-shape experiment: ms per step by workgroup size × vec4s per invocation. */
function kernelShapeChart(results) {
  const shapes = (results.kernelShapes ?? []).filter((s) => ok(s.fused));
  if (shapes.length === 0) return undefined;
  const keys = [...new Set(shapes.map((s) => `${s.workgroupSize} × ${s.vectorsPerInvocation}`))];
  const workloads = [...new Set(shapes.map((s) => s.workload))];
  const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];
  return {
    title: 'Kernel shape: Adam step time by workgroup size × vec4s per invocation',
    config: {
      type: 'bar',
      data: {
        labels: keys,
        datasets: workloads.map((w, i) => {
          const base = shapes.find((s) => s.workload === w && s.workgroupSize === 256 && s.vectorsPerInvocation === 1)?.fused.median;
          return { label: `${w} (relative to 256 × 1 = ${base?.toPrecision(3)} ms)`, backgroundColor: palette[i % 4], data: keys.map((k) => { const s = shapes.find((x) => x.workload === w && `${x.workgroupSize} × ${x.vectorsPerInvocation}` === k); return s && base ? s.fused.median / base : null; }) };
        }),
      },
      options: {
        scales: {
          y: { title: { display: true, text: 'step time ÷ step time at 256 × 1' } },
          x: { title: { display: true, text: 'invocations per workgroup × vec4s per invocation' } },
        },
      },
    },
  };
}

export function htmlReport(results) {
  const chartJs = readFileSync(join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js'), 'utf8');
  const hasData = (c) => c?.config.data.datasets.some((d) => d.data.some((v) => v !== null && (typeof v !== 'object' || v.y !== null)));
  const charts = [stepTimeChart(results), bandwidthChart(results), tensorCountChart(results), kernelShapeChart(results)].filter(hasData);
  const meta = results.meta;
  const software = isSoftware(meta);
  return `<!doctype html><html><head><meta charset="utf-8"><title>webgpu-optim benchmark: ${meta.environment}</title>
<style>body{font-family:system-ui,sans-serif;margin:16px;width:1400px} .grid{display:grid;grid-template-columns:1fr 1fr;gap:16px} h3{margin:4px 0;font-size:15px} .warn{background:#fff3cd;padding:6px 10px;border:1px solid #e0c36a}</style>
<script>${chartJs}</script></head><body>
<h2>webgpu-optim benchmark · ${meta.environment}</h2>
<p>${meta.date.slice(0, 10)} · ${adapterLine(meta)} · ${meta.runtime} · GPU columns: ${results.clock === 'gpu-timestamps' ? 'GPU timestamps' : 'wall clock'}</p>
${software ? '<p class="warn"><b>Software adapter (SwiftShader):</b> the "GPU" figures are CPU-emulated on the host CPU, not GPU speed.</p>' : ''}
<div class="grid">${charts.map((c, i) => `<div><h3>${c.title}</h3><canvas id="c${i}" width="680" height="400"></canvas></div>`).join('')}</div>
<script>
Chart.defaults.animation = false;
Chart.defaults.font.size = 12;
const specs = ${JSON.stringify(charts.map((c) => c.config))};
const decade = (v) => (Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9 ? Number(v).toLocaleString('en-US') : '');
for (const spec of specs) for (const axis of Object.values(spec.options.scales)) if (axis.ticks?.decades) axis.ticks = { callback: decade, autoSkip: false };
specs.forEach((spec, i) => new Chart(document.getElementById('c' + i), { ...spec, options: { ...spec.options, responsive: false, spanGaps: true } }));
document.body.dataset.ready = 'yes';
</script></body></html>`;
}

/** Each run's charts as HTML, then PNG through Playwright's Chromium (skipped where it is absent). */
export async function drawCharts(folder, runs) {
  for (const { tag, data } of runs) writeFileSync(join(folder, `${tag}.html`), htmlReport(data));
  let chromium;
  try {
    ({ chromium } = await import('playwright'));
  } catch {
    console.log('charts: Playwright is not installed here; wrote the HTML pages only');
    return;
  }
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1450, height: 900 } });
    for (const { tag } of runs) {
      await page.goto(`file://${join(folder, `${tag}.html`)}`);
      await page.waitForSelector('body[data-ready="yes"]');
      await page.screenshot({ path: join(folder, `${tag}.png`), fullPage: true });
      console.log(`wrote ${join(folder, `${tag}.png`)}`);
    }
  } finally {
    await browser.close();
  }
}
