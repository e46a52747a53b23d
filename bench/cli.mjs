// Shared by bench/run.mjs (browser) and bench/run-node.mjs (Node + Dawn): options, progress
// display and result files.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs as parseCommandLine } from 'node:util';
import { markdownFile, MODES, terminalTable } from './report.mjs';
import { summaryMarkdown } from './summary.mjs';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const rootDir = dirname(benchDir);

const HELP = `Options (--flag value and --flag=value both work):
  --quick                 smoke run (small sizes, 3 repetitions; on a 2-core machine about 4 minutes in
                          Chromium, 6 in Node); writes bench/results/quick/ only
  --optimizers a,b        e.g. adam,sgd+momentum (labels or names)
  --workloads a,b         substrings of workload labels, e.g. 16M,2000
  --modes a,b             only these measurements, e.g. fused,roofline (default: all; --help lists them)
  --reps N                repetitions per measurement (default 7, quick 3)
  --hardware              browser run: use the real GPU (no SwiftShader flags)
  --workgroup N           invocations per workgroup of the kernels (default 256)
  --vectors N             vec4s per invocation of the kernels (default 1)
  --shapes                run the kernel-shape experiment (workgroup size × vec4s per invocation);
                          on by default when no --optimizers, --workloads or --modes filter is given
  --muon                  Muon's rows: Newton–Schulz GFLOP/s per matrix set, Muon vs AdamW, jax-js's
                          Muon; on by default as --shapes
  --fit                   time TF.js model.fit epochs of the demo's CNN, TF.js's Adam vs webgpu-optim's
                          (the small network; the article's too on a GPU); on by default as --shapes
  --help`;

/** The suite's measurement modes (bench/suite.ts MODE_LABELS), as report.mjs lists them. */
const MODE_NAMES = MODES.map(([m]) => m);

const OPTIONS = {
  quick: { type: 'boolean' },
  optimizers: { type: 'string' },
  modes: { type: 'string' },
  workloads: { type: 'string' },
  reps: { type: 'string' },
  hardware: { type: 'boolean' },
  workgroup: { type: 'string' },
  vectors: { type: 'string' },
  shapes: { type: 'boolean' },
  muon: { type: 'boolean' },
  fit: { type: 'boolean' },
  help: { type: 'boolean' },
};

/** A positive integer flag, or the fallback when absent. */
function positiveInteger(name, value, fallback) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** The command line, strictly: an unknown flag, a stray word or a bad value stops the run before it starts. */
export function parseArgs(argv) {
  try {
    return parseStrict(argv);
  } catch (error) {
    console.error(`bench: ${error.message}\n\n${HELP}`);
    process.exit(2);
  }
}

function parseStrict(argv) {
  const args = parseCommandLine({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  if (args.help) {
    console.log(HELP);
    process.exit(0);
  }
  const quick = Boolean(args.quick);
  const reps = positiveInteger('reps', args.reps, quick ? 3 : 7);
  const workgroup = positiveInteger('workgroup', args.workgroup, undefined);
  const vectors = positiveInteger('vectors', args.vectors, undefined);
  const list = (name) => {
    if (args[name] === undefined) return undefined;
    const items = args[name].split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length === 0) throw new Error(`--${name} needs at least one name`);
    return items;
  };
  const modes = list('modes');
  const unfiltered = args.optimizers === undefined && args.workloads === undefined && args.modes === undefined;
  for (const mode of modes ?? []) {
    if (!MODE_NAMES.includes(mode)) throw new Error(`--modes: no mode "${mode}"; known: ${MODE_NAMES.join(', ')}`);
  }
  return {
    quick,
    hardware: Boolean(args.hardware),
    config: {
      quick,
      optimizers: list('optimizers'),
      workloads: list('workloads'),
      modes,
      timing: { reps, minRepMs: quick ? 20 : 150, maxSteps: quick ? 64 : 512 },
      slowCpuLimit: quick ? 1 << 20 : 1 << 22,
      workgroupSize: workgroup,
      vectorsPerInvocation: vectors,
      kernelShapes: Boolean(args.shapes) || unfiltered,
      muon: Boolean(args.muon) || unfiltered,
      // The runner adds the article-sized network on a hardware adapter (bench/fit.ts).
      fit: args.fit || unfiltered ? { networks: ['small'], epochs: quick ? 2 : 4 } : undefined,
    },
  };
}

/**
 * A live one-line progress display on a terminal; in a log (no terminal), one line per workload
 * (the second part of `optimizer · workload · mode`), so a run prints a few dozen lines at most.
 */
export function progressPrinter() {
  const start = Date.now();
  let last = '';
  let lastWorkload;
  return (message, done, total) => {
    const line = `[${done}/${total}] ${((Date.now() - start) / 1000).toFixed(0)}s ${message}`;
    if (process.stdout.isTTY) {
      process.stdout.write(`\r${line.slice(0, (process.stdout.columns || 120) - 1).padEnd(last.length)}`);
      last = line;
      return;
    }
    const parts = message.split(' · ');
    const workload = parts.length > 1 ? `${parts[0] === 'kernel shape' ? 'kernel shape · ' : ''}${parts[1]}` : message;
    if (workload !== lastWorkload) console.log(`[${done}/${total}] ${((Date.now() - start) / 1000).toFixed(0)}s ${workload}`);
    lastWorkload = workload;
  };
}

export function cpuModel() {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown'} × ${cpus.length} threads`;
}

/** The stored results of a folder: benchmark runs (one per adapter) and PyTorch CUDA runs. */
export function loadResults(dir) {
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'latest.json')
    .map((f) => ({ tag: f.slice(0, -'.json'.length), data: JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
  return { runs: all.filter((r) => r.data.meta?.environment), torch: all.filter((r) => r.data.meta?.torch).map((r) => r.data) };
}

/** RESULTS.md of a folder from every stored result: the summary first, the full file linking bench/RESULTS.notes.md. */
export function writeMarkdown(dir, quick) {
  const { runs, torch } = loadResults(dir);
  const md = join(quick ? dir : benchDir, 'RESULTS.md');
  const notes = quick ? '' : 'What each section is and what its figures say (the experiments, their anomalies, the targets): [RESULTS.notes.md](RESULTS.notes.md).';
  const glance = summaryMarkdown(runs, torch, (tag) => (quick ? `${tag}.png` : `results/${tag}.png`));
  writeFileSync(md, markdownFile(runs.map((r) => r.data), torch, { glance, notes }));
  return md;
}

/**
 * Writes results: quick runs go to bench/results/quick/ only; full runs write
 * bench/results/<tag>.json, latest.json and regenerate bench/RESULTS.md from every <tag>.json.
 */
export function writeResults(results, tag, quick) {
  if (process.stdout.isTTY) process.stdout.write('\n');
  if (results.rows.length === 0) throw new Error('bench: nothing was measured; no results written');
  console.log(`\n${terminalTable(results)}\n`);
  const dir = quick ? join(benchDir, 'results', 'quick') : join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(results, null, 2);
  writeFileSync(join(dir, `${tag}.json`), json);
  writeFileSync(join(dir, 'latest.json'), json);
  const md = writeMarkdown(dir, quick);
  console.log(`wrote ${join(dir, `${tag}.json`)}, ${join(dir, 'latest.json')} and ${md}`);
  return dir;
}

/**
 * Keeps the rows measured so far in bench/results/partial/<tag>.json while a run goes on (a run
 * stopped by a timeout leaves them there); `done()` removes the file once the full results exist.
 */
export function partialRows(tag) {
  const dir = join(benchDir, 'results', 'partial');
  const file = join(dir, `${tag}.json`);
  mkdirSync(dir, { recursive: true });
  return {
    write: (rows) => writeFileSync(file, JSON.stringify({ tag, date: new Date().toISOString(), rows }, null, 2)),
    done: () => rmSync(file, { force: true }),
  };
}

/** Lists measurements that errored; returns the exit code (1 if any). Speed is never judged. */
export function reportFailures(results) {
  const failed = results.rows.flatMap((r) =>
    Object.entries(r.results).filter(([, o]) => o.error).map(([m, o]) => `${r.workload} ${r.optimizer} ${m}: ${o.error}`),
  );
  if (failed.length) console.error(`measurements that failed:\n${failed.join('\n')}`);
  return failed.length ? 1 : 0;
}
