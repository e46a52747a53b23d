// Shared by bench/run.mjs (browser) and bench/run-node.mjs (Node + Dawn): options, progress
// display and result files.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownFile, terminalTable } from './report.mjs';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const rootDir = dirname(benchDir);

const HELP = `Options:
  --quick                 smoke run (small sizes, 3 repetitions, about a minute)
  --optimizers=a,b        e.g. adam,sgd+momentum (labels or names)
  --workloads=a,b         substrings of workload labels, e.g. 16M,2000
  --reps=N                repetitions per measurement (default 7, quick 3)
  --hardware              browser run: use the real GPU (no SwiftShader flags)
  --workgroup=N           invocations per workgroup of the kernels (default 256)
  --help`;

export function parseArgs(argv) {
  const args = Object.fromEntries(
    argv.map((a) => {
      const [k, v] = a.replace(/^--/, '').split('=');
      return [k, v ?? true];
    }),
  );
  if (args.help) {
    console.log(HELP);
    process.exit(0);
  }
  const quick = Boolean(args.quick);
  if (args.workgroup !== undefined && !(Number.isInteger(Number(args.workgroup)) && Number(args.workgroup) > 0)) throw new Error('--workgroup must be a positive integer');
  const reps = Number(args.reps ?? (quick ? 3 : 7));
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be a positive integer');
  return {
    quick,
    hardware: Boolean(args.hardware),
    config: {
      quick,
      optimizers: typeof args.optimizers === 'string' ? args.optimizers.split(',') : undefined,
      workloads: typeof args.workloads === 'string' ? args.workloads.split(',') : undefined,
      timing: { reps, minRepMs: quick ? 20 : 150, maxSteps: quick ? 64 : 512 },
      slowCpuLimit: quick ? 1 << 20 : 1 << 22,
      workgroupSize: args.workgroup === undefined ? undefined : Number(args.workgroup),
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
