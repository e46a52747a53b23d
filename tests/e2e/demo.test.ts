/**
 * End-to-end: the demo served by Vite on localhost, driven in headless Chromium (WebGPU on
 * SwiftShader without a GPU) through its controls. Each page loads without console errors; the
 * trajectories end near the minimum; training reproduces the known results; a screenshot of each
 * page is saved under test-results/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumArgs } from '../../vitest.config.js';

let server: ViteDevServer;
let browser: Browser;
let base: string;
const shots = 'test-results/screenshots';

beforeAll(async () => {
  server = await createServer({ root: process.cwd(), logLevel: 'error', server: { host: 'localhost', port: 0, hmr: false, watch: null } });
  await server.listen();
  base = server.resolvedUrls!.local[0]!;
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: chromiumArgs, headless: true });
  mkdirSync(shots, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens a page and collects console errors and uncaught exceptions. */
async function open(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(new URL(path, base).href);
  return { page, errors };
}

/** The train page on moons (a 2-16-16-2 net, batches of 64, 40 epochs, seed 1) at `lr` with `chosen` checked, run to the end. */
async function trainMoons(page: Page, lr: string, chosen: readonly string[], formats: readonly string[] = ['f32']) {
  await page.selectOption('#dataset', 'moons');
  await page.fill('#hidden', '16,16');
  await page.fill('#lr', lr);
  await page.selectOption('#batch', '64');
  await page.fill('#epochs', '40');
  await page.fill('#seed', '1');
  for (const box of await page.$$('#optimizers input')) await box.setChecked(chosen.includes((await box.getAttribute('value'))!));
  for (const box of await page.$$('#formats input')) await box.setChecked(formats.includes((await box.getAttribute('value'))!));
  await page.click('#start');
  await done(page);
  expect(await page.getAttribute('#status', 'data-state')).toBe('done');
  return (await page.evaluate(() => (window as any).trainResult)) as { metrics: { label: string; loss: number; accuracy: number; stateBytes: number }[]; layers: number[] };
}

const done = (page: Page, timeout = 240_000) => page.waitForSelector('#status[data-state=done], #status[data-state=error]', { timeout });

describe('demo pages', () => {
  test('index: loads, names the adapter and says when it is a software one', async () => {
    const { page, errors } = await open('demo/index.html');
    await page.waitForFunction(() => document.getElementById('adapter')?.textContent?.startsWith('WebGPU adapter:'), null, { timeout: 60_000 });
    const banner = await page.textContent('#adapter');
    expect(banner).toMatch(/swiftshader/i);
    expect(banner).toMatch(/software \(CPU-emulated\)/);
    await page.screenshot({ path: `${shots}/index.png` });
    expect(errors).toEqual([]);
    await page.close();
  });

  test('paths: every trajectory ends near the minimum of x²/20 + y²; the other surfaces and the controls redraw', async () => {
    const { page, errors } = await open('demo/paths.html');
    await done(page);
    expect(await page.getAttribute('#status', 'data-state')).toBe('done');
    type PathResult = { label: string; final: [number, number]; points: number; surface: string; lr: number };
    const results = (await page.evaluate(() => (window as any).pathResults)) as PathResult[];
    expect(results.map((r) => r.label)).toEqual(['SGD', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSProp', 'Adadelta', 'Adam', 'Adamax', 'NAdam', 'RAdam', 'Rprop', 'Lion']);
    for (const r of results) {
      expect(r.surface).toBe('bowl');
      expect(r.points).toBe(101);
      expect(Math.hypot(...r.final), r.label).toBeLessThan(0.1); // from a distance of 7.3
    }
    expect(await page.$$eval('#panels canvas', (c) => c.length)).toBe(12);
    await page.screenshot({ path: `${shots}/paths.png`, fullPage: true });

    // Another surface: Adam (its best grid rate) reaches Beale's minimum at (3, 0.5).
    await page.selectOption('#surface', { label: 'Beale: (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²' });
    await page.waitForFunction(() => (window as any).pathResults?.[0]?.surface === 'beale' && document.getElementById('status')?.dataset.state === 'done');
    const beale = (await page.evaluate(() => (window as any).pathResults)) as PathResult[];
    const adam = beale.find((r) => r.label === 'Adam')!;
    expect(Math.hypot(adam.final[0] - 3, adam.final[1] - 0.5)).toBeLessThan(0.05);

    // A slider recomputes at once: β₁ = 0 changes Adam's path.
    await page.$eval('#beta1', (el: HTMLInputElement) => {
      el.value = '0';
      el.dispatchEvent(new Event('input'));
    });
    await page.waitForFunction((before) => JSON.stringify((window as any).pathResults?.[6]?.final) !== before, JSON.stringify(adam.final));
    // The player: stepping back to the start draws step 0.
    await page.$eval('#at', (el: HTMLInputElement) => {
      el.value = '0';
      el.dispatchEvent(new Event('input'));
    });
    expect(await page.textContent('#atLabel')).toBe('step 0');
    await page.click('#step');
    expect(await page.textContent('#atLabel')).toBe('step 1');
    await page.screenshot({ path: `${shots}/paths-beale.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  test('train, moons: a 3-layer net with mini-batches of 64 at lr 0.005 — Adam beats GD and momentum', async () => {
    const { page, errors } = await open('demo/train.html');
    const result = await trainMoons(page, '0.005', ['GD', 'Momentum', 'Adam']);
    expect(result.layers).toEqual([2, 16, 16, 2]);
    const by = Object.fromEntries(result.metrics.map((m) => [m.label, m]));
    expect(by.Adam!.loss).toBeLessThan(0.1);
    expect(by.Adam!.accuracy).toBeGreaterThan(0.97);
    expect(by.Adam!.accuracy - by.GD!.accuracy).toBeGreaterThan(0.05);
    expect(by.Adam!.accuracy - by.Momentum!.accuracy).toBeGreaterThan(0.05);
    expect(await page.$$eval('#boundaries canvas', (c) => c.length)).toBe(3);
    await page.screenshot({ path: `${shots}/train-moons.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  test('train, moons: the layer-wise presets (LAMB, LARS, Adafactor) train at the page lr 0.01', async () => {
    const { page, errors } = await open('demo/train.html');
    const chosen = ['LAMB', 'LARS (η 0.2)', 'Adafactor'];
    const result = await trainMoons(page, '0.01', chosen);
    console.log('layer-wise on the train page', result.metrics.map((m) => `${m.label} ${m.loss.toFixed(3)}`).join(', '));
    expect(result.metrics.map((m) => m.label).sort()).toEqual([...chosen].sort());
    for (const m of result.metrics) expect(m.loss, m.label).toBeLessThan(0.3); // an untrained net: 0.69
    expect(errors).toEqual([]);
    await page.close();
  });

  test('train, moons: Adam with its state in f32, bf16 (nearest and stochastic) and f16, the memory beside the losses', async () => {
    const { page, errors } = await open('demo/train.html');
    const result = await trainMoons(page, '0.01', ['Adam'], ['f32', 'bf16', 'bf16 sr', 'f16']);
    console.log('state formats on the train page', result.metrics.map((m) => `${m.label} ${m.loss.toFixed(4)} (${m.stateBytes} B)`).join(', '));
    const by = Object.fromEntries(result.metrics.map((m) => [m.label, m]));
    expect(Object.keys(by).sort()).toEqual(['Adam', 'Adam · bf16', 'Adam · bf16 sr', 'Adam · f16']);
    for (const label of ['Adam · bf16', 'Adam · bf16 sr']) expect(Math.abs(by[label]!.loss / by.Adam!.loss - 1), label).toBeLessThan(0.05);
    expect(by['Adam · f16']!.loss).toBeLessThan(0.3);
    for (const label of ['Adam · bf16', 'Adam · bf16 sr', 'Adam · f16']) expect(by[label]!.stateBytes * 2, label).toBe(by.Adam!.stateBytes);
    const memory = await page.$$eval('#metrics tbody tr', (rows) => rows.map((r) => r.children[5]!.textContent));
    expect(memory).toEqual(result.metrics.map((m) => (m.stateBytes >= 1024 ? `${(m.stateBytes / 1024).toFixed(1)} KiB` : `${m.stateBytes} B`)));
    await page.screenshot({ path: `${shots}/train-state-formats.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  test('train, views: held-out accuracy, loss points at batch 1, labels of what ran, the lr schedule, errors cleared, batch sizes compared', async () => {
    const { page, errors } = await open('demo/train.html?dataset=moons&hidden=8&lr=0.01&batch=1&epochs=2&seed=3&schedule=cosine');
    // A run that cannot start says why; the next run clears the message.
    for (const box of await page.$$('#optimizers input')) await box.setChecked(false);
    await page.click('#start');
    await page.waitForSelector('#error');
    expect(await page.textContent('#error')).toMatch(/Choose at least one optimizer/);
    for (const box of await page.$$('#optimizers input')) await box.setChecked(['GD', 'Adam'].includes((await box.getAttribute('value'))!));
    await page.click('#start');
    await done(page);
    expect(await page.getAttribute('#status', 'data-state')).toBe('done');
    expect(await page.$('#error')).toBeNull();
    const result = (await page.evaluate(() => (window as any).trainResult)) as { metrics: { label: string; testAccuracy: number }[]; titles: string[]; totalSteps: number };
    expect(result.titles).toEqual(['SGD (batch 1)', 'Adam']);
    expect(result.totalSteps).toBe(1024); // 512 training samples (128 held out), 2 epochs
    for (const m of result.metrics) expect(m.testAccuracy, m.label).toBeGreaterThan(0.6);
    const chart = await page.evaluate(() => {
      const rows = document.querySelectorAll('#metrics tbody tr');
      return { rows: rows.length, testCells: Array.from(rows, (r) => r.children[3]!.textContent) };
    });
    expect(chart.rows).toBe(2);
    for (const cell of chart.testCells) expect(cell).toMatch(/%$/);
    const curves = await page.evaluate(() => (window as any).demoCharts as { loss: number[]; lr: number[] });
    expect(Math.min(...curves.loss)).toBeGreaterThan(100); // a point per ~7 steps at batch 1, not one per epoch
    expect(curves.lr[0]).toBeLessThan(curves.lr[Math.floor(curves.lr.length / 5)]!); // warm-up rises
    expect(curves.lr[curves.lr.length - 1]).toBeLessThan(0.001); // cosine ends near 0
    expect(await page.$$eval('#boundaries figcaption', (f) => f.map((x) => x.textContent))).toEqual([expect.stringMatching(/^SGD \(batch 1\): train .*%, test .*%/), expect.stringMatching(/^Adam: train/)]);
    await page.screenshot({ path: `${shots}/train-views.png`, fullPage: true });

    await page.click('#compareBatches');
    await done(page);
    const batches = (await page.evaluate(() => (window as any).batchResult)) as { batchSize: number; title: string; loss: number }[];
    expect(batches.map((b) => b.batchSize)).toEqual([1, 64, 512]);
    expect(batches.map((b) => b.title)).toEqual(['SGD (batch 1)', 'mini-batch SGD (64)', 'GD (full batch)']);
    for (const b of batches) expect(Number.isFinite(b.loss)).toBe(true);
    await page.screenshot({ path: `${shots}/train-batches.png`, fullPage: true });
    expect(errors.filter((e) => !/Choose at least one optimizer/.test(e))).toEqual([]);
    await page.close();
  });

  // Each network trains on its own from the same weights and batches (demo/mlp/trainer.ts), so four
  // page runs of one give the figures one run of four would (four tests of 15–18 s on
  // SwiftShader, where two of two took 26 s, and twice that on a busy machine).
  const digits: { label: string; loss: number }[] = [];
  async function trainDigits(optimizers: string[], screenshot: string): Promise<void> {
    const { page, errors } = await open(`demo/train.html?dataset=digits&hidden=64&lr=0.05&batch=64&epochs=5&seed=1&optimizers=${optimizers.join(',')}&autorun=1`);
    await done(page);
    expect(await page.getAttribute('#status', 'data-state')).toBe('done');
    const result = (await page.evaluate(() => (window as any).trainResult)) as { metrics: { label: string; loss: number }[]; layers: number[] };
    expect(result.layers).toEqual([784, 64, 10]);
    // Held-out digits with the predictions of the network with the lowest test loss.
    expect(await page.$$eval('#digits canvas', (c) => c.length)).toBe(24);
    expect(await page.textContent('#digitsTitle')).toMatch(/^Held-out digits and what (Adam|Nesterov|RMSProp|GD) \(lowest test loss\) says they are$/);
    await page.screenshot({ path: `${shots}/${screenshot}`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
    digits.push(...result.metrics);
  }

  for (const optimizer of ['GD', 'Nesterov', 'RMSProp']) {
    test(`train, digits (mnist package): ${optimizer}`, async () => {
      await trainDigits([optimizer], `train-digits-${optimizer.toLowerCase()}.png`);
    });
  }

  test('train, digits (mnist package): Adam; Adam and Nesterov reach the lowest loss among SGD, Nesterov, RMSProp, Adam', async () => {
    await trainDigits(['Adam'], 'train-digits.png');
    expect(digits).toHaveLength(4);
    const ranked = [...digits].sort((a, b) => a.loss - b.loss).map((m) => m.label);
    expect(new Set(ranked.slice(0, 2))).toEqual(new Set(['Adam', 'Nesterov']));
  });

  test('bench: runs the benchmark in the page and draws the bars', async () => {
    const { page, errors } = await open('demo/bench.html?autorun=1');
    await done(page, 300_000);
    expect(await page.getAttribute('#status', 'data-state')).toBe('done');
    const rows = (await page.evaluate(() => (window as any).benchResult.rows)) as { results: Record<string, { median?: number }> }[];
    expect(rows.length).toBeGreaterThan(2);
    for (const row of rows) {
      for (const mode of ['fused', 'perTensor', 'roofline', 'cpuFast', 'tfjsWebgpu']) expect(row.results[mode]?.median, mode).toBeGreaterThan(0);
    }
    expect(await page.textContent('#note')).toMatch(/CPU-emulated/);
    await page.screenshot({ path: `${shots}/bench.png` });
    expect(errors).toEqual([]);
    await page.close();
  });

  test('bad input on the training page is reported, not run', async () => {
    const { page } = await open('demo/train.html?batch=33');
    await page.waitForSelector('#error');
    expect(await page.textContent('#error')).toMatch(/"33" is not a valid batch/);
    await page.click('#start');
    await page.waitForSelector('#status[data-state=error]');
    expect(await page.textContent('#error')).toMatch(/Unknown batch size/);
    await page.close();
  });
});
