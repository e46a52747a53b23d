/**
 * End-to-end: the CNN page (TF.js model.fit on its webgpu backend) trains the small network with
 * the six optimizers from webgpu-optim/tfjs, one per page run: Adam ends lowest, as in the
 * classic comparison, and the momentum and adaptive methods below AdaGrad and SGD (docs/tfjs.md
 * has the figures and how the learning rates were chosen); then Adam from both implementations,
 * with their epoch times.
 */
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumArgs } from '../../vitest.config.js';

let server: ViteDevServer;
let browser: Browser;
let page: Page;
const errors: string[] = [];
const shots = 'test-results/screenshots';

beforeAll(async () => {
  server = await createServer({ root: process.cwd(), logLevel: 'error', server: { host: 'localhost', port: 0, hmr: false, watch: null } });
  await server.listen();
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: chromiumArgs, headless: true });
  mkdirSync(shots, { recursive: true });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(new URL('demo/cnn.html', server.resolvedUrls!.local[0]!).href);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface Run {
  label: string;
  implementation: string;
  epochLosses: number[];
  testAccuracy: number[];
  epochMs: number[];
  lrs: number[];
}

async function run(settings: { implementation: string; optimizers: string[]; epochs: number }): Promise<Run[]> {
  await page.selectOption('#size', 'small');
  await page.selectOption('#implementation', settings.implementation);
  await page.fill('#epochs', String(settings.epochs));
  await page.$$eval('#optimizers label', (labels, wanted) => {
    for (const label of labels) label.querySelector<HTMLInputElement>('input[type=checkbox]')!.checked = wanted.includes(label.textContent!.trim());
  }, settings.optimizers);
  await page.click('#start');
  await page.waitForSelector('#status[data-state=done], #status[data-state=error]', { timeout: 240_000 });
  expect(await page.textContent('#status')).toMatch(/^Done/);
  return (await page.evaluate(() => (window as any).cnnResults)) as Run[];
}

/**
 * Each optimizer trains on its own from the same initial weights and batches, so six page runs of
 * one give the figures one run of six would (six tests of 17–28 s on SwiftShader, where three of
 * two took 31–43 s, and twice that on a busy machine).
 */
const trained: Run[] = [];

async function trainAndCheck(optimizers: string[], screenshot: string): Promise<void> {
  const runs = await run({ implementation: 'webgpu-optim', optimizers, epochs: EPOCHS });
  expect(runs.map((r) => r.label)).toEqual(optimizers);
  for (const r of runs) {
    expect(r.epochLosses).toHaveLength(EPOCHS);
    expect(r.lrs[2]).toBe(r.lrs[0]! / 2); // halved after 2 epochs
    expect(r.epochLosses.at(-1)!, r.label).toBeLessThan(r.epochLosses[0]!);
  }
  expect(await page.$$eval('#results tbody tr', (rows) => rows.length)).toBe(optimizers.length);
  await page.screenshot({ path: `${shots}/${screenshot}`, fullPage: true });
  expect(errors).toEqual([]);
  trained.push(...runs);
}

describe('CNN page (TF.js model.fit)', () => {
  for (const optimizer of ['SGD', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSProp']) {
    test(`${optimizer} from webgpu-optim/tfjs learns, with the lr halved every 2 epochs`, async () => {
      await trainAndCheck([optimizer], `cnn-${optimizer.toLowerCase()}.png`);
    });
  }

  test('Adam learns; of all six, Adam ends lowest, and Adam, RMSProp, Nesterov and Momentum below AdaGrad and SGD', async () => {
    await trainAndCheck(['Adam'], 'cnn.png');
    expect(trained.map((r) => r.label)).toEqual(['SGD', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSProp', 'Adam']);
    const final = Object.fromEntries(trained.map((r) => [r.label, r.epochLosses.at(-1)!]));
    const ranked = Object.entries(final).sort((a, b) => a[1] - b[1]).map(([label]) => label);
    const why = JSON.stringify(final);
    expect(ranked[0], why).toBe('Adam');
    expect(ranked.slice(0, 4).sort(), why).toEqual(['Adam', 'Momentum', 'Nesterov', 'RMSProp']);
    expect(Math.max(...trained.map((r) => r.testAccuracy.at(-1)!))).toBeGreaterThan(0.7);
  });

  test('Adam from both implementations: the same losses, and a time per epoch for each', async () => {
    const runs = await run({ implementation: 'both', optimizers: ['Adam'], epochs: 2 });
    expect(runs.map((r) => r.implementation)).toEqual(['webgpu-optim', 'tf.train']);
    for (const r of runs) expect(r.epochMs.every((ms) => ms > 0)).toBe(true);
    // TF.js's Adam and this library's agree to float32 rounding (eps 1e-7 in both).
    expect(Math.abs(runs[0]!.epochLosses[1]! - runs[1]!.epochLosses[1]!)).toBeLessThan(1e-4);
    const cells = await page.$$eval('#results tbody tr', (rows) => rows.map((r) => r.children[5]!.textContent));
    expect(cells.every((c) => /^\d+$/.test(c!))).toBe(true);
    expect(errors).toEqual([]);
  });
});

const EPOCHS = 6;
