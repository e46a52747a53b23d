// Re-renders bench/RESULTS.md from the stored bench/results/<tag>.json files (no measuring):
// node bench/render.mjs
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from './cli.mjs';
import { markdownFile } from './report.mjs';

const dir = join(benchDir, 'results');
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'latest.json')
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
  .sort((a, b) => a.meta.environment.localeCompare(b.meta.environment));
let extra = '';
try {
  extra = `\n${readFileSync(join(benchDir, 'RESULTS.notes.md'), 'utf8')}`;
} catch {}
writeFileSync(join(benchDir, 'RESULTS.md'), markdownFile(all, extra));
console.log(`wrote ${join(benchDir, 'RESULTS.md')} from ${all.length} result files`);
