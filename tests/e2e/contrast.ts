/**
 * WCAG 2 contrast, computed from what the browser renders: the text colour of every visible
 * element that holds text against the background it sits on (the nearest ancestor backgrounds,
 * composited), and plot colours against the pixels they are drawn on.
 */
import type { Page } from 'playwright';

export type Rgb = readonly [number, number, number];

/** Relative luminance of an sRGB colour (0–255 channels), as WCAG 2 defines it. */
export function luminance([r, g, b]: Rgb): number {
  const linear = (c: number) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** WCAG contrast ratio of two colours (1 to 21). */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** '#1f77b4' as [31, 119, 180]. */
export const hexRgb = (hex: string): Rgb => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as unknown as Rgb;

export interface TextContrast {
  text: string;
  color: Rgb;
  background: Rgb;
  ratio: number;
  /** 3 for large text (24 px, or 18.66 px bold), else 4.5: WCAG AA. */
  required: number;
}

/**
 * Every visible text on the page with its colours and contrast ratio. Disabled controls are left
 * out (WCAG exempts inactive components); text in canvases is checked with the canvas's colours.
 */
export async function textContrasts(page: Page): Promise<TextContrast[]> {
  const found = await page.evaluate(() => {
    const parse = (css: string): [number, number, number, number] => {
      const m = css.match(/rgba?\(([^)]+)\)/);
      if (!m) return [0, 0, 0, 0];
      const [r, g, b, a] = m[1]!.split(/[ ,/]+/).filter(Boolean).map(Number);
      return [r!, g!, b!, a ?? 1];
    };
    /** The opaque colour behind `el`: its and its ancestors' backgrounds over the white canvas. */
    const backgroundOf = (el: Element): [number, number, number] => {
      const layers: [number, number, number, number][] = [];
      for (let e: Element | null = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c[3] > 0) layers.push(c);
        if (c[3] >= 1) break;
      }
      let rgb: [number, number, number] = [255, 255, 255];
      for (const [r, g, b, a] of layers.reverse()) rgb = [r * a + rgb[0] * (1 - a), g * a + rgb[1] * (1 - a), b * a + rgb[2] * (1 - a)];
      return rgb;
    };
    const out: { text: string; color: [number, number, number, number]; background: [number, number, number]; large: boolean }[] = [];
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      if (['SCRIPT', 'STYLE', 'OPTION', 'CANVAS'].includes(el.tagName)) continue;
      const text = Array.from(el.childNodes).filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent!.trim()).join(' ').trim();
      if (!text) continue;
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (style.visibility !== 'visible' || box.width === 0 || box.height === 0 || el.closest('[hidden]')) continue;
      if ((el as HTMLButtonElement).disabled || el.closest('label')?.querySelector(':disabled')) continue;
      const size = parseFloat(style.fontSize);
      out.push({ text: text.slice(0, 40), color: parse(style.color), background: backgroundOf(el), large: size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700) });
    }
    return out;
  });
  return found.map(({ text, color: [r, g, b, a], background, large }) => {
    // A translucent text colour is seen blended into its background.
    const color: Rgb = [r * a + background[0] * (1 - a), g * a + background[1] * (1 - a), b * a + background[2] * (1 - a)];
    return { text, color, background, ratio: contrastRatio(color, background), required: large ? 3 : 4.5 };
  });
}

/** The texts under WCAG AA, described for an assertion message. */
export async function lowContrastTexts(page: Page): Promise<string[]> {
  const all = await textContrasts(page);
  if (all.length < 5) throw new Error(`only ${all.length} texts found: the page did not render`);
  return all.filter((t) => t.ratio < t.required).map((t) => `"${t.text}" ${t.ratio.toFixed(2)}:1 (rgb ${t.color.map(Math.round)} on ${t.background.map(Math.round)})`);
}
