/**
 * One small-multiple panel of the paths page: the surface in log-spaced bands with contour lines,
 * the minima (★), the start (×) and one optimizer's path up to a given step, with its position
 * and value there. Plain canvas 2-D drawing: a dozen panels redraw at animation speed.
 */
import type { Surface } from './surfaces.js';

const backgrounds = new Map<string, ImageData>();

/** The banded contour image of a surface at one panel size, computed once. */
function background(surface: Surface, ctx: CanvasRenderingContext2D, w: number, h: number): ImageData {
  const key = `${surface.key}:${w}x${h}`;
  let image = backgrounds.get(key);
  if (image) return image;
  image = ctx.createImageData(w, h);
  const [x0, x1] = surface.view.x;
  const [y0, y1] = surface.view.y;
  const bands = new Int32Array(w * h);
  for (let py = 0; py < h; py++) {
    for (let px = 0; px < w; px++) {
      const v = surface.f(x0 + ((px + 0.5) / w) * (x1 - x0), y1 - ((py + 0.5) / h) * (y1 - y0));
      bands[py * w + px] = Math.sign(v) * Math.floor(Math.log2(Math.abs(v) + 0.05) + 5);
    }
  }
  for (let i = 0; i < w * h; i++) {
    const b = bands[i]!;
    const px = i % w;
    const edge = (px + 1 < w && bands[i + 1] !== b) || (i + w < w * h && bands[i + w] !== b);
    const shade = Math.max(0, Math.min(1, (b + 10) / 40));
    // Light bands (the darkest is #b8d1f2) so that every path colour keeps a 3:1 contrast on them.
    image.data.set(edge ? [120, 120, 140, 255] : [240 - 56 * shade, 245 - 36 * shade, 252 - 10 * shade, 255], 4 * i);
  }
  backgrounds.set(key, image);
  return image;
}

export interface PanelPath {
  label: string;
  color: string;
  lr: number;
  points: [number, number][];
}

/** Draws the panel for `path` up to step `k` (0 = the start only). */
export function drawPanel(canvas: HTMLCanvasElement, surface: Surface, path: PanelPath, k: number): void {
  const ctx = canvas.getContext('2d')!;
  const { width: w, height: h } = canvas;
  const title = 18;
  const plotH = h - title;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  ctx.putImageData(background(surface, ctx, w, plotH), 0, title);
  const [x0, x1] = surface.view.x;
  const [y0, y1] = surface.view.y;
  const X = (x: number) => ((x - x0) / (x1 - x0)) * w;
  const Y = (y: number) => title + ((y1 - y) / (y1 - y0)) * plotH;
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, title, w, plotH);
  ctx.clip();
  ctx.fillStyle = '#222';
  ctx.font = '14px system-ui, sans-serif';
  for (const [mx, my] of surface.minima) ctx.fillText('★', X(mx) - 6, Y(my) + 5);
  const [sx, sy] = surface.start;
  ctx.fillText('×', X(sx) - 4, Y(sy) + 4);
  const upto = path.points.slice(0, k + 1);
  ctx.strokeStyle = path.color;
  ctx.lineWidth = 2;
  ctx.beginPath();
  upto.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(X(x), Y(y)) : ctx.lineTo(X(x), Y(y))));
  ctx.stroke();
  const [cx, cy] = upto[upto.length - 1]!;
  ctx.fillStyle = path.color;
  ctx.beginPath();
  ctx.arc(X(cx), Y(cy), 4, 0, 2 * Math.PI);
  ctx.fill();
  ctx.restore();
  ctx.fillStyle = '#111';
  ctx.font = 'bold 12px system-ui, sans-serif';
  ctx.fillText(`${path.label}  lr ${path.lr}`, 4, 13);
  ctx.font = '11px system-ui, sans-serif';
  const value = surface.f(cx, cy);
  const text = `step ${Math.min(k, path.points.length - 1)}: f = ${Number.isFinite(value) ? value.toExponential(1) : String(value)}`;
  ctx.fillText(text, w - ctx.measureText(text).width - 4, 13);
}
