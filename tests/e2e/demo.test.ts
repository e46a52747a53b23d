/**
 * End-to-end: the demo served by Vite on localhost, driven in headless Chromium (WebGPU on
 * SwiftShader without a GPU) through its controls. Each page loads without console errors; the
 * trajectories end near the minimum and every optimizer visibly moves on every surface; training
 * reproduces the known results; texts meet WCAG AA contrast and plot colours stand out from what
 * they are drawn on; errors appear beside the control that caused them; a screenshot of each page
 * is saved under test-results/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SURFACES } from '../../demo/paths/surfaces.js';
import { chromiumArgs } from '../../vitest.config.js';
import { contrastRatio, hexRgb, lowContrastTexts, type Rgb } from './contrast.js';

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
async function open(path: string, viewport = { width: 1400, height: 1000 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
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

type PathResult = { label: string; color: string; final: [number, number]; path: [number, number][]; points: number; surface: string; lr: number };

/** The farthest each path gets from its start. */
const farthest = (r: PathResult) => Math.max(...r.path.map(([x, y]) => Math.hypot(x - r.path[0]![0], y - r.path[0]![1])));

/**
 * The background bands of each paths panel: the colours that fill at least 1 % of its plot
 * (below the 18-px title), lighter than luminance 0.4 (the contour lines and glyphs are darker
 * and thin), so that each path's colour can be checked against everything it crosses.
 */
async function panelBands(page: Page): Promise<Rgb[][]> {
  return page.$$eval('#panels canvas', (canvases) =>
    (canvases as HTMLCanvasElement[]).map((canvas) => {
      const { data } = canvas.getContext('2d')!.getImageData(0, 18, canvas.width, canvas.height - 18);
      const counts = new Map<number, number>();
      for (let i = 0; i < data.length; i += 4) counts.set((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!, (counts.get((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!) ?? 0) + 1);
      const lin = (c: number) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
      return Array.from(counts)
        .filter(([, n]) => n >= data.length / 4 / 100)
        .map(([c]) => [c >> 16, (c >> 8) & 255, c & 255] as [number, number, number])
        .filter(([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b) > 0.4);
    }),
  );
}

/** Asserts every optimizer moved at least a tenth of the view's width from its start, and stayed finite. */
function expectEveryPathMoves(results: PathResult[]) {
  const surface = SURFACES.find((s) => s.key === results[0]!.surface)!;
  const minimum = (surface.view.x[1] - surface.view.x[0]) / 10;
  const moved = results.map((r) => `${r.label} ${farthest(r).toFixed(2)}`).join(', ');
  console.log(`paths on ${surface.key}: farthest from the start: ${moved}`);
  for (const r of results) {
    expect(Math.hypot(r.path[0]![0] - surface.start[0], r.path[0]![1] - surface.start[1]), `${r.label} starts at the start`).toBeLessThan(1e-6);
    expect(r.path.flat().every(Number.isFinite), `${r.label} on ${surface.key}`).toBe(true);
    expect(farthest(r), `${r.label} on ${surface.key} (lr ${r.lr})`).toBeGreaterThan(minimum);
  }
}

/** Asserts the error box is the control's neighbour: right after its label, and on screen within 60 px of it. */
async function expectBeside(page: Page, control: string) {
  const place = await page.evaluate((selector) => {
    const el = document.querySelector(selector)!;
    const anchor = el.closest('label') ?? el;
    const error = document.getElementById('error')!;
    const a = anchor.getBoundingClientRect();
    const e = error.getBoundingClientRect();
    const gap = Math.max(0, e.left - a.right, a.left - e.right) + Math.max(0, e.top - a.bottom, a.top - e.bottom);
    return { next: anchor.nextElementSibling === error, gap };
  }, control);
  expect(place.next, `the error follows ${control}`).toBe(true);
  expect(place.gap, `the error's distance from ${control}`).toBeLessThan(60);
}

const done = (page: Page, timeout = 240_000) => page.waitForSelector('#status[data-state=done], #status[data-state=error]', { timeout });

describe('demo pages', () => {
  test('index: loads, names the adapter and says when it is a software one; its texts meet WCAG AA', async () => {
    const { page, errors } = await open('demo/index.html');
    await page.waitForFunction(() => document.getElementById('adapter')?.textContent?.startsWith('WebGPU adapter:'), null, { timeout: 60_000 });
    const banner = await page.textContent('#adapter');
    expect(banner).toMatch(/swiftshader/i);
    expect(banner).toMatch(/software \(CPU-emulated\)/);
    expect(await lowContrastTexts(page)).toEqual([]);
    await page.screenshot({ path: `${shots}/index.png` });
    expect(errors).toEqual([]);
    await page.close();
  });

  test('navigation: the header reaches every page from the demo and from the benchmark page (two folders); every link on them leads to a file', async () => {
    const pages = ['/demo/index.html', '/demo/paths.html', '/demo/train.html', '/demo/cnn.html', '/bench/throughput.html'];
    for (const path of ['demo/index.html', 'bench/throughput.html']) {
      const { page, errors } = await open(path);
      await page.waitForFunction(() => document.getElementById('adapter')?.textContent?.startsWith('WebGPU adapter:'), null, { timeout: 60_000 });
      const header = await page.$$eval('header a', (as) => (as as HTMLAnchorElement[]).map((a) => ({ path: new URL(a.href).pathname, current: a.className === 'current' })));
      expect(header.map((a) => a.path), path).toEqual(pages);
      expect(header.filter((a) => a.current).map((a) => a.path), path).toEqual([`/${path}`]);
      // The dev server answers any path with a page, so a link is checked against the files.
      const links = await page.$$eval('a[href]', (as) => (as as HTMLAnchorElement[]).filter((a) => a.origin === location.origin).map((a) => new URL(a.href).pathname));
      for (const link of links) expect(existsSync(join(process.cwd(), link)), `${path} links to ${link}`).toBe(true);
      expect(errors).toEqual([]);
      await page.close();
    }
  });

  test('paths: every trajectory ends near the minimum of x²/20 + y², in colours that stand out; the index lists the same optimizers; other surfaces and the controls redraw', async () => {
    const { page, errors } = await open('demo/paths.html');
    await done(page);
    expect(await page.getAttribute('#status', 'data-state')).toBe('done');
    const results = (await page.evaluate(() => (window as any).pathResults)) as PathResult[];
    expect(results.map((r) => r.label)).toEqual(['SGD', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSProp', 'Adadelta', 'Adam', 'Adamax', 'NAdam', 'RAdam', 'Rprop', 'Lion', 'Prodigy']);
    for (const r of results) {
      expect(r.surface).toBe('bowl');
      expect(r.points).toBe(101);
      expect(Math.hypot(...r.final), r.label).toBeLessThan(0.1); // from a distance of 7.3
    }
    expect(await page.$$eval('#panels canvas', (c) => c.length)).toBe(13);
    // Each path's colour against every band of its panel (WCAG's 3:1 for graphics); distinct colours.
    const bands = await panelBands(page);
    results.forEach((r, k) => {
      expect(bands[k]!.length, r.label).toBeGreaterThan(0);
      for (const band of bands[k]!) expect(contrastRatio(hexRgb(r.color), band), `${r.label} (${r.color}) on rgb(${band})`).toBeGreaterThanOrEqual(3);
    });
    expect(new Set(results.map((r) => r.color)).size).toBe(results.length);
    expect(await lowContrastTexts(page)).toEqual([]);
    await page.screenshot({ path: `${shots}/paths.png`, fullPage: true });

    // Another surface: Adam (its best grid rate) reaches Beale's minimum at (3, 0.5); every path moves.
    await page.selectOption('#surface', { label: 'Beale' });
    await page.waitForFunction(() => (window as any).pathResults?.[0]?.surface === 'beale' && document.getElementById('status')?.dataset.state === 'done');
    const beale = (await page.evaluate(() => (window as any).pathResults)) as PathResult[];
    const adam = beale.find((r) => r.label === 'Adam')!;
    expect(Math.hypot(adam.final[0] - 3, adam.final[1] - 0.5)).toBeLessThan(0.05);
    expectEveryPathMoves(beale);

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

    // The index page names exactly the optimizers the paths page draws, in its order.
    const index = await open('demo/index.html');
    await index.page.waitForSelector('#pathsItem[data-optimizers]');
    expect((await index.page.getAttribute('#pathsItem', 'data-optimizers'))!.split(',')).toEqual(results.map((r) => r.label));
    const item = (await index.page.textContent('#pathsItem'))!;
    for (const r of results) expect(item).toContain(r.label);
    for (const surface of SURFACES) expect(item).toContain(surface === SURFACES[0] ? surface.formula : surface.label);
    await index.page.close();
  });

  test('paths: on Rosenbrock, the saddle and Himmelblau every optimizer moves visibly at its default lr (at least a tenth of the view)', async () => {
    const { page, errors } = await open('demo/paths.html?surface=rosenbrock');
    for (const key of ['rosenbrock', 'saddle', 'himmelblau']) {
      if (key !== 'rosenbrock') await page.selectOption('#surface', { label: SURFACES.find((s) => s.key === key)!.label });
      await page.waitForFunction((k) => (window as any).pathResults?.[0]?.surface === k && document.getElementById('status')?.dataset.state === 'done', key, { timeout: 120_000 });
      const results = (await page.evaluate(() => (window as any).pathResults)) as PathResult[];
      expect(results).toHaveLength(13);
      expect(results[0]!.points).toBe(SURFACES.find((s) => s.key === key)!.steps + 1);
      expectEveryPathMoves(results);
      if (key === 'rosenbrock') await page.screenshot({ path: `${shots}/paths-rosenbrock.png`, fullPage: true });
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  test('paths at 420 px wide: the surface select and the controls stay inside the page', async () => {
    const { page, errors } = await open('demo/paths.html', { width: 420, height: 900 });
    await done(page);
    const layout = await page.evaluate(() => {
      const box = (el: Element) => el.getBoundingClientRect().toJSON() as DOMRect;
      const select = document.getElementById('surface')!;
      return {
        select: box(select),
        controls: box(document.getElementById('controls')!),
        overflowing: Array.from(document.querySelectorAll('.controls *, #panels canvas')).filter((el) => box(el).right > document.documentElement.clientWidth + 0.5).map((el) => el.id || el.tagName),
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      };
    });
    expect(layout.select.left).toBeGreaterThanOrEqual(layout.controls.left);
    expect(layout.select.right).toBeLessThanOrEqual(layout.controls.right);
    expect(layout.overflowing).toEqual([]);
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.clientWidth);
    await page.screenshot({ path: `${shots}/paths-420px.png` });
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
    // Texts, the optimizers' names in their curves' colours included (checkboxes, table), meet WCAG AA.
    expect(await lowContrastTexts(page)).toEqual([]);
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

  test('train, moons: Adam with its state in f32, bf16 (nearest and stochastic), f16, q8 and q4, the memory beside the losses', async () => {
    const { page, errors } = await open('demo/train.html');
    const result = await trainMoons(page, '0.01', ['Adam'], ['f32', 'bf16', 'bf16 sr', 'f16', 'q8', 'q4']);
    console.log('state formats on the train page', result.metrics.map((m) => `${m.label} ${m.loss.toFixed(4)} (${m.stateBytes} B)`).join(', '));
    const by = Object.fromEntries(result.metrics.map((m) => [m.label, m]));
    expect(Object.keys(by).sort()).toEqual(['Adam', 'Adam · bf16', 'Adam · bf16 sr', 'Adam · f16', 'Adam · q4', 'Adam · q8']);
    for (const label of ['Adam · bf16', 'Adam · bf16 sr']) expect(Math.abs(by[label]!.loss / by.Adam!.loss - 1), label).toBeLessThan(0.05);
    expect(by['Adam · f16']!.loss).toBeLessThan(0.3);
    for (const label of ['Adam · bf16', 'Adam · bf16 sr', 'Adam · f16']) expect(by[label]!.stateBytes * 2, label).toBe(by.Adam!.stateBytes);
    // Every tensor of this small net is under minQuantizedElements: q8 and q4 keep f32 state, and the page says why.
    for (const label of ['Adam · q8', 'Adam · q4']) {
      expect(Number.isFinite(by[label]!.loss), label).toBe(true);
      expect(by[label]!.loss, label).toBeLessThan(0.3);
      expect(by[label]!.stateBytes, label).toBe(by.Adam!.stateBytes);
    }
    const memory = await page.$$eval('#metrics tbody tr', (rows) => rows.map((r) => r.children[5]!.textContent));
    const shown = (m: { label: string; stateBytes: number }) => (m.stateBytes >= 1024 ? `${(m.stateBytes / 1024).toFixed(1)} KiB` : `${m.stateBytes} B`) + (m.label === 'Adam · q8' || m.label === 'Adam · q4' ? ' *' : '');
    expect(memory).toEqual(result.metrics.map(shown));
    const notes = (await page.textContent('#state-notes'))!.split('\n');
    for (const format of ['q8', 'q4']) expect(notes.some((n) => new RegExp(`^\\* stateFormat '${format}' quantizes none of the \\d+ tensors: each has fewer than minQuantizedElements \\(4096\\) elements`).test(n)), format).toBe(true);
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
    // Two epochs each from the same weights: 1024 steps at batch 1, 16 at 64, 2 on the full set. At a
    // small lr more steps go further, so the loss orders by batch size (1 clearly lowest).
    console.log('batch sizes compared', batches.map((b) => `${b.title} ${b.loss.toFixed(4)}`).join(', '));
    for (const b of batches) expect(Number.isFinite(b.loss), b.title).toBe(true);
    expect(batches[0]!.loss).toBeLessThan(batches[1]!.loss - 0.05);
    expect(batches[1]!.loss).toBeLessThan(batches[2]!.loss);
    await page.screenshot({ path: `${shots}/train-batches.png`, fullPage: true });
    expect(errors.filter((e) => !/Choose at least one optimizer/.test(e))).toEqual([]);
    await page.close();
  });

  // Each network trains on its own from the same weights and batches (demo/mlp/trainer.ts), so four
  // page runs of one give the figures one run of four would (four tests of 15–18 s on
  // SwiftShader, where two of two took 26 s, and twice that on a busy machine). The page's digits
  // defaults (784-64-10, lr 0.05, batches of 64, 5 epochs) apply: the URL names the dataset only.
  const digits: { label: string; loss: number; accuracy: number; testAccuracy: number }[] = [];
  async function trainDigits(optimizers: string[], screenshot: string): Promise<void> {
    const { page, errors } = await open(`demo/train.html?dataset=digits&seed=1&optimizers=${optimizers.join(',')}&autorun=1`);
    await done(page);
    expect(await page.getAttribute('#status', 'data-state')).toBe('done');
    const result = (await page.evaluate(() => (window as any).trainResult)) as { metrics: (typeof digits)[number][]; layers: number[]; lr: number; batchSize: number };
    expect(result.layers).toEqual([784, 64, 10]);
    expect([result.lr, result.batchSize]).toEqual([0.05, 64]);
    // Held-out digits with the predictions of the network with the lowest test loss: two of every class.
    const shown = await page.$$eval('#digits canvas', (c) => c.map((x) => Number((x as HTMLCanvasElement).dataset.label)));
    expect(shown).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
    expect(await page.textContent('#digitsTitle')).toMatch(/^Held-out digits and what (Adam|Nesterov|RMSProp|GD) \(lowest test loss\) says they are$/);
    await page.screenshot({ path: `${shots}/${screenshot}`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
    console.log('digits', result.metrics.map((m) => `${m.label}: loss ${m.loss.toFixed(3)}, train ${(m.accuracy * 100).toFixed(1)}%, test ${(m.testAccuracy * 100).toFixed(1)}%`).join('; '));
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
    // With the digits settings the two best hold at least 80 % of the held-out digits (the moons
    // settings, once kept when switching, fit the training set and held 77.5 %).
    for (const m of digits.filter((d) => ranked.slice(0, 2).includes(d.label))) expect(m.testAccuracy, m.label).toBeGreaterThanOrEqual(0.8);
  });

  test('bench: offers every registered optimizer, runs in the page, draws bars with readable labels and sane ratios', async () => {
    const { page, errors } = await open('bench/throughput.html?autorun=1');
    // Every name of the registry is offered (benchmarked ones enabled), none twice.
    const { optimizerNames } = await import('../../src/optimizers/registry.js');
    const { OPTIMIZERS } = await import('../../bench/workloads.js');
    const options = await page.$$eval('#optimizer option', (o) => (o as HTMLOptionElement[]).map((x) => ({ value: x.value, text: x.textContent!, disabled: x.disabled })));
    expect(options.filter((o) => !o.disabled).map((o) => o.value)).toEqual(OPTIMIZERS.map((o) => o.label));
    for (const name of optimizerNames) expect(options.some((o) => o.value === name || o.text.includes(`(${name})`)), name).toBe(true);
    expect(new Set(options.map((o) => o.value)).size).toBe(options.length);
    // Skipped: EMA momentum (the SGD kernel) and Muon (not element-wise: its rows are matrix sets).
    expect(options.filter((o) => !o.disabled).length).toBeGreaterThanOrEqual(optimizerNames.length - 2);

    await done(page, 300_000);
    expect(await page.getAttribute('#status', 'data-state')).toBe('done');
    const result = (await page.evaluate(() => (window as any).benchResult)) as {
      rows: { workload: string; elements: number; results: Record<string, { median?: number }> }[];
      ratios: Record<string, number | undefined>[];
    };
    expect(result.rows.length).toBeGreaterThan(2);
    // The y axis labels do not overlap: each visible one at least a line (14 px) from the next.
    const ticks = await page.evaluate(() => {
      const y = (window as any).benchChart.scales.y;
      return y.ticks.map((t: { label: string | string[] }, i: number) => ({ label: String(t.label ?? ''), at: y.getPixelForTick(i) })).filter((t: { label: string }) => t.label !== '');
    }) as { label: string; at: number }[];
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    const sorted = ticks.map((t) => t.at).sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!, ticks.map((t) => t.label).join(' ')).toBeGreaterThanOrEqual(14);
    // Sane, not fast (timings on a shared machine are not asserted): every median a positive finite
    // time, and every ratio the page shows is the quotient of the two medians it names.
    const median = (row: (typeof result.rows)[number], mode: string) => row.results[mode]?.median;
    result.rows.forEach((row, k) => {
      for (const mode of ['fused', 'perTensor', 'roofline', 'cpuFast', 'tfjsWebgpu']) {
        expect(median(row, mode), `${row.workload} ${mode}`).toBeGreaterThan(0);
        expect(Number.isFinite(median(row, mode)), `${row.workload} ${mode}`).toBe(true);
      }
      const ratios = result.ratios[k]!;
      expect(Object.keys(ratios).sort()).toEqual(['cpuFastOverFused', 'fusedOverRoofline', 'perTensorOverFused', 'tfjsWebgpuOverFused']);
      for (const [name, ratio] of Object.entries(ratios)) {
        const [over, under] = name.split('Over').map((m, i) => (i === 1 ? m[0]!.toLowerCase() + m.slice(1) : m));
        const quotient = median(row, over!)! / median(row, under!)!;
        expect(Math.abs(ratio! / quotient - 1), `${row.workload} ${name}: ${ratio} against ${quotient}`).toBeLessThan(1e-12);
      }
    });
    console.log('bench ratios', result.rows.map((r, k) => `${r.workload}: ${Object.entries(result.ratios[k]!).map(([n, v]) => `${n} ${v!.toPrecision(3)}`).join(', ')}`).join(' | '));
    const table = await page.$$eval('#ratios tbody tr', (rows) => rows.map((r) => Array.from(r.children, (c) => c.textContent)));
    expect(table).toHaveLength(result.rows.length);
    // The table shows those ratios, each to three significant figures.
    const order = ['perTensorOverFused', 'fusedOverRoofline', 'cpuFastOverFused', 'tfjsWebgpuOverFused'];
    table.forEach((cells, k) => expect(cells.slice(-4)).toEqual(order.map((key) => `${result.ratios[k]![key]!.toPrecision(3)}×`)));

    expect(await page.textContent('#note')).toMatch(/CPU-emulated/);
    expect(await lowContrastTexts(page)).toEqual([]);
    await page.screenshot({ path: `${shots}/bench.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  test('bench: an optimizer other than the default (Adafactor, factored state) runs from the URL and is drawn', async () => {
    const { page, errors } = await open('bench/throughput.html?optimizer=adafactor&autorun=1');
    expect(await page.inputValue('#optimizer')).toBe('adafactor');
    await done(page, 300_000);
    expect(await page.getAttribute('#status', 'data-state')).toBe('done');
    const rows = (await page.evaluate(() => (window as any).benchResult.rows)) as { optimizer: string; results: Record<string, { median?: number }> }[];
    expect(rows.length).toBeGreaterThan(2);
    for (const row of rows) {
      expect(row.optimizer).toBe('adafactor');
      expect(row.results.fused?.median, 'fused').toBeGreaterThan(0);
    }
    expect(await page.$$eval('#ratios tbody tr', (r) => r.length)).toBe(rows.length);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('bad input on the training page is reported beside its control, the status says it did not start', async () => {
    const { page } = await open('demo/train.html?batch=33');
    // A bad URL value: the message sits by the batch select, which keeps its default.
    await page.waitForSelector('#error');
    expect(await page.textContent('#error')).toMatch(/"33" is not a valid batch; kept 64/);
    expect(await page.getAttribute('#error', 'data-for')).toBe('batch');
    expect(await page.inputValue('#batch')).toBe('64');
    await expectBeside(page, '#batch');

    // A bad control value: nothing runs, the message sits by that control, the status says why.
    for (const [id, value, message] of [['lr', '-1', /lr must be a number >= 0, got "-1"/], ['hidden', '16,x', /Hidden layers must be positive whole numbers/], ['epochs', '0', /Epochs must be a whole number >= 1/]] as const) {
      await page.fill(`#${id}`, value);
      await page.click('#start');
      await page.waitForSelector(`#error[data-for=${id}]`);
      expect(await page.textContent('#error'), id).toMatch(message);
      expect(await page.getAttribute(`#${id}`, 'aria-invalid')).toBe('true');
      expect(await page.getAttribute('#status', 'data-state')).toBe('error');
      const status = (await page.textContent('#status'))!;
      expect(status).not.toMatch(/Loading/);
      expect(status).toMatch(/Not started/);
      await expectBeside(page, `#${id}`);
      await page.screenshot({ path: `${shots}/train-bad-${id}.png` });
      await page.fill(`#${id}`, id === 'lr' ? '0.01' : id === 'hidden' ? '16,16' : '40');
    }
    for (const box of await page.$$('#optimizers input')) await box.setChecked(false);
    await page.click('#start');
    await page.waitForSelector('#error[data-for=optimizers]');
    expect(await page.textContent('#error')).toMatch(/Choose at least one optimizer/);
    expect(await page.$$('#error')).toHaveLength(1);
    expect(await page.getAttribute('#lr', 'aria-invalid')).toBeNull();
    await expectBeside(page, '#optimizers');
    await page.close();
  });

  test('train: switching dataset applies its settings (digits: a wider net, lr 0.05, 5 epochs; back to moons: its own)', async () => {
    const { page, errors } = await open('demo/train.html');
    const controls = () => page.evaluate(() => Object.fromEntries(['hidden', 'lr', 'batch', 'epochs'].map((id) => [id, (document.getElementById(id) as HTMLInputElement).value])));
    expect(await controls()).toEqual({ hidden: '16,16', lr: '0.01', batch: '64', epochs: '40' });
    await page.selectOption('#dataset', 'digits');
    expect(await controls()).toEqual({ hidden: '64', lr: '0.05', batch: '64', epochs: '5' });
    await page.selectOption('#dataset', 'moons');
    expect(await controls()).toEqual({ hidden: '16,16', lr: '0.01', batch: '64', epochs: '40' });
    // URL values override the dataset's defaults.
    const { page: second } = await open('demo/train.html?dataset=digits&epochs=3');
    expect(await second.evaluate(() => [(document.getElementById('hidden') as HTMLInputElement).value, (document.getElementById('epochs') as HTMLInputElement).value])).toEqual(['64', '3']);
    await second.close();
    expect(errors).toEqual([]);
    await page.close();
  });
});
