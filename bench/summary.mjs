// The head of RESULTS.md: one table per adapter (Adam's step time, its share of the copy
// roofline, each peer's time as a multiple of it, state bytes per parameter) and the headline
// chart, read from the stored runs. Every ratio in a row comes from one run of one adapter.
import { bytesPerParam, cpuNote, otherReadingNote, perTensorPeerNote, q8BytesNote, rooflineNote, STATE_ONLY_NOTE, torchNote } from './caveats.mjs';
import { createFootnotes } from './footnotes.mjs';
import { adapterLine, derive, faster, fmt, isSoftware, ok, ratio, sameCard, sig, wallBase } from './report.mjs';

const PEERS = ['tfjsWebgpu', 'jaxFlat', 'jaxPerTensor', 'cpuFast', 'cpuWorkers'];
const adamRows = (run) => run.data.rows.filter((r) => r.optimizer === 'adam' && !r.workload.startsWith('sweep'));

/** Stored runs grouped by adapter (environment and adapter), real GPUs first, in the runs' order otherwise. */
export function adapterGroups(runs) {
  const groups = new Map();
  for (const run of runs) {
    const key = `${run.data.meta.environment}: ${adapterLine(run.data.meta)}`;
    if (!groups.has(key)) groups.set(key, { key, software: isSoftware(run.data.meta), runs: [] });
    groups.get(key).runs.push(run);
  }
  return [...groups.values()].sort((a, b) => Number(a.software) - Number(b.software));
}

/** The run an adapter's table reads: the one with Adam's step and the most peer figures beside it (the newest of equals). */
export function mainRun(group) {
  const score = (run) => adamRows(run).reduce((n, r) => n + (ok(r.results.fused) ? 1 + PEERS.filter((m) => ok(r.results[m])).length : 0), 0);
  const byDate = [...group.runs].sort((a, b) => b.data.meta.date.localeCompare(a.data.meta.date));
  return byDate.reduce((best, run) => (score(run) > score(best) ? run : best), byDate[0]);
}

/**
 * Adam's bytes per parameter on a workload (bytesPerParam: every buffer, or the state buffers of runs
 * that counted only those), from the newest run that counted every buffer, else the newest that
 * counted the state (a size, the same on every adapter: any run may tell it).
 */
function stateBytesOf(allRuns, workload) {
  const rowOf = (run) => run.data.rows.find((r) => r.optimizer === 'adam' && r.workload === workload && bytesPerParam(r));
  const newest = (runs) => runs.sort((a, b) => b.data.meta.date.localeCompare(a.data.meta.date))[0];
  const counted = newest(allRuns.filter((run) => rowOf(run) && !bytesPerParam(rowOf(run)).stateOnly)) ?? newest(allRuns.filter(rowOf));
  return counted && bytesPerParam(rowOf(counted));
}

/** The best share of the roofline that another run of the group measured for Adam on a workload. */
function otherReading(group, run, workload) {
  const readings = group.runs
    .filter((other) => other !== run)
    .flatMap((other) => other.data.rows.filter((r) => r.optimizer === 'adam' && r.workload === workload).map((r) => ({ date: other.data.meta.date.slice(0, 10), ms: r.results.fused?.median, fraction: derive(r).rooflineFraction })))
    .filter((o) => o.fraction !== undefined);
  return readings.sort((a, b) => b.fraction - a.fraction)[0];
}

/**
 * One adapter's rows: Adam per workload of its main run. Peers are multiples of the packed step
 * (wall clock against wall clock; PyTorch CUDA's events against the packed step's GPU time on the
 * same card); above 1 means webgpu-optim is faster.
 */
export function summaryRows(group, torchList = [], allRuns = group.runs) {
  const run = mainRun(group);
  const torch = torchList.find((t) => sameCard(t.meta, run.data.meta));
  return adamRows(run).map((row) => {
    const r = row.results;
    const torchRow = torch?.rows.find((t) => t.workload === row.workload)?.results;
    const jax = faster(r.jaxFlat, r.jaxPerTensor);
    return {
      workload: row.workload,
      tensors: row.tensors,
      peerMs: { tfjs: ok(r.tfjsWebgpu) ? r.tfjsWebgpu.median : undefined, jax: ok(jax) ? jax.median : undefined },
      otherReading: otherReading(group, run, row.workload),
      ms: ok(r.fused) ? r.fused.median : undefined,
      roofline: derive(row).rooflineFraction,
      tfjs: derive(row).vsTfjsWebgpu,
      jax: derive(row).vsJaxBest,
      torch: torchRow ? ratio(r.fused, faster(torchRow.fused, torchRow.foreach)) : undefined,
      cpu: ratio(wallBase(r), faster(r.cpuFast, r.cpuWorkers)),
      stateBytes: stateBytesOf(allRuns, row.workload),
    };
  });
}

/** "Node, nvidia-h100-80gb-hbm3": where a run ran, in a few words. */
const shortName = (meta) => `${meta.environment.split(' (')[0]}, ${meta.adapter?.device || meta.adapter?.description || 'unknown adapter'}`;
const times = (x) => (x === undefined ? '–' : `${sig(x)}×`);

/** One adapter's table, footnotes under it. */
export function summaryTable(group, torchList = [], allRuns = group.runs) {
  const notes = createFootnotes();
  const run = mainRun(group);
  const { meta, clock } = run.data;
  const rows = summaryRows(group, torchList, allRuns);
  const hasTorch = rows.some((r) => r.torch !== undefined);
  const bytes = (counted) => {
    const b = counted?.bytes;
    if (!b?.f32) return '–';
    const note = q8BytesNote(b.q8, b.f32);
    const stateOnly = counted.stateOnly ? notes.mark(STATE_ONLY_NOTE) : '';
    return `${sig(b.f32, 3)}${b.q8 === undefined ? '' : ` / ${sig(b.q8, 3)}${note ? notes.mark(note) : ''}`}${stateOnly}`;
  };
  const share = (f, other) => (f === undefined ? '–' : marked(`${(f * 100).toFixed(0)} %`, rooflineNote(f, group.software) ?? otherReadingNote(f, group.software, other)));
  const marked = (text, note) => `${text}${note ? notes.mark(note) : ''}`;
  const peer = (x, peerMs, tensors) => marked(times(x), x >= 1000 ? perTensorPeerNote(peerMs, tensors) : undefined);
  const header = ['workload', `Adam step, ms (${clock === 'gpu-timestamps' ? 'GPU time' : 'wall clock'})`, '% of copy roofline', 'TF.js webgpu', 'jax-js', ...(hasTorch ? ['PyTorch CUDA'] : []), 'CPU (plain JS)', 'state, B/param, every buffer (f32 / q8)'];
  return [
    `### ${group.key}${group.software ? ' (software adapter: CPU-emulated, not GPU speed)' : ''}`,
    '',
    `Run of ${meta.date.slice(0, 10)} (\`${meta.command.split('; ')[0]}\`${meta.command.includes('; ') ? ' and more parts' : ''}); its section below has every figure.`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => {
      const cells = [
        r.workload,
        r.ms === undefined ? '–' : fmt(r.ms),
        share(r.roofline, r.otherReading),
        peer(r.tfjs, r.peerMs.tfjs, r.tensors),
        peer(r.jax, r.peerMs.jax, r.tensors),
        ...(hasTorch ? [marked(times(r.torch), torchNote(r.torch))] : []),
        marked(times(r.cpu), cpuNote(r.cpu, group.software)),
        bytes(r.stateBytes),
      ];
      return `| ${cells.join(' | ')} |`;
    }),
    ...(notes.lines().length ? ['', ...notes.lines().map((n) => `${n}  `)] : []),
  ];
}

/**
 * The head of RESULTS.md: a table per adapter, then the headline chart (the first adapter's main
 * run; `chartPath(tag)` is its PNG's path from the Markdown file).
 */
export function summaryMarkdown(runs, torchList = [], chartPath = (tag) => `results/${tag}.png`) {
  const groups = adapterGroups(runs);
  if (groups.length === 0) return [];
  const headline = mainRun(groups[0]);
  return [
    '## At a glance',
    '',
    'Adam, the optimizer every peer has, one table per adapter. Peer columns: the peer\'s time per step ÷ webgpu-optim\'s packed step, **above 1× means webgpu-optim is faster** (wall clock against wall clock; PyTorch CUDA\'s own Adam, where measured, timed with CUDA events on the same card against the packed step\'s GPU time). TF.js and jax-js run on the same adapter; "CPU" is the faster of a plain-JS loop and worker threads. % of copy roofline: a copy kernel moving the same bytes ÷ the step. Ratios within a row come from one run; figures of different adapters do not compare.',
    '',
    ...groups.flatMap((group) => [...summaryTable(group, torchList, runs), '']),
    `![Adam on ${headline.data.meta.environment}: ${adapterLine(headline.data.meta)}, ${headline.data.meta.date.slice(0, 10)}](${chartPath(headline.tag)})`,
    '',
    `The headline chart: ${adapterLine(headline.data.meta)} (${headline.data.meta.date.slice(0, 10)}): Adam's wall time per step against every peer, bandwidth against the copy roofline, the tensor-count sweep, the kernel shapes. Each adapter's chart: ${groups.map((g) => `[${shortName(mainRun(g).data.meta)}](${chartPath(mainRun(g).tag)})`).join(', ')}.`,
  ];
}
