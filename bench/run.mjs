// npm run bench: the benchmark in headless Chromium (Playwright), served by Vite on localhost.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { cpuModel, parseArgs, progressPrinter, reportFailures, rootDir, writeResults } from './cli.mjs';
import { htmlReport, isSoftware } from './report.mjs';

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
let exitCode = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1450, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.exposeFunction('benchProgress', progressPrinter());
  await page.goto(new URL('bench/index.html', url).href);
  await page.waitForFunction(() => typeof window.runBenchmark === 'function', null, { timeout: 60_000 });
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
    rows: result.rows,
    hostCost: result.hostCost,
  };
  results.meta.software = isSoftware(results.meta);
  const tag = hardware ? 'browser-hardware' : 'browser-swiftshader';
  const dir = writeResults(results, tag, quick);
  const html = join(dir, `${tag}.html`);
  writeFileSync(html, htmlReport(results));
  writeFileSync(join(dir, 'latest.html'), htmlReport(results));
  await page.goto(`file://${html}`);
  await page.screenshot({ path: join(dir, `${tag}.png`), fullPage: true });
  console.log(`wrote ${html} and ${join(dir, `${tag}.png`)}`);
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
