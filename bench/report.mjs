// Renders benchmark results: terminal table, Markdown (bench/RESULTS.md) and an HTML report.
import { muonTable } from './muon-report.mjs';
import { bytesPerParam, cpuNote, fitNote, q8BytesNote, rooflineNote, skippedNotes, STATE_ONLY_NOTE, stateFormatNote } from './caveats.mjs';
import { createFootnotes } from './footnotes.mjs';

export const MODES = [
  ['fused', 'packed fused'],
  ['fusedBf16', 'packed bf16 state'],
  ['fusedF16', 'packed f16 state'],
  ['fusedQ8', 'packed q8 state'],
  ['fusedQ4', 'packed q4 state'],
  ['perTensor', 'per-tensor'],
  ['fusedWall', 'packed wall'],
  ['perTensorWall', 'per-tensor wall'],
  ['roofline', 'roofline'],
  ['cpuFast', 'CPU loop'],
  ['cpuWorkers', 'CPU workers'],
  ['cpuReference', 'CPU ref (f32)'],
  ['tfjsWebgpu', 'TF.js webgpu'],
  ['tfjsCpu', 'TF.js cpu'],
  ['jaxFlat', 'jax-js flat'],
  ['jaxPerTensor', 'jax-js per tensor'],
];

export const ok = (o) => o && typeof o.median === 'number';
const ms = (o) => (ok(o) ? fmt(o.median) : o?.skipped ? 'n/a' : o?.error ? 'error' : '–');
const precise = (o) => (ok(o) ? o.median.toPrecision(3) : ms(o));
const range = (o) => (ok(o) ? `${fmt(o.median)} (${fmt(o.min)}–${fmt(o.max)})` : ms(o));
export function fmt(x) {
  if (!Number.isFinite(x)) return String(x);
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}
/**
 * A ratio to `digits` significant figures (0.043, 1.6, 38; whole numbers from 10^digits up), so a
 * small ratio never reads as 0.0.
 */
export function sig(x, digits = 2) {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  if (Math.abs(x) >= 10 ** digits) return Math.round(x).toString();
  const s = x.toPrecision(digits);
  return s.includes('e') ? String(Number(s)) : s;
}
export const ratio = (a, b) => (ok(a) && ok(b) ? b.median / a.median : undefined);
const times = (r) => (r === undefined ? '' : ` (${sig(r)}×)`);
// A smaller state's step ÷ the f32 state's: three digits, since the targets sit near 0.75.
const stateTimes = (r) => (r === undefined ? '' : ` (${r >= 10 ? r.toFixed(1) : r.toPrecision(3)}×)`);
const STATE_FORMAT_MODES = new Set(['fusedBf16', 'fusedF16', 'fusedQ8', 'fusedQ4']);

export function isSoftware(meta) {
  const a = meta.adapter ?? {};
  const text = `${a.vendor} ${a.architecture} ${a.device} ${a.description}`.toLowerCase();
  return Boolean(a.isFallbackAdapter) || text.includes('swiftshader') || text.includes('llvmpipe') || text.includes('lavapipe');
}

export function adapterLine(meta) {
  const a = meta.adapter ?? {};
  return [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

/** The wall-clock time of the packed step: what a wall-clock competitor is compared with. */
export const wallBase = (r) => (ok(r.fusedWall) ? r.fusedWall : r.fused?.clock === 'wall' ? r.fused : undefined);
export const faster = (a, b) => (ok(a) && ok(b) ? (a.median <= b.median ? a : b) : ok(a) ? a : b);

/** Derived figures of one row. GPU-time figures compare GPU times; peers compare wall times. */
export function derive(row) {
  const r = row.results;
  const f = r.fused;
  const wall = wallBase(r);
  return {
    gbps: ok(f) ? (row.elements * row.bytesPerElement) / (f.median / 1000) / 1e9 : undefined,
    rooflineFraction: ok(f) && ok(r.roofline) ? r.roofline.median / f.median : undefined,
    packedSpeedup: ratio(f, r.perTensor),
    packedSpeedupWall: ratio(r.fusedWall, r.perTensorWall),
    vsCpuFast: ratio(wall, r.cpuFast),
    vsTfjsWebgpu: ratio(wall, r.tfjsWebgpu),
    vsJaxBest: ratio(wall, faster(r.jaxFlat, r.jaxPerTensor)),
  };
}

/** A competitor's cell: its ms and (its time ÷ the packed step's comparable time). */
function cell(r, mode) {
  if (mode === 'fused' || mode === 'fusedWall' || mode === 'roofline') return ms(r[mode]);
  // 16- and 8-bit state: (×) is its step time ÷ the f32 state's, GPU time against GPU time.
  if (STATE_FORMAT_MODES.has(mode)) return ms(r[mode]) + stateTimes(ratio(r.fused, r[mode]));
  return ms(r[mode]) + times(cellRatio(r, mode));
}

/** The (×) of a competitor's cell: its time ÷ the packed step's, GPU against GPU, wall against wall. */
function cellRatio(r, mode) {
  const base = mode === 'perTensor' ? r.fused : mode === 'perTensorWall' ? r.fusedWall : wallBase(r);
  return ratio(base, r[mode]);
}

/** The note a cell's figure calls for, if any (why it is missing, or why it is surprising). */
function cellNote(r, mode, { software, skipped }) {
  if (!ok(r[mode])) return r[mode]?.skipped ? skipped.get(mode) : undefined;
  if (STATE_FORMAT_MODES.has(mode)) return stateFormatNote(mode, ratio(r.fused, r[mode]), software);
  if (mode === 'cpuFast' || mode === 'cpuWorkers') return cpuNote(cellRatio(r, mode), software);
  return undefined;
}

/** A cell with its footnote mark, the note added to `context.notes`. */
function annotatedCell(r, mode, context) {
  const note = cellNote(r, mode, context);
  return cell(r, mode) + (note ? context.notes.mark(note) : '');
}

/** What a table's cells need to mark their figures: the adapter's kind, the notes, one note per column's skipped cells. */
function cellContext(results, rows, notes) {
  return { software: isSoftware(results.meta ?? {}), notes, skipped: skippedNotes(rows) };
}

/** The share of the copy roofline, with its footnote mark when over 100 %. */
function rooflineCell(fraction, software, notes) {
  if (fraction === undefined) return '';
  const note = rooflineNote(fraction, software);
  return `${(fraction * 100).toFixed(0)} %${note ? notes.mark(note) : ''}`;
}

/** What a table's figures are: units, clocks and what (×) divides. */
export function tableLegend(results) {
  const reps = results.meta?.reps;
  return [
    `Times in ms per optimizer step${reps ? `, median of ${reps} repetitions` : ''}. GB/s: bytes read and written ÷ the packed step's time. % of roofline: a copy kernel moving the same bytes ÷ the packed step's time.`,
    '(×) = that column\'s time ÷ webgpu-optim\'s packed step (GPU time against GPU time, wall clock against wall clock): above 1 means webgpu-optim is faster. In the bf16 / f16 / q8 / q4 state columns, (×) = that step ÷ the f32-state step: below 1 means the smaller state is faster.',
  ];
}

/** The run's table for a terminal: units in the header, the legend above, footnotes below. */
export function terminalTable(results) {
  const software = isSoftware(results.meta ?? {});
  const notes = createFootnotes();
  const context = cellContext(results, results.rows, notes);
  const header = ['workload', 'optimizer', 'GB/s', '% of roofline', ...MODES.map(([m, l]) => `${l} ms${UNRATIOED.has(m) ? '' : ' (×)'}`)];
  const lines = results.rows.map((row) => {
    const d = derive(row);
    return [
      row.workload,
      row.optimizer,
      d.gbps === undefined ? '' : fmt(d.gbps),
      rooflineCell(d.rooflineFraction, software, notes),
      ...MODES.map(([m]) => annotatedCell(row.results, m, context)),
    ];
  });
  // Columns nobody measured are left out.
  const keep = header.map((_, c) => c < 4 || lines.some((l) => l[c] !== '–'));
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => String(l[c]).length)));
  const render = (cells) => cells.filter((_, c) => keep[c]).map((c, i) => String(c).padEnd(widths.filter((_, k) => keep[k])[i])).join('  ');
  const table = [render(header), render(widths.map((w) => '-'.repeat(w))), ...lines.map(render)];
  const fit = fitTable(results, notes, { terminal: true });
  const muon = muonTable(results, isSoftware(results.meta ?? {}));
  return [...tableLegend(results), '', ...table, ...(fit.length ? ['', ...fit] : []), ...(muon.length ? ['', ...muon] : []), ...(notes.lines().length ? ['', ...notes.lines()] : [])].join('\n');
}
const UNRATIOED = new Set(['fused', 'fusedWall', 'roofline']);

/**
 * The issue's targets, each with the row it is read from: reported, never asserted. A goal is a
 * floor (`atLeast`, the default) or a ceiling (`atMost`: a time ratio or a size).
 */
export function targets(results) {
  const adam = results.rows.filter((r) => r.optimizer === 'adam' && !r.workload.startsWith('sweep'));
  const singles = adam.filter((r) => r.tensors === 1).sort((a, b) => b.elements - a.elements);
  const many = adam.find((r) => r.tensors >= 200 && /^\d+ × 2048$/.test(r.workload));
  const fourM = adam.find((r) => r.workload === '1 × 4M');
  const bigJax = singles.find((r) => ok(r.results.jaxFlat));
  const out = [];
  const add = (name, row, value, goal, { atMost = false, unit = '×', lowerBound = false } = {}) =>
    out.push({ name: row ? `${name}, ${row.workload}` : name, value, goal, atMost, unit, lowerBound });
  add('Adam vs TF.js webgpu (wall)', many, many && derive(many).vsTfjsWebgpu, 40);
  add('Adam vs TF.js webgpu (wall)', fourM, fourM && derive(fourM).vsTfjsWebgpu, 10);
  add('Adam vs jax-js, faster layout (wall)', bigJax, bigJax && derive(bigJax).vsJaxBest, 5);
  add('Adam vs jax-js, faster layout (wall)', many, many && derive(many).vsJaxBest, 40);
  add('packed vs one dispatch per tensor (GPU time)', many, many && derive(many).packedSpeedup, 2.5);
  for (const row of adam) add('fused Adam / copy roofline', row, derive(row).rooflineFraction, 0.9);
  // 8-bit state (sections that measured it): on the largest single tensor.
  const q8 = singles.find((r) => ok(r.results.fusedQ8));
  if (q8) {
    // Timed on zero gradients, the q8 step skipped its encoding: its ratio is only a lower bound.
    const lowerBound = !seededGradients(results);
    add('Adam q8-state step / f32-state step (GPU time)', q8, ratio(q8.results.fused, q8.results.fusedQ8), 0.75, { atMost: true, lowerBound });
    // Every buffer the optimizer holds (rows that counted only the state buffers give no figure).
    add('Adam q8, bytes per parameter counting every buffer', q8, q8.allocatedBytesPerParam?.q8, 2.1, { atMost: true, unit: ' B' });
  }
  return out;
}

/**
 * A target's verdict: met, or how far off (by the goal's own direction). A lower bound that meets a
 * ceiling decides nothing; one over it is missed at least by that much.
 */
export function verdict({ value, goal, atMost, lowerBound = false }) {
  if (value === undefined) return '–';
  if (atMost ? value <= goal : value >= goal) return lowerBound ? '– (a lower bound)' : 'met';
  // Said as a share of the goal: "43.59× short" of a 40× goal read as if 43.59× had been measured.
  if (!atMost) return `missed: reaches ${sig((value / goal) * 100)} % of the goal`;
  return `missed: ${lowerBound ? 'at least ' : ''}${sig((value / goal - 1) * 100)} % over the goal`;
}

/** Whether the timed steps read the suite's seeded gradients (results from before that read zeros). */
const seededGradients = (results) => results.gradients === 'seeded';

/** What the timed steps read as gradients, and what that means for the q8 column. */
function gradientsLine(results) {
  if (seededGradients(results)) return '- Gradients: seeded, nonzero (both signs, magnitudes 1e-3 … 1e-1 in every block), the same for every column';
  const q8 = results.rows.some((r) => ok(r.results.fusedQ8));
  return `- Gradients: zero (timed before the benchmark seeded them); the f32 and 16-bit kernels do the same work for any values${q8 ? ', but an 8-bit step whose moments stay 0 skips its encoding: the q8 column’s times are lower bounds' : ''}`;
}

function targetLines(results) {
  return targets(results).map((target) => {
    const { name, value, goal, atMost, unit, lowerBound } = target;
    // Three digits below 1: a ratio of 0.753 against a goal of 0.75 must not read as 0.75.
    const measured = value === undefined ? 'not measured' : `${lowerBound ? '≥ ' : ''}${value < 1 ? value.toPrecision(3) : fmt(value)}${unit}`;
    return `| ${name} | ${measured} | ${atMost ? '≤' : '≥'} ${goal}${unit} | ${verdict(target)} |`;
  });
}

function mainTable(results, notes) {
  const software = isSoftware(results.meta);
  const rows = results.rows.filter((r) => !r.workload.startsWith('sweep'));
  const context = cellContext(results, rows, notes);
  const modes = MODES.filter(([m]) => rows.some((r) => r.results[m] !== undefined));
  const lines = [
    `| workload | optimizer | GB/s | % of roofline | ${modes.map(([m, l]) => `${l} ms${UNRATIOED.has(m) ? '' : ' (×)'}`).join(' | ')} |`,
    `|---|---|---|---|${modes.map(() => '---').join('|')}|`,
  ];
  for (const row of rows) {
    const d = derive(row);
    const cells = modes.map(([m]) => (m === 'fused' ? range(row.results.fused) : annotatedCell(row.results, m, context)));
    lines.push(`| ${row.workload} | ${row.optimizer} | ${d.gbps === undefined ? '' : fmt(d.gbps)} | ${rooflineCell(d.rooflineFraction, software, notes)} | ${cells.join(' | ')} |`);
  }
  return lines;
}

/**
 * Optimizer state in bytes per parameter, per state format, from each optimizer's workload with the
 * largest tensors (small tensors keep f32 state under q8, so the largest workload would hide q8's saving).
 */
function stateBytesTable(results, notes) {
  const rows = results.rows.filter((r) => bytesPerParam(r) && !r.workload.startsWith('sweep'));
  if (rows.length === 0) return [];
  const formats = ['f32', 'bf16', 'f16', 'q8', 'q4'].filter((f) => rows.some((r) => bytesPerParam(r).bytes[f] !== undefined));
  const largest = new Map();
  const tensorSize = (r) => r.elements / r.tensors;
  for (const r of rows) if (!largest.has(r.optimizer) || tensorSize(r) > tensorSize(largest.get(r.optimizer))) largest.set(r.optimizer, r);
  const cellOf = (r, f) => {
    const counted = bytesPerParam(r);
    const bytes = counted.bytes[f];
    if (bytes === undefined) return '–';
    const note = f === 'q8' || f === 'q4' ? q8BytesNote(bytes, counted.bytes.f32, f) : undefined;
    return `${bytes.toFixed(2)}${note ? notes.mark(note) : ''}${counted.stateOnly ? notes.mark(STATE_ONLY_NOTE) : ''}`;
  };
  return [
    'Optimizer memory, bytes per parameter (`Optimizer.allocatedBytes` ÷ parameters: every GPU buffer the optimizer holds, its state and its tables, scratch and control, padding included; on the workload with the largest tensors), by `stateFormat`:',
    '',
    `| optimizer | workload | ${formats.join(' | ')} |`,
    `|---|---|${formats.map(() => '---').join('|')}|`,
    ...[...largest.values()].map((r) => `| ${r.optimizer} | ${r.workload} | ${formats.map((f) => cellOf(r, f)).join(' | ')} |`),
  ];
}

function sweepTable(results) {
  const rows = results.rows.filter((r) => r.optimizer === 'adam' && (r.workload.startsWith('sweep') || /^\d+ × 2048$/.test(r.workload)));
  if (rows.length === 0) return [];
  const modes = MODES.filter(([m]) => rows.some((r) => ok(r.results[m])));
  return [
    'Adam, tensors of 2048 elements, more and more of them (ms per step):',
    '',
    `| tensors | ${modes.map(([, l]) => l).join(' | ')} |`,
    `|---|${modes.map(() => '---').join('|')}|`,
    ...rows.sort((a, b) => a.tensors - b.tensors).map((r) => `| ${r.tensors} | ${modes.map(([m]) => ms(r.results[m])).join(' | ')} |`),
  ];
}

function kernelShapeTable(results) {
  const shapes = results.kernelShapes ?? [];
  if (shapes.length === 0) return [];
  const workloads = [...new Set(shapes.map((s) => s.workload))];
  const best = Object.fromEntries(workloads.map((w) => [w, Math.min(...shapes.filter((s) => s.workload === w && ok(s.fused)).map((s) => s.fused.median))]));
  return [
    'Kernel shape: Adam\'s packed step and the copy roofline, ms per step, by workgroup size × vec4s per invocation (** = fastest Adam):',
    '',
    `| workgroup × vec4s | ${workloads.map((w) => `${w}: Adam | ${w}: roofline`).join(' | ')} |`,
    `|---|${workloads.map(() => '---|---').join('|')}|`,
    ...[...new Set(shapes.map((s) => `${s.workgroupSize} × ${s.vectorsPerInvocation}`))].map((shape) => {
      const cells = workloads.map((w) => {
        const s = shapes.find((x) => x.workload === w && `${x.workgroupSize} × ${x.vectorsPerInvocation}` === shape);
        const mark = s && ok(s.fused) && s.fused.median === best[w] ? '**' : '';
        return `${mark}${precise(s?.fused)}${mark} | ${precise(s?.roofline)}`;
      });
      return `| ${shape} | ${cells.join(' | ')} |`;
    }),
  ];
}

/** TF.js model.fit epochs: TF.js's Adam against webgpu-optim's on the demo's CNN, with the caveat each comparison needs. */
function fitTable(results, notes, { terminal = false } = {}) {
  const fit = results.fit ?? [];
  if (fit.length === 0) return [];
  const software = isSoftware(results.meta ?? {});
  const networks = [...new Set(fit.map((f) => f.network))];
  const spread = (f) => (f?.epochMs?.length > 1 ? `${fmt(f.median)} (${fmt(Math.min(...f.epochMs))}–${fmt(Math.max(...f.epochMs))})` : f ? fmt(f.median) : '–');
  const header = ['network', 'images, batch', 'epochs timed', 'tf.train.adam ms/epoch', 'webgpu-optim/tfjs ms/epoch', 'tf.train ÷ webgpu-optim'];
  const rows = networks.map((n) => {
    const theirs = fit.find((f) => f.network === n && f.implementation === 'tf.train');
    const ours = fit.find((f) => f.network === n && f.implementation === 'webgpu-optim');
    const any = ours ?? theirs;
    const note = theirs && ours ? fitNote(theirs, ours, software) : undefined;
    const ratioCell = theirs && ours ? `${sig(theirs.median / ours.median)}×${note ? notes.mark(note) : ''}` : '–';
    return [terminal ? n : any.description, `${any.images}, ${any.batchSize}`, String(any.epochMs?.length ?? '–'), spread(theirs), spread(ours), ratioCell];
  });
  const title = 'TF.js `model.fit`, the demo\'s CNN with Adam, ms per epoch: median (min–max) of the epochs after the first; same model, data and batches:';
  if (terminal) {
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
    return [title.replace(/`/g, ''), line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  }
  return [title, '', `| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

export function markdownSection(results) {
  const meta = results.meta;
  const software = isSoftware(meta);
  const lines = [
    `## ${meta.environment}: ${adapterLine(meta)} (${meta.date.slice(0, 10)})`,
    '',
    `- Date: ${meta.date.slice(0, 10)}`,
    `- Adapter: ${adapterLine(meta)}${software ? ' — **a software adapter: every "GPU" figure below is CPU-emulated (SwiftShader on the host CPU), not GPU speed; the plain-JS CPU loop beats it**' : ''}`,
    `- Runtime: ${meta.runtime}; host CPU: ${meta.cpu}`,
    `- Clock: ${results.clock === 'gpu-timestamps' ? 'GPU timestamps of the passes for the packed, per-tensor and roofline columns' : 'wall clock (K steps, then onSubmittedWorkDone)'}; every competitor and "wall" column by the wall clock. ms per step, median of ${meta.reps} repetitions after a warm-up`,
    gradientsLine(results),
    `- Reproduce: \`${meta.command}\``,
    '',
    tableLegend(results).join(' '),
    '',
  ];
  // Each table with its own footnotes right under it.
  const tables = [mainTable, stateBytesTable, sweepTable, kernelShapeTable, fitTable].map((table) => {
    const notes = createFootnotes();
    const rows = table(results, notes);
    return rows.length && notes.lines().length ? [...rows, '', ...notes.lines().map((n) => `${n}  `)] : rows;
  });
  for (const table of tables) if (table.length) lines.push(...table, '');
  const muon = muonTable(results, software);
  if (muon.length) lines.push(...muon, '');
  if (results.hostCost?.length) {
    lines.push('Host cost of `step()` (JS: encode + finish + submit), Adam, tensors of 64 elements:', '', '| tensors | µs per step (min–max) |', '|---|---|');
    for (const h of results.hostCost) lines.push(`| ${h.tensors} | ${fmt(h.medianUs)} (${fmt(h.minUs)}–${fmt(h.maxUs)}) |`);
    lines.push('');
  }
  lines.push('Targets (reported, never asserted in tests):', '', '| target | measured | goal | |', '|---|---|---|---|', ...targetLines(results));
  const errors = results.rows.flatMap((row) => Object.entries(row.results).filter(([, o]) => o?.error).map(([m, o]) => `${row.workload} ${row.optimizer} ${m}: ${o.error}`));
  if (errors.length) lines.push('', 'Errors:', '', ...errors.map((e) => `- ${e}`));
  return lines.join('\n');
}

/** Whether a PyTorch CUDA run (its `meta.device`, e.g. "NVIDIA H100 80GB HBM3") ran on a benchmark run's adapter. */
export function sameCard(torchMeta, meta) {
  const device = meta.adapter?.device;
  return !isSoftware(meta) && Boolean(device) && torchMeta.device.toLowerCase().replace(/\s+/g, '-').includes(device.replace(/^nvidia-/, ''));
}

/** torch.optim.Muon (bf16 Newton–Schulz on the tensor cores) against webgpu-optim's Muon on the same card. */
function torchMuonLines(torch, ours) {
  if (!torch.muon) return [];
  if (!Array.isArray(torch.muon)) return ['', `torch.optim.Muon: ${torch.muon.skipped}`];
  const oursFor = (set) => ours?.muon?.find((r) => r.set === set)?.muon;
  return [
    '',
    '| Muon matrix set | torch.optim.Muon ms | torch.optim.AdamW ms | webgpu-optim Muon ms (same card) | webgpu-optim ÷ torch |',
    '|---|---|---|---|---|',
    ...torch.muon.map((r) => {
      const theirs = r.results.muon, mine = oursFor(r.set);
      const over = ok(theirs) && ok(mine) ? `${sig(mine.median / theirs.median)}×` : '–';
      return `| ${r.set} | ${ms(theirs)} | ${ms(r.results.adamw)} | ${ms(mine)} | ${over} |`;
    }),
  ];
}

/** PyTorch's own CUDA Adam (bench/torch-cuda.py) beside webgpu-optim's packed step on the same card, then its Muon rows. */
export function torchSection(torch, webgpuRuns) {
  const ours = webgpuRuns.find((r) => sameCard(torch.meta, r.meta));
  const oursFor = (workload) => {
    const row = ours?.rows.find((r) => r.optimizer === 'adam' && r.workload === workload);
    const shape = ours?.kernelShapes?.find((s) => s.workload === workload && s.workgroupSize === 256 && s.vectorsPerInvocation === 1);
    return ok(row?.results.fused) ? row.results.fused : shape?.fused;
  };
  return [
    `## PyTorch CUDA Adam on ${torch.meta.device} (for scale)`,
    '',
    `- Date: ${torch.meta.date.slice(0, 10)}; PyTorch ${torch.meta.torch}; ${torch.meta.clock} (CUDA events include the gaps while the host launches kernels)`,
    '- Reproduce: `python3 bench/torch-cuda.py > bench/results/torch-cuda-<card>.json` on a machine with PyTorch and CUDA',
    '',
    `| workload | torch fused=True ms | torch foreach=True ms | webgpu-optim packed ms (GPU time, same card) |`,
    '|---|---|---|---|',
    ...torch.rows.map((r) => `| ${r.workload} | ${ms(r.results.fused)} | ${ms(r.results.foreach)} | ${ms(oursFor(r.workload))} |`),
    ...torchMuonLines(torch, ours),
  ].join('\n');
}

/**
 * RESULTS.md: `glance` (the summary tables and headline chart) first, then `notes` (a line that
 * links the experiment write-ups), then one section per run, real GPUs first.
 * @param {object[]} resultsList
 * @param {object[]} [torchList]
 * @param {{ glance?: string[], notes?: string }} [parts]
 */
export function markdownFile(resultsList, torchList = [], { glance = [], notes = '' } = {}) {
  const runs = [...resultsList].sort((a, b) => Number(isSoftware(a.meta)) - Number(isSoftware(b.meta)) || a.meta.environment.localeCompare(b.meta.environment));
  return [
    '# Benchmark results',
    '',
    'What one optimizer step costs with webgpu-optim, against the same kernel dispatched per tensor, a copy kernel that moves the same bytes (the roofline), the CPU, TF.js, jax-js and PyTorch CUDA.',
    '',
    ...glance,
    '',
    '## Sections',
    '',
    'One section per run, real GPUs first, each with its adapter and date. Reproduce: `npm run bench` (headless Chromium; `-- --hardware` for the real GPU) and `npm run bench:node` (Node + Dawn); `--help` lists the filters. Figures: `bench/results/*.json`; charts: `bench/results/*.png` (re-drawn from the JSON by `node bench/render.mjs`).',
    ...(notes ? ['', notes] : []),
    ...runs.map((r) => `\n${markdownSection(r)}\n`),
    ...torchList.map((t) => `\n${torchSection(t, runs)}\n`),
  ].join('\n');
}
