// Shared by bench/run.mjs (browser) and bench/run-node.mjs (Node + Dawn): options, progress
// display and result files.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs as parseCommandLine } from 'node:util';
import { markdownFile, terminalTable } from './report.mjs';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const rootDir = dirname(benchDir);

const HELP = `Options (--flag value and --flag=value both work):
  --quick                 smoke run (small sizes, 3 repetitions, about a minute); writes bench/results/quick/ only
  --optimizers a,b        e.g. adam,sgd+momentum (labels or names)
  --workloads a,b         substrings of workload labels, e.g. 16M,2000
  --reps N                repetitions per measurement (default 7, quick 3)
  --hardware              browser run: use the real GPU (no SwiftShader flags)
  --workgroup N           invocations per workgroup of the kernels (default 256)
  --help`;

const OPTIONS = {
  quick: { type: 'boolean' },
  optimizers: { type: 'string' },
  workloads: { type: 'string' },
  reps: { type: 'string' },
  hardware: { type: 'boolean' },
  workgroup: { type: 'string' },
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
  const list = (name) => {
    if (args[name] === undefined) return undefined;
    const items = args[name].split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length === 0) throw new Error(`--${name} needs at least one name`);
    return items;
  };
  return {
    quick,
    hardware: Boolean(args.hardware),
    config: {
      quick,
      optimizers: list('optimizers'),
      workloads: list('workloads'),
      timing: { reps, minRepMs: quick ? 20 : 150, maxSteps: quick ? 64 : 512 },
      slowCpuLimit: quick ? 1 << 20 : 1 << 22,
      workgroupSize: workgroup,
    },
  };
}

/** A live one-line progress display on a terminal, plain lines otherwise. */
export function progressPrinter() {
  const start = Date.now();
  let last = '';
  return (message, done, total) => {
    const line = `[${done}/${total}] ${((Date.now() - start) / 1000).toFixed(0)}s ${message}`;
    if (process.stdout.isTTY) {
      process.stdout.write(`\r${line.slice(0, (process.stdout.columns || 120) - 1).padEnd(last.length)}`);
    } else if (message.split(' · ').slice(0, 2).join() !== last.split(' · ').slice(0, 2).join()) {
      console.log(line);
    }
    last = line;
  };
}

export function cpuModel() {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown'} × ${cpus.length} threads`;
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
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'latest.json')
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
    .sort((a, b) => a.meta.environment.localeCompare(b.meta.environment));
  const md = join(quick ? dir : benchDir, 'RESULTS.md');
  const extraPath = join(benchDir, 'RESULTS.notes.md');
  let extra = '';
  try {
    extra = `\n${readFileSync(extraPath, 'utf8')}`;
  } catch {}
  writeFileSync(md, markdownFile(all, extra));
  console.log(`wrote ${join(dir, `${tag}.json`)}, ${join(dir, 'latest.json')} and ${md}`);
  return dir;
}

/** Lists measurements that errored; returns the exit code (1 if any). Speed is never judged. */
export function reportFailures(results) {
  const failed = results.rows.flatMap((r) =>
    Object.entries(r.results).filter(([, o]) => o.error).map(([m, o]) => `${r.workload} ${r.optimizer} ${m}: ${o.error}`),
  );
  if (failed.length) console.error(`measurements that failed:\n${failed.join('\n')}`);
  return failed.length ? 1 : 0;
}
