/** Drawing for the training page: decision boundaries (2-D datasets) and digit samples with predictions. */
import type { Dataset } from '../data/datasets.js';

/** Class colours: blue, orange and green of the demo's palette (common/palette.ts), dots visible on white. */
const PALETTE = [[31, 119, 180], [184, 83, 0], [35, 122, 35]] as const;

/** A grid of points covering the dataset (plus a margin) and the bounds it spans. */
export function boundaryGrid(dataset: Dataset, grid: number): { points: Float32Array; bounds: [number, number, number, number] } {
  const n = dataset.labels.length;
  const xs = Array.from({ length: n }, (_, k) => dataset.features[2 * k]!);
  const ys = Array.from({ length: n }, (_, k) => dataset.features[2 * k + 1]!);
  const pad = 0.3;
  const bounds: [number, number, number, number] = [Math.min(...xs) - pad, Math.max(...xs) + pad, Math.min(...ys) - pad, Math.max(...ys) + pad];
  const points = new Float32Array(grid * grid * 2);
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      points[2 * (gy * grid + gx)] = bounds[0] + ((gx + 0.5) / grid) * (bounds[1] - bounds[0]);
      points[2 * (gy * grid + gx) + 1] = bounds[2] + ((gy + 0.5) / grid) * (bounds[3] - bounds[2]);
    }
  }
  return { points, bounds };
}

/** Class regions (shaded by confidence) and the samples: training dots, held-out rings. */
export function drawBoundary(canvas: HTMLCanvasElement, probs: Float32Array, grid: number, train: Dataset, test: Dataset | undefined, bounds: readonly number[]): void {
  const ctx = canvas.getContext('2d')!;
  const size = canvas.width;
  const cell = size / grid;
  const C = train.classes;
  ctx.clearRect(0, 0, size, size);
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      const i = gy * grid + gx;
      let best = 0;
      for (let c = 1; c < C; c++) if (probs[i * C + c]! > probs[i * C + best]!) best = c;
      const [r, g, b] = PALETTE[best % PALETTE.length]!;
      ctx.fillStyle = `rgba(${r},${g},${b},${0.15 + 0.45 * (probs[i * C + best]! - 1 / C) * (C / (C - 1))})`;
      ctx.fillRect(gx * cell, size - (gy + 1) * cell, cell + 0.5, cell + 0.5);
    }
  }
  const [x0, x1, y0, y1] = bounds as [number, number, number, number];
  const dots = (data: Dataset, ring: boolean) => {
    for (let k = 0; k < data.labels.length; k++) {
      const [r, g, b] = PALETTE[data.labels[k]! % PALETTE.length]!;
      const px = ((data.features[2 * k]! - x0) / (x1 - x0)) * size;
      const py = size - ((data.features[2 * k + 1]! - y0) / (y1 - y0)) * size;
      ctx.beginPath();
      ctx.arc(px, py, ring ? 3 : 2.2, 0, 2 * Math.PI);
      if (ring) {
        ctx.strokeStyle = `rgb(${r},${g},${b})`;
        ctx.lineWidth = 1.2;
        ctx.stroke();
      } else {
        ctx.fillStyle = `rgb(${r},${g},${b})`;
        ctx.fill();
      }
    }
  };
  dots(train, false);
  if (test) dots(test, true);
}

/** One 28×28 digit scaled into a canvas, with the predicted class (green when right, red when wrong). */
export function drawDigit(canvas: HTMLCanvasElement, pixels: Float32Array, label: number, predicted: number): void {
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = 255 - Math.round(255 * Math.max(0, Math.min(1, pixels[i]!)));
    image.data.set([v, v, v, 255], 4 * i);
  }
  const scratch = new OffscreenCanvas(28, 28);
  scratch.getContext('2d')!.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.width);
  ctx.font = 'bold 14px system-ui, sans-serif';
  ctx.fillStyle = predicted === label ? '#1a7f37' : '#c62828';
  ctx.fillText(`→ ${predicted}`, 4, canvas.height - 4);
}

/** The class with the largest probability, per row. */
export function argmaxRows(probs: Float32Array, classes: number): number[] {
  return Array.from({ length: probs.length / classes }, (_, i) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c]! > probs[i * classes + best]!) best = c;
    return best;
  });
}
