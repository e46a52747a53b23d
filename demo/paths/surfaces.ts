/**
 * The test surfaces of the paths page: the function (for contours and the final value), where
 * paths start, the minima, the view, and each optimizer's default learning rate there. The
 * gradients run on the GPU (surfaces.wgsl, selected by index: the order of this list).
 *
 * Default rates: for the bowl, hand-picked so every path arrives in 100 steps; elsewhere, the
 * best of a log-spaced grid (1e-4 … 100) after the surface's default step count, so each method
 * is shown near its best rather than at one shared rate, among the rates whose path stays in the
 * view and moves visibly (the e2e test measures how far each path gets from its start). On
 * Rosenbrock the best rates of adaptive methods from (−1.5, 2.5) crept along the valley floor
 * (AdaGrad, RMSProp, Adadelta, RAdam moved under 0.35 in 100 steps, any larger rate left the
 * view): it starts at the classic (−1.2, 1) and runs 200 steps, where every path moves over 1.2,
 * with rates a notch below the edge of instability (×1.5 stays in view).
 */
export interface Surface {
  key: string;
  label: string;
  formula: string;
  f: (x: number, y: number) => number;
  start: [number, number];
  minima: [number, number][];
  view: { x: [number, number]; y: [number, number] };
  steps: number;
  /** Learning rate by path label (PATH_OPTIMIZERS); absent: the path's own default. */
  rates: Record<string, number>;
}

export const SURFACES: Surface[] = [
  {
    key: 'bowl',
    label: 'Narrow bowl',
    formula: 'x²/20 + y²',
    f: (x, y) => (x * x) / 20 + y * y,
    start: [-7, 2],
    minima: [[0, 0]],
    view: { x: [-10, 10], y: [-5, 5] },
    steps: 100,
    rates: {},
  },
  {
    key: 'rosenbrock',
    label: 'Rosenbrock',
    formula: '(1 − x)² + 100 (y − x²)²',
    f: (x, y) => (1 - x) ** 2 + 100 * (y - x * x) ** 2,
    start: [-1.2, 1],
    minima: [[1, 1]],
    view: { x: [-2, 2], y: [-1, 3] },
    steps: 200,
    rates: { SGD: 0.003, Momentum: 0.0018, Nesterov: 0.0013, AdaGrad: 1, RMSProp: 0.1, Adadelta: 20, Adam: 0.5, Adamax: 1, NAdam: 0.15, RAdam: 0.0045, Rprop: 0.004, Lion: 0.4 },
  },
  {
    key: 'beale',
    label: 'Beale',
    formula: '(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²',
    f: (x, y) => (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y ** 3) ** 2,
    start: [1, 1.5],
    minima: [[3, 0.5]],
    view: { x: [-4.5, 4.5], y: [-4.5, 4.5] },
    steps: 100,
    rates: { SGD: 0.02, Momentum: 0.002, Nesterov: 0.005, AdaGrad: 2, RMSProp: 0.2, Adadelta: 20, Adam: 0.5, Adamax: 1, NAdam: 0.5, RAdam: 0.005, Rprop: 0.1, Lion: 0.5 },
  },
  {
    key: 'saddle',
    label: 'Saddle',
    formula: 'x² − y²',
    f: (x, y) => x * x - y * y,
    start: [-4.5, 0.01],
    minima: [],
    view: { x: [-5, 5], y: [-5, 5] },
    steps: 100,
    // No minimum to find: rates that take a few dozen steps to cross the x range.
    // Prodigy: its d grows without bound on this surface (no minimum to estimate a distance to) and
    // overflows at lr ≥ 0.15 within 100 steps; below 0.035 d never leaves d0.
    rates: { SGD: 0.05, Momentum: 0.01, Nesterov: 0.01, AdaGrad: 0.5, RMSProp: 0.05, Adadelta: 10, Adam: 0.1, Adamax: 0.1, NAdam: 0.1, RAdam: 0.2, Rprop: 0.1, Lion: 0.1, Prodigy: 0.05 },
  },
  {
    key: 'himmelblau',
    label: 'Himmelblau',
    formula: '(x² + y − 11)² + (x + y² − 7)²',
    f: (x, y) => (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2,
    start: [-0.3, -0.9],
    minima: [[3, 2], [-2.805118, 3.131312], [-3.77931, -3.283186], [3.584428, -1.848126]],
    view: { x: [-5, 5], y: [-5, 5] },
    steps: 100,
    rates: { SGD: 0.01, Momentum: 0.01, Nesterov: 0.005, AdaGrad: 2, RMSProp: 0.05, Adadelta: 5, Adam: 1, Adamax: 0.5, NAdam: 10, RAdam: 0.1, Rprop: 0.1, Lion: 0.2 },
  },
];
