// Re-draws what the stored results say, without measuring: bench/RESULTS.md from every
// bench/results/<tag>.json, and each run's charts as <tag>.html and <tag>.png (headless Chromium).
//   node bench/render.mjs [--quick]
import { join } from 'node:path';
import { benchDir, loadResults, writeMarkdown } from './cli.mjs';
import { drawCharts } from './charts.mjs';

const quick = process.argv.includes('--quick');
const dir = join(benchDir, 'results', ...(quick ? ['quick'] : []));
console.log(`wrote ${writeMarkdown(dir, quick)}`);
await drawCharts(dir, loadResults(dir).runs);
