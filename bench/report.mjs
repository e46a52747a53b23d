// Renders benchmark results: terminal table, Markdown (bench/RESULTS.md) and an HTML report.

export const MODES = [
  ['fused', 'packed fused'],
  ['perTensor', 'per-tensor'],
  ['fusedWall', 'packed wall'],
  ['perTensorWall', 'per-tensor wall'],
  ['roofline', 'roofline'],
  ['cpuFast', 'CPU loop'],
  ['cpuWorkers', 'CPU workers'],
  ['cpuReference', 'CPU ref (f32)'],
  ['tfjsWebgpu', 'TF.js webgpu'],
  ['tfjsCpu', 'TF.js cpu'],
];

const ok = (o) => o && typeof o.median === 'number';
const ms = (o) => (ok(o) ? fmt(o.median) : o?.skipped ? 'n/a' : o?.error ? 'error' : '–');
const range = (o) => (ok(o) ? `${fmt(o.median)} (${fmt(o.min)}–${fmt(o.max)})` : ms(o));
export function fmt(x) {
  if (!Number.isFinite(x)) return String(x);
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}
const ratio = (a, b) => (ok(a) && ok(b) ? b.median / a.median : undefined);
const times = (r) => (r === undefined ? '' : ` (${r >= 10 ? r.toFixed(0) : r.toFixed(1)}×)`);

export function isSoftware(meta) {
  const a = meta.adapter ?? {};
  const text = `${a.vendor} ${a.architecture} ${a.device} ${a.description}`.toLowerCase();
  return Boolean(a.isFallbackAdapter) || text.includes('swiftshader') || text.includes('llvmpipe') || text.includes('lavapipe');
}

export function adapterLine(meta) {
  const a = meta.adapter ?? {};
  return [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

/** Derived figures of one row. */
export function derive(row) {
  const r = row.results;
  const f = r.fused;
  return {
    gbps: ok(f) ? (row.elements * row.bytesPerElement) / (f.median / 1000) / 1e9 : undefined,
    elementsPerSecond: ok(f) ? row.elements / (f.median / 1000) : undefined,
    rooflineFraction: ok(f) && ok(r.roofline) ? r.roofline.median / f.median : undefined,
    packedSpeedup: ratio(f, r.perTensor),
    packedSpeedupWall: ratio(r.fusedWall, r.perTensorWall),
    vsCpuFast: ratio(f, r.cpuFast),
    vsCpuWorkers: ratio(f, r.cpuWorkers),
    vsCpuReference: ratio(f, r.cpuReference),
    vsTfjsWebgpu: ratio(f, r.tfjsWebgpu),
    vsTfjsCpu: ratio(f, r.tfjsCpu),
  };
}

export function terminalTable(results) {
  const header = ['workload', 'optimizer', 'fused ms', 'GB/s', '%roof', ...MODES.slice(1).map(([, l]) => l)];
  const lines = results.rows.map((row) => {
    const d = derive(row);
    return [
      row.workload,
      row.optimizer,
      ms(row.results.fused),
      d.gbps === undefined ? '' : fmt(d.gbps),
      d.rooflineFraction === undefined ? '' : `${(d.rooflineFraction * 100).toFixed(0)}%`,
      ...MODES.slice(1).map(([m]) => {
        // Wall-clock figures compare with the packed step's wall clock; the rest with its GPU time.
        const base = m === 'perTensorWall' ? row.results.fusedWall : row.results.fused;
        return ms(row.results[m]) + (m === 'roofline' || m === 'fusedWall' ? '' : times(ratio(base, row.results[m])));
      }),
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => String(l[c]).length)));
  const render = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [render(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)].join('\n');
}

function targets(results) {
  const out = [];
  const rows = results.rows;
  const bigAdam = rows.filter((r) => r.optimizer === 'adam' && r.tensors === 1).sort((a, b) => b.elements - a.elements)[0];
  const smallAdam = rows.find((r) => r.optimizer === 'adam' && r.tensors >= 100 && r.workload.includes('×') && !r.workload.startsWith('1 '));
  const check = (name, value, goal, unit = '×') =>
    out.push(`| ${name} | ${value === undefined ? 'not measured' : `${value.toFixed(2)}${unit}`} | ${goal}${unit} | ${value === undefined ? '–' : value >= goal ? 'met' : `missed by ${(goal / value).toFixed(2)}×`} |`);
  for (const row of rows.filter((r) => r.optimizer === 'adam')) {
    check(`fused Adam / roofline, ${row.workload}`, derive(row).rooflineFraction, 0.9);
  }
  if (bigAdam) check(`Adam vs TF.js webgpu, ${bigAdam.workload}`, derive(bigAdam).vsTfjsWebgpu, 10);
  if (smallAdam) {
    check(`Adam vs TF.js webgpu, ${smallAdam.workload}`, derive(smallAdam).vsTfjsWebgpu, 30);
    check(`packed vs per-tensor (GPU time), Adam ${smallAdam.workload}`, derive(smallAdam).packedSpeedup, 2);
    if (derive(smallAdam).packedSpeedupWall !== undefined) check(`packed vs per-tensor (wall), Adam ${smallAdam.workload}`, derive(smallAdam).packedSpeedupWall, 2);
  }
  return out;
}

export function markdownSection(results) {
  const meta = results.meta;
  const software = isSoftware(meta);
  const lines = [];
  lines.push(`## ${meta.environment}: ${adapterLine(meta)}`);
  lines.push('');
  lines.push(`- Date: ${meta.date}`);
  lines.push(`- Adapter: ${adapterLine(meta)}${software ? ' — **software adapter: every "GPU" figure below is CPU-emulated (SwiftShader on the host CPU), not GPU speed**' : ''}`);
  lines.push(`- Runtime: ${meta.runtime}`);
  lines.push(`- Host CPU: ${meta.cpu}`);
  lines.push(`- GPU clock: ${results.clock === 'gpu-timestamps' ? 'timestamp-query (GPU time of the passes)' : 'wall clock: K steps, then onSubmittedWorkDone'}; ms per step, median of ${meta.reps} repetitions after warm-up (min–max)`);
  lines.push(`- Command: \`${meta.command}\``);
  lines.push('');
  lines.push('| workload | optimizer | packed fused ms | GB/s | % of roofline | per-tensor ms (packed ×) | wall: packed / per-tensor ms (×) | CPU loop ms (×) | CPU workers ms (×) | CPU ref ms (×) | TF.js webgpu ms (×) | TF.js cpu ms (×) |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of results.rows) {
    const r = row.results;
    const d = derive(row);
    lines.push(
      `| ${row.workload} | ${row.optimizer} | ${range(r.fused)} | ${d.gbps === undefined ? '' : fmt(d.gbps)} | ${d.rooflineFraction === undefined ? '' : `${(d.rooflineFraction * 100).toFixed(0)}%`} | ` +
        `${ms(r.perTensor)}${times(d.packedSpeedup)} | ${ok(r.fusedWall) ? `${ms(r.fusedWall)} / ${ms(r.perTensorWall)}${times(d.packedSpeedupWall)}` : '–'} | ` +
        ['cpuFast', 'cpuWorkers', 'cpuReference', 'tfjsWebgpu', 'tfjsCpu'].map((m) => ms(r[m]) + times(ratio(r.fused, r[m]))).join(' | ') +
        ' |',
    );
  }
  lines.push('');
  lines.push('(×) = that competitor\'s time ÷ the packed fused step\'s time: above 1 means webgpu-optim is faster.');
  if (software) {
    const cpuWins = results.rows.filter((row) => (derive(row).vsCpuFast ?? Infinity) < 1).length;
    if (cpuWins > 0) {
      lines.push('');
      lines.push(`**The plain-JS CPU loop beats the emulated GPU in ${cpuWins} of ${results.rows.length} rows.** That is expected: SwiftShader runs the kernel on the same CPU cores, with emulation overhead.`);
    }
  }
  lines.push('');
  lines.push('Host cost of `step()` (JS: encode + finish + submit), Adam, tensors of 64 elements:');
  lines.push('');
  lines.push('| tensors | µs per step (min–max) |');
  lines.push('|---|---|');
  for (const h of results.hostCost) lines.push(`| ${h.tensors} | ${fmt(h.medianUs)} (${fmt(h.minUs)}–${fmt(h.maxUs)}) |`);
  lines.push('');
  lines.push('Targets (reported, never asserted):');
  lines.push('');
  lines.push('| target | measured | goal | |');
  lines.push('|---|---|---|---|');
  lines.push(...targets(results));
  const errors = results.rows.flatMap((row) => Object.entries(row.results).filter(([, o]) => o?.error).map(([m, o]) => `${row.workload} ${row.optimizer} ${m}: ${o.error}`));
  if (errors.length) {
    lines.push('', 'Errors:', '', ...errors.map((e) => `- ${e}`));
  }
  return lines.join('\n');
}

export function markdownFile(resultsList, extra = '') {
  return [
    '# Benchmark results',
    '',
    'Generated by `npm run bench` (headless Chromium) and `npm run bench:node` (Node + Dawn); each run replaces its own section.',
    'Machine-readable figures: `bench/results/*.json`; charts: `bench/results/*.html` and `.png`.',
    extra,
    ...resultsList.map((r) => `\n${markdownSection(r)}\n`),
  ].join('\n');
}

export function htmlReport(results) {
  const meta = results.meta;
  const software = isSoftware(meta);
  const colors = { fused: '#1f77b4', perTensor: '#aec7e8', roofline: '#7f7f7f', cpuFast: '#ff7f0e', cpuWorkers: '#ffbb78', cpuReference: '#d62728', tfjsWebgpu: '#2ca02c', tfjsCpu: '#98df8a' };
  const groups = results.rows.map((row) => ({
    title: `${row.workload} · ${row.optimizer}`,
    bars: MODES.filter(([m]) => ok(row.results[m]) && !m.endsWith('Wall')).map(([m, l]) => ({ mode: m, label: l, value: row.elements / (row.results[m].median / 1000) })),
  }));
  const max = Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => b.value)));
  const logMax = Math.log10(max);
  const logMin = Math.max(0, Math.floor(Math.log10(Math.min(...groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => v > 0), max))) - 0.2);
  const width = 460;
  const cell = (g) => {
    const h = 16;
    const rows = g.bars
      .map((b, i) => {
        const w = Math.max(2, ((Math.log10(b.value) - logMin) / (logMax - logMin)) * (width - 150));
        return `<g transform="translate(0,${i * h + 18})"><text x="0" y="11" font-size="10">${b.label}</text><rect x="95" y="2" width="${w.toFixed(1)}" height="11" fill="${colors[b.mode]}"/><text x="${(100 + w).toFixed(1)}" y="11" font-size="9">${(b.value / 1e6).toPrecision(3)} M/s</text></g>`;
      })
      .join('');
    return `<svg width="${width}" height="${g.bars.length * h + 24}" xmlns="http://www.w3.org/2000/svg"><text x="0" y="12" font-size="12" font-weight="bold">${g.title}</text>${rows}</svg>`;
  };
  return `<!doctype html><html><head><meta charset="utf-8"><title>webgpu-optim benchmark</title>
<style>body{font-family:system-ui,sans-serif;margin:16px;max-width:1450px} .grid{display:grid;grid-template-columns:repeat(3,1fr);gap:8px} .warn{background:#fff3cd;padding:6px 10px;border:1px solid #e0c36a}</style></head><body>
<h2>webgpu-optim: optimizer step throughput (elements per second, log scale; longer is faster)</h2>
<p>${meta.date} · ${meta.environment} · ${adapterLine(meta)} · ${meta.runtime} · clock: ${results.clock}</p>
${software ? '<p class="warn"><b>Software adapter (SwiftShader):</b> the "GPU" bars are CPU-emulated on the host CPU, not GPU speed.</p>' : ''}
<div class="grid">${groups.map(cell).join('')}</div></body></html>`;
}
