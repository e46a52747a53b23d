import { describe, expect, test } from 'vitest';
import { markdownFile, markdownSection, sig, targets, terminalTable, verdict } from '../../bench/report.mjs';
import { adapterGroups, mainRun, summaryMarkdown, summaryRows, summaryTable } from '../../bench/summary.mjs';

const timing = (median: number) => ({ median, min: median, max: median, samples: [median] });
const adam16M = (results: Record<string, unknown>, q8Bytes?: number) => ({
  optimizer: 'adam',
  workload: '1 × 16M',
  elements: 16 << 20,
  tensors: 1,
  bytesPerElement: 28,
  results,
  ...(q8Bytes === undefined ? {} : { allocatedBytesPerParam: { f32: 8, q8: q8Bytes } }),
});
const q8Targets = (rows: unknown[], gradients: string | null = 'seeded') =>
  targets({ rows, gradients }).filter((t: { name: string }) => t.name.includes('q8'));

describe('benchmark targets', () => {
  test("the 8-bit state targets are ceilings, read from the largest single tensor's row", () => {
    const met = q8Targets([adam16M({ fused: timing(0.16), fusedQ8: timing(0.12) }, 2.03)]);
    expect(met.map((t: { name: string }) => t.name)).toEqual([
      'Adam q8-state step / f32-state step (GPU time), 1 × 16M',
      'Adam q8, bytes per parameter counting every buffer, 1 × 16M',
    ]);
    expect(met[0].value).toBeCloseTo(0.75, 12);
    expect(met.map(verdict)).toEqual(['met', 'met']);
    const missed = q8Targets([adam16M({ fused: timing(0.1592), fusedQ8: timing(0.1199) }, 2.2)]);
    expect(missed.map(verdict)).toEqual(['missed: 0.42 % over the goal', 'missed: 4.8 % over the goal']);
  });

  test('timed on zero gradients (results from before the benchmark seeded them), the q8 ratio is a lower bound', () => {
    const under = q8Targets([adam16M({ fused: timing(0.16), fusedQ8: timing(0.12) }, 2.03)], null);
    expect(under.map(verdict)).toEqual(['– (a lower bound)', 'met']);
    const over = q8Targets([adam16M({ fused: timing(0.1592), fusedQ8: timing(0.1199) }, 2.03)], null);
    expect(over.map(verdict)).toEqual(['missed: at least 0.42 % over the goal', 'met']);
  });

  test('a row that counted only the state buffers (before allocatedBytes) gives no bytes verdict', () => {
    const { allocatedBytesPerParam: _counted, ...stateOnly } = { ...adam16M({ fused: timing(0.16), fusedQ8: timing(0.12) }, 2.03), stateBytesPerParam: { f32: 8, q8: 2.03 } };
    expect(q8Targets([stateOnly]).map(verdict)).toEqual(['met', '–']);
  });

  test("a section says what its steps read as gradients, and what zeros mean for its q8 column", () => {
    const meta = { date: '2026-11-27T00:00:00Z', environment: 'Node', adapter: { vendor: 'v' }, runtime: 'r', cpu: 'c', reps: 5, command: 'x' };
    const rows = [adam16M({ fused: timing(0.1592), fusedQ8: timing(0.1199) }, 2.03)];
    const seeded = markdownSection({ meta, rows, gradients: 'seeded', clock: 'gpu-timestamps' });
    expect(seeded).toMatch(/- Gradients: seeded, nonzero/);
    expect(seeded).toMatch(/\| Adam q8-state step \/ f32-state step \(GPU time\), 1 × 16M \| 0\.753× \| ≤ 0\.75× \| missed: 0\.42 % over the goal \|/);
    const zero = markdownSection({ meta, rows, clock: 'gpu-timestamps' });
    expect(zero).toMatch(/- Gradients: zero .*the q8 column’s times are lower bounds/);
    expect(zero).toMatch(/\| ≥ 0\.753× \| ≤ 0\.75× \| missed: at least 0\.42 % over the goal \|/);
    const noQ8 = markdownSection({ meta, rows: [adam16M({ fused: timing(0.16) })], clock: 'gpu-timestamps' });
    expect(noQ8).toMatch(/- Gradients: zero \(timed before the benchmark seeded them\); the f32 and 16-bit kernels do the same work for any values\n/);
  });

  test('a section without 8-bit rows reports no 8-bit target; floors keep their direction', () => {
    expect(q8Targets([adam16M({ fused: timing(0.16), fusedBf16: timing(0.11) })])).toEqual([]);
    expect(verdict({ value: 0.95, goal: 0.9, atMost: false })).toBe('met');
    // A floor missed is said as the share of the goal reached (not "43.59× short" of a 40× goal).
    expect(verdict({ value: 0.8, goal: 0.9, atMost: false })).toBe('missed: reaches 89 % of the goal');
    expect(verdict({ value: 0.9177, goal: 40, atMost: false })).toBe('missed: reaches 2.3 % of the goal');
    expect(verdict({ value: undefined, goal: 0.9, atMost: false })).toBe('–');
  });
});

// A small fixture: a GPU run with every peer, an older GPU run of the same adapter with fewer,
// a software-adapter run, and PyTorch CUDA on the GPU's card.
const gpuMeta = (date: string) => ({ date, environment: 'Node (Dawn)', adapter: { vendor: 'nvidia', device: 'nvidia-h100-80gb-hbm3' }, runtime: 'r', cpu: 'c', reps: 3, command: 'npm run bench:node' });
const softwareMeta = { date: '2026-11-22T00:00:00Z', environment: 'browser (Chromium, SwiftShader)', adapter: { vendor: 'google', architecture: 'swiftshader' }, runtime: 'r', cpu: 'c', reps: 3, command: 'npm run bench' };
const adamRow = (workload: string, tensors: number, elements: number, results: Record<string, unknown>, allocatedBytesPerParam?: Record<string, number>) => ({
  optimizer: 'adam', workload, tensors, elements, bytesPerElement: 28, results, ...(allocatedBytesPerParam ? { allocatedBytesPerParam } : {}),
});
const gpuRun = {
  tag: 'gpu-main',
  data: {
    meta: gpuMeta('2026-11-26T00:00:00Z'),
    clock: 'gpu-timestamps',
    rows: [
      adamRow('1 × 16M', 1, 16 << 20, { fused: timing(0.16), fusedWall: timing(0.2), roofline: timing(0.152), tfjsWebgpu: timing(12), jaxFlat: timing(4.2), jaxPerTensor: timing(5), cpuFast: timing(40), cpuWorkers: timing(20) }),
      adamRow('2000 × 2048', 2000, 2000 * 2048, { fused: timing(0.08), fusedWall: timing(0.05), roofline: timing(0.04), tfjsWebgpu: timing(15000) }),
    ],
  },
};
const olderGpuRun = {
  tag: 'gpu-formats',
  data: {
    meta: gpuMeta('2026-11-27T00:00:00Z'),
    clock: 'gpu-timestamps',
    rows: [
      adamRow('1 × 16M', 1, 16 << 20, { fused: timing(0.16) }, { f32: 8, q8: 2.03125 }),
      adamRow('2000 × 2048', 2000, 2000 * 2048, { fused: timing(0.042), roofline: timing(0.042) }, { f32: 8, q8: 8 }),
    ],
  },
};
const softwareRun = {
  tag: 'software',
  data: {
    meta: softwareMeta,
    clock: 'gpu-timestamps',
    rows: [adamRow('1 × 1M', 1, 1 << 20, { fused: timing(50), fusedWall: timing(55), roofline: timing(60), cpuFast: timing(5), tfjsWebgpu: timing(2.2), jaxFlat: { skipped: 'jax-js is not loaded in this run' } })],
  },
};
const torch = { meta: { device: 'NVIDIA H100 80GB HBM3', date: '2026-11-26', torch: '2.11', clock: 'CUDA events' }, rows: [{ workload: '1 × 16M', results: { fused: timing(0.19), foreach: timing(0.3) } }] };
/** The cells of a Markdown table's row that starts with `first`. */
const cellsOf = (lines: string[], first: string) => lines.find((l) => l.startsWith(`| ${first} |`))!.split(' | ').map((c) => c.replace(/^\| | \|$/g, ''));
/** The footnote that a mark (e.g. ¹) at the end of `cell` points to. */
const noteOf = (lines: string[], cell: string) => {
  const mark = /[⁰¹²³⁴⁵⁶⁷⁸⁹]+$/.exec(cell)?.[0];
  if (!mark) throw new Error(`no footnote mark on ${cell}`);
  return lines.find((l) => l.startsWith(`${mark} `))!;
};

describe('figures read at a glance', () => {
  test('ratios keep two significant figures: no 0.0×, no 1.2e+3', () => {
    expect(sig(0.04344)).toBe('0.043');
    expect(sig(0.05)).toBe('0.050');
    expect(sig(1.1875)).toBe('1.2');
    expect(sig(38.4)).toBe('38');
    expect(sig(99.7)).toBe('100');
    expect(sig(266090.4)).toBe('266090');
    expect(sig(0)).toBe('0');
  });

  test('the terminal table has units in its header, significant figures and a footnote per surprising figure', () => {
    const table = terminalTable(softwareRun.data).split('\n');
    const header = table.find((l) => l.startsWith('workload'))!;
    for (const unit of ['GB/s', '% of roofline', 'packed fused ms', 'roofline ms', 'CPU loop ms (×)', 'TF.js webgpu ms (×)']) expect(header).toContain(unit);
    const row = table.find((l) => l.startsWith('1 × 1M'))!;
    // TF.js: 2.2 ms ÷ the packed step's 55 ms wall = 0.04; the CPU loop 5 ÷ 55 = 0.091.
    expect(row).toContain('2.20 (0.040×)');
    expect(row).not.toMatch(/\(0\.0×\)/);
    const roofline = /120 %[⁰¹²³⁴⁵⁶⁷⁸⁹]+/.exec(row)![0];
    expect(noteOf(table, roofline)).toMatch(/software adapter: there the copy kernel bounds nothing/);
    const cpu = /0\.091×\)[⁰¹²³⁴⁵⁶⁷⁸⁹]+/.exec(row)![0];
    expect(noteOf(table, cpu)).toMatch(/plain-JS loop beats a software adapter/);
    const jax = /n\/a[⁰¹²³⁴⁵⁶⁷⁸⁹]+/.exec(row)![0];
    expect(noteOf(table, jax)).toBe(`${jax.slice(3)} n/a: jax-js is not loaded in this run.`);
  });

  test('over 100 % of the roofline on a GPU is explained as timing spread; at or under it, nothing to explain', () => {
    const gpu = (roofline: number) => terminalTable({ meta: gpuMeta('2026-11-26T00:00:00Z'), rows: [adamRow('1 × 16M', 1, 16 << 20, { fused: timing(0.16), roofline: timing(roofline) })] }).split('\n');
    const over = gpu(0.1616);
    const cell = /101 %[⁰¹²³⁴⁵⁶⁷⁸⁹]+/.exec(over.find((l) => l.startsWith('1 × 16M'))!)![0];
    expect(noteOf(over, cell)).toMatch(/timed separately/);
    const at = gpu(0.16);
    expect(at.find((l) => l.startsWith('1 × 16M'))).toMatch(/100 % {2}/);
    expect(at.some((l) => /^[⁰¹²³⁴⁵⁶⁷⁸⁹]/.test(l))).toBe(false);
  });

  test('a model.fit ratio carries its caveat when few epochs were timed or the adapter is software, not otherwise', () => {
    const fit = (epochMs: number[], theirs: number[]) => [
      { network: 'small', description: 'small', implementation: 'tf.train', images: 500, batchSize: 50, epochMs: theirs, median: theirs[theirs.length >> 1] },
      { network: 'small', description: 'small', implementation: 'webgpu-optim', images: 500, batchSize: 50, epochMs, median: epochMs[epochMs.length >> 1] },
    ];
    const quick = terminalTable({ ...softwareRun.data, fit: fit([4953], [2374]) }).split('\n');
    const ratioCell = /0\.48×[⁰¹²³⁴⁵⁶⁷⁸⁹]+/.exec(quick.find((l) => l.startsWith('small'))!)![0];
    expect(noteOf(quick, ratioCell)).toMatch(/Not a speed comparison.*only one epoch was timed.*emulated convolutions/);
    const gpu = terminalTable({ ...gpuRun.data, fit: fit([180, 186, 190], [490, 501, 520]) }).split('\n');
    expect(gpu.find((l) => l.startsWith('small'))).toMatch(/2\.7× *$/);
  });

  test('a q4 state column: its step time ÷ the f32 step beside q8\'s, a software slowdown footnoted as CPU timings, its bytes beside q8\'s', () => {
    const table = terminalTable({ ...softwareRun.data, rows: [adamRow('1 × 1M', 1, 1 << 20, { fused: timing(50), fusedQ8: timing(60), fusedQ4: timing(80) })] }).split('\n');
    expect(table.find((l) => l.startsWith('workload'))).toContain('packed q4 state ms (×)');
    const row = table.find((l) => l.startsWith('1 × 1M'))!;
    expect(row).toMatch(/60\.0 \(1\.20×\)[⁰¹²³⁴⁵⁶⁷⁸⁹]+/);
    const q4 = /80\.0 \(1\.60×\)[⁰¹²³⁴⁵⁶⁷⁸⁹]+/.exec(row)![0];
    expect(noteOf(table, q4)).toMatch(/q4 step slower than f32 on a software adapter.*CPU timings, not GPU speed/);
    const small = [adamRow('2000 × 2048', 2000, 2000 * 2048, { fused: timing(0.04) }, { f32: 8, q8: 8, q4: 8 })];
    const lines = markdownSection({ meta: gpuMeta('2026-11-27T00:00:00Z'), rows: small, clock: 'gpu-timestamps' }).split('\n');
    expect(lines.find((l) => l.startsWith('| optimizer | workload |'))).toBe('| optimizer | workload | f32 | q8 | q4 |');
    expect(noteOf(lines, cellsOf(lines, 'adam')[4]!)).toMatch(/^\S+ q4 saves little or nothing here: a tensor under minQuantizedElements/);
    const big = [adamRow('1 × 16M', 1, 16 << 20, { fused: timing(0.16) }, { f32: 8, q8: 2.03125, q4: 1.0675 })];
    expect(cellsOf(markdownSection({ meta: gpuMeta('2026-11-27T00:00:00Z'), rows: big, clock: 'gpu-timestamps' }).split('\n'), 'adam').slice(2)).toEqual(['8.00', '2.03', '1.07']);
  });

  test('the q8 bytes column says why small tensors save nothing', () => {
    const rows = [adamRow('2000 × 2048', 2000, 2000 * 2048, { fused: timing(0.04) }, { f32: 8, bf16: 4, q8: 8 })];
    const lines = markdownSection({ meta: gpuMeta('2026-11-27T00:00:00Z'), rows, clock: 'gpu-timestamps' }).split('\n');
    const q8 = cellsOf(lines, 'adam')[4]!;
    expect(q8).toMatch(/^8\.00[⁰¹²³⁴⁵⁶⁷⁸⁹]+$/);
    expect(noteOf(lines, q8)).toMatch(/under minQuantizedElements \(4096 elements by default/);
    const saved = markdownSection({ meta: gpuMeta('2026-11-27T00:00:00Z'), rows: [adamRow('1 × 16M', 1, 16 << 20, { fused: timing(0.16) }, { f32: 8, q8: 2.03125 })], clock: 'gpu-timestamps' }).split('\n');
    expect(cellsOf(saved, 'adam')[3]).toBe('2.03');
    expect(saved.find((l) => l.startsWith('Optimizer memory'))).toMatch(/`Optimizer.allocatedBytes` ÷ parameters: every GPU buffer/);
    // A row from before allocatedBytes: its state buffers only, said so.
    const old = { ...adamRow('1 × 16M', 1, 16 << 20, { fused: timing(0.16) }), stateBytesPerParam: { f32: 8, q8: 2.03125 } };
    const oldLines = markdownSection({ meta: gpuMeta('2026-11-27T00:00:00Z'), rows: [old], clock: 'gpu-timestamps' }).split('\n');
    const oldCell = cellsOf(oldLines, 'adam')[3]!;
    expect(oldCell).toMatch(/^2\.03[⁰¹²³⁴⁵⁶⁷⁸⁹]+$/);
    expect(noteOf(oldLines, oldCell)).toMatch(/State buffers only .*chunk table of 0\.25 byte per parameter, not counted/);
  });
});

describe('the summary at the head of RESULTS.md', () => {
  const runs = [softwareRun, olderGpuRun, gpuRun];

  test('one group per adapter, real GPUs first; each reads the run with the most peer figures', () => {
    const groups = adapterGroups(runs);
    expect(groups.map((g: { software: boolean; runs: unknown[] }) => [g.software, g.runs.length])).toEqual([[false, 2], [true, 1]]);
    expect(mainRun(groups[0]).tag).toBe('gpu-main');
  });

  test('row values: GPU time, share of the roofline, each peer as a multiple of the packed step, state bytes from the newest count', () => {
    const [gpu] = adapterGroups(runs);
    const [big, many] = summaryRows(gpu, [torch], runs.map((r) => r));
    expect(big.ms).toBe(0.16);
    expect(big.roofline).toBeCloseTo(0.152 / 0.16, 12);
    expect(big.tfjs).toBeCloseTo(12 / 0.2, 12); // wall clock against the packed step's wall clock
    expect(big.jax).toBeCloseTo(4.2 / 0.2, 12); // the faster layout
    expect(big.torch).toBeCloseTo(0.19 / 0.16, 12); // torch's faster of fused and foreach, against GPU time
    expect(big.cpu).toBeCloseTo(20 / 0.2, 12); // the faster of the loop and the workers
    expect(big.stateBytes).toEqual({ bytes: { f32: 8, q8: 2.03125 }, stateOnly: false });
    // A newer run that counted only the state buffers does not replace one that counted every buffer.
    const stateOnlyRun = { tag: 'newer', data: { ...olderGpuRun.data, meta: gpuMeta('2026-11-28T00:00:00Z'), rows: [{ ...adamRow('1 × 16M', 1, 16 << 20, { fused: timing(0.16) }), stateBytesPerParam: { f32: 8, q8: 2 } }] } };
    const [withNewer] = summaryRows(gpu, [torch], [...runs, stateOnlyRun]);
    expect(withNewer.stateBytes).toEqual({ bytes: { f32: 8, q8: 2.03125 }, stateOnly: false });
    const [onlyOld] = summaryRows(gpu, [torch], [stateOnlyRun]);
    expect(onlyOld.stateBytes).toEqual({ bytes: { f32: 8, q8: 2 }, stateOnly: true });
    expect(many.otherReading).toMatchObject({ date: '2026-11-27', fraction: 1 });
  });

  test('the tables: one per adapter, marked cells with their notes, then the headline chart', () => {
    const md = summaryMarkdown(runs, [torch], (tag: string) => `results/${tag}.png`);
    expect(md[0]).toBe('## At a glance');
    expect(md.filter((l: string) => l.startsWith('### '))).toHaveLength(2);
    expect(md.findIndex((l: string) => l.startsWith('### Node (Dawn)'))).toBeLessThan(md.findIndex((l: string) => l.startsWith('### browser')));
    expect(md.find((l: string) => l.startsWith('!['))).toMatch(/\(results\/gpu-main\.png\)$/);

    const [gpu, software] = adapterGroups(runs);
    const gpuTable = summaryTable(gpu, [torch], runs);
    expect(gpuTable.find((l: string) => l.startsWith('| workload'))).toContain('PyTorch CUDA');
    expect(cellsOf(gpuTable, '1 × 16M')).toEqual(['1 × 16M', '0.16', '95 %', '60×', '21×', '1.2×', '100×', '8.00 / 2.03']);
    const many = cellsOf(gpuTable, '2000 × 2048');
    expect(noteOf(gpuTable, many[2]!)).toMatch(/Another run on this adapter \(2026-11-27\) measured 0\.0420 ms, 100 %/);
    expect(noteOf(gpuTable, many[3]!)).toMatch(/15\.0 s for 2000 tensors \(7\.5 ms per tensor\)/);
    expect(noteOf(gpuTable, many[7]!)).toMatch(/minQuantizedElements/);

    const softwareTable = summaryTable(software, [torch], runs);
    expect(softwareTable[0]).toMatch(/software adapter: CPU-emulated, not GPU speed/);
    expect(softwareTable.find((l: string) => l.startsWith('| workload'))).not.toContain('PyTorch CUDA');
    const cells = cellsOf(softwareTable, '1 × 1M');
    expect(noteOf(softwareTable, cells[2]!)).toMatch(/copy kernel bounds nothing/);
    expect(cells[3]).toBe('0.040×');
  });

  test('RESULTS.md opens with the summary, then the sections', () => {
    const glance = summaryMarkdown(runs, [torch]);
    const md = markdownFile(runs.map((r) => r.data), [torch], { glance, notes: 'notes link' });
    const at = (text: string) => md.indexOf(text);
    expect(at('## At a glance')).toBeGreaterThan(0);
    expect(at('## At a glance')).toBeLessThan(at('## Sections'));
    expect(at('## Sections')).toBeLessThan(at('notes link'));
    expect(at('notes link')).toBeLessThan(at('## Node (Dawn): nvidia / nvidia-h100-80gb-hbm3 (2026-11-26)'));
  });
});
