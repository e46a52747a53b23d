/**
 * Float64 twins of the optimizers with a `cautious` option (Adam, AdamW, Lion), whole tensors at a
 * time: an element-wise twin, and where cautious, the mask of Liang et al. 2024 as the authors'
 * kyleliang919/C-Optim writes it (c_adamw.py: 1 / max(mean, 1e-3); c_lion.py: numel / (sum + 1)).
 */
import type { ElementState, ElementTwin, TensorTwin } from './record.js';

/** Each tensor state's per-element float64 state (the tensor state holds the slots as arrays). */
const elementStates = new WeakMap<object, ElementState[]>();

/** One element's step split at the mask: the direction the update scales, and how it lands. */
export interface CautiousElement {
  /** Updates `s`; returns the direction, what agrees with `g` (descent along −dir), and the landing. */
  (o: any, p: number, g: number, s: ElementState, t: number): { direction: number; signal: number; land: (scale: number) => number };
}

/** The element twin (cautious off), and a tensor twin that applies the mask when `o.cautious`. */
export function cautiousTwin(element: CautiousElement, rescale: (agreeing: number, elements: number) => number): { element: ElementTwin; tensor: TensorTwin } {
  const plain: ElementTwin = (o, p, g, s, t) => element(o, p, g, s, t).land(1);
  return {
    element: plain,
    tensor: {
      tensor(o, p, g, state, t) {
        const states = elementStates.get(state) ?? p.map((): ElementState => ({}));
        elementStates.set(state, states);
        const steps = p.map((pi, i) => element(o, pi, g[i]!, states[i]!, t));
        const agree = steps.map((e) => e.direction * e.signal > 0);
        const scale = o.cautious ? rescale(agree.filter(Boolean).length, p.length) : 1;
        steps.forEach((e, i) => (p[i] = e.land(o.cautious ? (agree[i] ? scale : 0) : 1)));
        for (const key of Object.keys(states[0] ?? {})) state[key] = states.map((s) => s[key]!);
      },
    },
  };
}

/** c_adamw.py: mask.div_(mask.mean().clamp_(min=1e-3)). */
export const meanClamped = (agreeing: number, elements: number) => 1 / Math.max(agreeing / elements, 1e-3);
/** c_lion.py: mask * (mask.numel() / (mask.sum() + 1)). */
export const numelOverSumPlusOne = (agreeing: number, elements: number) => elements / (agreeing + 1);
