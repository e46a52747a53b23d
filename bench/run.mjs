// npm run bench: the benchmark in headless Chromium (Playwright), served by Vite on localhost.
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { cpuModel, parseArgs, partialRows, progressPrinter, reportFailures, rootDir, writeResults } from './cli.mjs';
import { drawCharts } from './charts.mjs';
import { isSoftware } from './report.mjs';

const { quick, hardware, config } = parseArgs(process.argv.slice(2));
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const args = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-webgpu-developer-features', // unquantized timestamp queries
  ...(hardware ? ['--enable-features=Vulkan', '--ignore-gpu-blocklist'] : ['--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader']),
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

// No HMR and no watcher: editing sources during a long run must not reload the page.
const server = await createServer({ root: rootDir, logLevel: 'error', server: { host: 'localhost', port: 0, hmr: false, watch: null } });
await server.listen();
const url = server.resolvedUrls.local[0];
const browser = await chromium.launch({ executablePath, args, headless: true });
const tag = hardware ? 'browser-hardware' : 'browser-swiftshader';
const partial = partialRows(`${quick ? 'quick-' : ''}${tag}`);
let exitCode = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1450, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.exposeFunction('benchProgress', progressPrinter());
  await page.exposeFunction('benchRows', partial.write);
  await page.goto(new URL('bench/index.html', url).href);
  await page.waitForFunction(() => typeof window.runBenchmark === 'function', null, { timeout: 60_000 });
  if (config.fit && hardware) config.fit.networks = ['small', 'article'];
  const result = await page.evaluate((cfg) => window.runBenchmark(cfg), config);
  const environment = `browser (Chromium${hardware ? '' : ', SwiftShader'})`;
  const results = {
    meta: {
      date: new Date().toISOString(),
      environment,
      adapter: result.adapter,
      runtime: `Chromium ${browser.version()}, TF.js ${result.runtime.tfjs}`,
      cpu: cpuModel(),
      reps: config.timing.reps,
      command: `npm run bench --${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
      software: undefined,
    },
    clock: result.clock,
    gradients: result.gradients,
    rows: result.rows,
    hostCost: result.hostCost,
    kernelShapes: result.kernelShapes,
    muon: result.muon,
    fit: result.fit,
  };
  results.meta.software = isSoftware(results.meta);
  const dir = writeResults(results, tag, quick);
  partial.done();
  await drawCharts(dir, [{ tag, data: results }]);
  if (errors.length) {
    console.error(`page errors:\n${errors.join('\n')}`);
    exitCode = 1;
  }
  exitCode = Math.max(exitCode, reportFailures(results));
} catch (error) {
  console.error(`\nbench: ${String(error.message).replace(/^page\.evaluate: (Error: )?/, '')}`); // nothing written
  exitCode = 1;
} finally {
  await browser.close();
  await server.close();
}
process.exit(exitCode);
