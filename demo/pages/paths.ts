/** Page 1: the classic optimizer-paths figure, every step computed by the library on the GPU. */
import { PATH_OPTIMIZERS, runPath, START, surface } from '../paths/paths.js';
import { Chart, demoDevice, renderHeader, showError } from './common.js';

renderHeader();
const rates = document.getElementById('rates')!;
for (const [k, opt] of PATH_OPTIMIZERS.entries()) {
  const label = document.createElement('label');
  label.innerHTML = `<span style="color:${opt.color}">■</span>&nbsp;${opt.label}&nbsp;<input type="number" step="any" min="0" id="lr${k}" value="${opt.options.lr}">`;
  rates.append(label);
}
const status = document.getElementById('status')!;

/** Background: the surface in log-spaced bands with contour lines at the band edges. */
const contourPlugin = {
  id: 'contour',
  beforeDatasetsDraw(chart: Chart) {
    const { ctx, chartArea: area, scales } = chart;
    const w = Math.floor(area.right - area.left);
    const h = Math.floor(area.bottom - area.top);
    const image = ctx.createImageData(w, h);
    const band = (px: number, py: number) => {
      const x = scales.x!.getValueForPixel(area.left + px)!;
      const y = scales.y!.getValueForPixel(area.top + py)!;
      return Math.floor(Math.log2(surface(x, y) + 0.05) * 2);
    };
    const bands = new Int32Array(w * h);
    for (let py = 0; py < h; py++) for (let px = 0; px < w; px++) bands[py * w + px] = band(px, py);
    for (let py = 0; py < h; py++) {
      for (let px = 0; px < w; px++) {
        const b = bands[py * w + px]!;
        const edge = (px + 1 < w && bands[py * w + px + 1] !== b) || (py + 1 < h && bands[(py + 1) * w + px] !== b);
        const shade = Math.max(0, Math.min(1, (b + 10) / 26));
        const o = 4 * (py * w + px);
        image.data[o] = edge ? 90 : 235 - 60 * shade;
        image.data[o + 1] = edge ? 90 : 242 - 40 * shade;
        image.data[o + 2] = edge ? 110 : 250 - 10 * shade;
        image.data[o + 3] = 255;
      }
    }
    ctx.putImageData(image, area.left, area.top);
  },
};

const chart = new Chart(document.getElementById('chart') as HTMLCanvasElement, {
  type: 'scatter',
  data: { datasets: [] },
  options: {
    animation: false,
    responsive: false,
    scales: { x: { min: -10, max: 10, title: { display: true, text: 'x' } }, y: { min: -5, max: 5, title: { display: true, text: 'y' } } },
    plugins: { legend: { position: 'right' } },
  },
  plugins: [contourPlugin],
});

const ready = demoDevice();

async function run() {
  const { device } = await ready;
  const steps = Math.max(1, Math.min(2000, Math.floor(Number((document.getElementById('steps') as HTMLInputElement).value))));
  status.dataset.state = 'running';
  status.textContent = `Running ${steps} steps for ${PATH_OPTIMIZERS.length} optimizers on the GPU…`;
  const results: { label: string; lr: number; path: [number, number][]; color: string }[] = [];
  for (const [k, opt] of PATH_OPTIMIZERS.entries()) {
    const lr = Number((document.getElementById(`lr${k}`) as HTMLInputElement).value);
    const path = await runPath(device, { ...opt, options: { ...opt.options, lr } }, steps);
    results.push({ label: opt.label, lr, path, color: opt.color });
  }
  chart.data.datasets = [
    { label: 'start', data: [{ x: START[0], y: START[1] }], pointRadius: 6, pointStyle: 'crossRot', borderColor: '#000', backgroundColor: '#000' },
    ...results.map((r) => ({
      label: r.label,
      data: r.path.map(([x, y]) => ({ x, y })),
      showLine: true,
      borderColor: r.color,
      backgroundColor: r.color,
      pointRadius: 2,
      borderWidth: 1.5,
    })),
  ];
  chart.update();
  const body = document.querySelector('#final tbody')!;
  body.innerHTML = results
    .map((r) => {
      const [x, y] = r.path[r.path.length - 1]!;
      return `<tr><td style="color:${r.color}">${r.label}</td><td>${r.lr}</td><td>(${x.toFixed(4)}, ${y.toFixed(4)})</td><td>${surface(x, y).toExponential(2)}</td></tr>`;
    })
    .join('');
  (window as unknown as { pathResults: unknown }).pathResults = results.map((r) => ({ label: r.label, final: r.path[r.path.length - 1], points: r.path.length }));
  status.dataset.state = 'done';
  status.textContent = `Done: ${steps} steps each.`;
}

document.getElementById('run')!.addEventListener('click', () => run().catch((e) => showError(String(e?.message ?? e))));
ready.then(run).catch(() => {});
