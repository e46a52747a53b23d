/**
 * The torch-named schedulers against torch.optim.lr_scheduler itself (Debian's python3-torch 1.13,
 * run once per file by tests/helpers/torch_lr_schedules.py): the lr of every group before each
 * step, two groups with different lrs. Ours are closed forms; torch steps most of these in their
 * chainable form (lr ← lr · ratio every step), which accumulates float64 rounding, hence
 * |a − e| <= 1e-12 + 1e-9·|e| rather than equality. Then every option's refusals.
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  cosineAnnealingWarmRestarts,
  createReferenceOptimizer,
  exponentialDecay,
  linearLr,
  multiStepLr,
  polynomialLr,
  reduceLrOnPlateau,
  sequential,
  sequentialLr,
  stepDecay,
  type LrSchedule,
  type Optimizer,
  type ReduceLrOnPlateau,
  type ReduceLrOnPlateauOptions,
} from '../../src/index.js';

const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
const LRS = [0.1, 0.03];

type TorchSpec = { name: string; kwargs?: Record<string, unknown>; schedulers?: TorchSpec[]; milestones?: number[] };
type ScheduleCase = { label: string; torch: TorchSpec; ours: () => LrSchedule; steps: number };
type PlateauCase = { label: string; kwargs: Record<string, unknown>; options: ReduceLrOnPlateauOptions; metrics: number[] };

const SCHEDULES: ScheduleCase[] = [
  { label: 'MultiStepLR defaults', torch: { name: 'MultiStepLR', kwargs: { milestones: [10, 30, 60] } }, ours: () => multiStepLr({ milestones: [10, 30, 60] }), steps: 100 },
  { label: 'MultiStepLR unsorted, repeated, gamma 0.5', torch: { name: 'MultiStepLR', kwargs: { milestones: [40, 5, 40, 0], gamma: 0.5 } }, ours: () => multiStepLr({ milestones: [40, 5, 40, 0], gamma: 0.5 }), steps: 60 },
  { label: 'LinearLR defaults', torch: { name: 'LinearLR' }, ours: () => linearLr(), steps: 50 },
  { label: 'LinearLR warmup 0.01 → 1 over 100', torch: { name: 'LinearLR', kwargs: { start_factor: 0.01, end_factor: 1, total_iters: 100 } }, ours: () => linearLr({ startFactor: 0.01, totalIters: 100 }), steps: 300 },
  { label: 'LinearLR decay 1 → 0.05 over 37', torch: { name: 'LinearLR', kwargs: { start_factor: 1, end_factor: 0.05, total_iters: 37 } }, ours: () => linearLr({ startFactor: 1, endFactor: 0.05, totalIters: 37 }), steps: 60 },
  { label: 'PolynomialLR defaults', torch: { name: 'PolynomialLR' }, ours: () => polynomialLr(), steps: 50 },
  { label: 'PolynomialLR power 2 over 150', torch: { name: 'PolynomialLR', kwargs: { total_iters: 150, power: 2 } }, ours: () => polynomialLr({ totalIters: 150, power: 2 }), steps: 200 },
  { label: 'PolynomialLR power 0.5 over 80', torch: { name: 'PolynomialLR', kwargs: { total_iters: 80, power: 0.5 } }, ours: () => polynomialLr({ totalIters: 80, power: 0.5 }), steps: 100 },
  { label: 'CosineAnnealingWarmRestarts T0 10', torch: { name: 'CosineAnnealingWarmRestarts', kwargs: { T_0: 10 } }, ours: () => cosineAnnealingWarmRestarts({ T0: 10 }), steps: 100 },
  { label: 'CosineAnnealingWarmRestarts T0 7 TMult 2 etaMin 1e-3', torch: { name: 'CosineAnnealingWarmRestarts', kwargs: { T_0: 7, T_mult: 2, eta_min: 1e-3 } }, ours: () => cosineAnnealingWarmRestarts({ T0: 7, TMult: 2, etaMin: 1e-3 }), steps: 300 },
  { label: 'CosineAnnealingWarmRestarts T0 1 TMult 3', torch: { name: 'CosineAnnealingWarmRestarts', kwargs: { T_0: 1, T_mult: 3 } }, ours: () => cosineAnnealingWarmRestarts({ T0: 1, TMult: 3 }), steps: 150 },
  {
    label: 'SequentialLR LinearLR warmup → CosineAnnealingWarmRestarts',
    torch: { name: 'SequentialLR', schedulers: [{ name: 'LinearLR', kwargs: { start_factor: 0.1, total_iters: 20 } }, { name: 'CosineAnnealingWarmRestarts', kwargs: { T_0: 30 } }], milestones: [20] },
    ours: () => sequentialLr([linearLr({ startFactor: 0.1, totalIters: 20 }), cosineAnnealingWarmRestarts({ T0: 30 })], [20]),
    steps: 150,
  },
  {
    label: 'SequentialLR three: LinearLR, MultiStepLR, PolynomialLR',
    torch: {
      name: 'SequentialLR',
      schedulers: [{ name: 'LinearLR', kwargs: { start_factor: 0.5, total_iters: 10 } }, { name: 'MultiStepLR', kwargs: { milestones: [5, 15], gamma: 0.3 } }, { name: 'PolynomialLR', kwargs: { total_iters: 40, power: 1.5 } }],
      milestones: [15, 40],
    },
    ours: () => sequential([linearLr({ startFactor: 0.5, totalIters: 10 }), multiStepLr({ milestones: [5, 15], gamma: 0.3 }), polynomialLr({ totalIters: 40, power: 1.5 })], [15, 40]),
    steps: 100,
  },
  {
    label: 'SequentialLR with the existing StepLR and ExponentialLR',
    torch: { name: 'SequentialLR', schedulers: [{ name: 'StepLR', kwargs: { step_size: 7, gamma: 0.5 } }, { name: 'ExponentialLR', kwargs: { gamma: 0.97 } }], milestones: [30] },
    ours: () => sequentialLr([stepDecay({ stepSize: 7, gamma: 0.5 }), exponentialDecay({ gamma: 0.97 })], [30]),
    steps: 120,
  },
];

/** A validation loss that falls, stalls, wiggles within the threshold, rises and falls again. */
const METRICS = [
  ...Array.from({ length: 20 }, (_, k) => 1 / (k + 1)),
  ...Array.from({ length: 30 }, (_, k) => 0.05 + 1e-6 * Math.sin(k)),
  ...Array.from({ length: 20 }, (_, k) => 0.06 + 0.001 * k),
  ...Array.from({ length: 30 }, (_, k) => 0.04 - 0.001 * k),
  ...Array.from({ length: 40 }, () => 0.01),
];
const ACCURACY = METRICS.map((m) => 1 - m);

const PLATEAUS: PlateauCase[] = [
  { label: 'defaults', kwargs: {}, options: {}, metrics: METRICS },
  { label: 'factor 0.5, patience 3, cooldown 2', kwargs: { factor: 0.5, patience: 3, cooldown: 2 }, options: { factor: 0.5, patience: 3, cooldown: 2 }, metrics: METRICS },
  { label: 'abs threshold 1e-3, patience 0', kwargs: { threshold: 1e-3, threshold_mode: 'abs', patience: 0 }, options: { threshold: 1e-3, thresholdMode: 'abs', patience: 0 }, metrics: METRICS },
  { label: 'max mode (accuracy), rel, patience 2', kwargs: { mode: 'max', patience: 2, factor: 0.3 }, options: { mode: 'max', patience: 2, factor: 0.3 }, metrics: ACCURACY },
  { label: 'max mode abs, cooldown 5', kwargs: { mode: 'max', threshold_mode: 'abs', threshold: 0.002, patience: 1, cooldown: 5 }, options: { mode: 'max', thresholdMode: 'abs', threshold: 0.002, patience: 1, cooldown: 5 }, metrics: ACCURACY },
  { label: 'minLr per group, eps 1e-3', kwargs: { factor: 0.2, patience: 1, min_lr: [0.004, 0.0025], eps: 1e-3 }, options: { factor: 0.2, patience: 1, minLr: [0.004, 0.0025], eps: 1e-3 }, metrics: METRICS },
  { label: 'NaN and Infinity metrics count as no improvement', kwargs: { patience: 2 }, options: { patience: 2 }, metrics: [1, 0.5, NaN, NaN, NaN, 0.4, Infinity, -Infinity, NaN, NaN, NaN, -Infinity] },
];

let expected: number[][][];
beforeAll(() => {
  const cases = [
    ...SCHEDULES.map((c) => ({ scheduler: c.torch, lrs: LRS, steps: c.steps })),
    // JSON has neither NaN nor Infinity: null and "inf" / "-inf" stand for them.
    ...PLATEAUS.map((c) => ({ scheduler: { name: 'ReduceLROnPlateau', kwargs: c.kwargs }, lrs: LRS, metrics: c.metrics.map((m) => (Number.isNaN(m) ? null : Number.isFinite(m) ? m : m > 0 ? 'inf' : '-inf')) })),
  ];
  const run = spawnSync(PYTHON, ['tests/helpers/torch_lr_schedules.py'], { input: JSON.stringify(cases), encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) throw new Error(`torch_lr_schedules.py failed (${run.error?.message ?? `status ${run.status}`}): ${run.stderr}`);
  expected = JSON.parse(run.stdout) as number[][][];
}, 40_000);

/** The largest |a − e| / (1e-12 + 1e-9·|e|) over all lrs; <= 1 passes. Also the largest |a − e|. */
function compare(actual: number[][], wanted: number[][]) {
  expect(actual.length).toBe(wanted.length);
  let worst = 0;
  let largest = 0;
  actual.forEach((row, k) =>
    row.forEach((a, g) => {
      const e = wanted[k]![g]!;
      const diff = Math.abs(a - e);
      largest = Math.max(largest, diff);
      worst = Math.max(worst, diff / (1e-12 + 1e-9 * Math.abs(e)));
      if (!(diff <= 1e-12 + 1e-9 * Math.abs(e))) expect.fail(`step ${k}, group ${g}: ${a} vs torch ${e}`);
    }),
  );
  return { worst, largest };
}

describe('schedulers against torch 1.13 lr_scheduler', () => {
  test.each(SCHEDULES.map((c, i) => [c.label, i] as const))('%s', (_label, i) => {
    const c = SCHEDULES[i]!;
    const schedule = c.ours();
    const actual = Array.from({ length: c.steps }, (_, t) => LRS.map((lr) => schedule(t, lr)));
    const { largest } = compare(actual, expected[i]!);
    console.log(`${c.label}: largest |ours − torch| ${largest.toExponential(2)}`);
  });

  test.each(PLATEAUS.map((c, i) => [c.label, i] as const))('ReduceLROnPlateau %s (on the CPU twin)', (_label, i) => {
    const c = PLATEAUS[i]!;
    const optimizer = createReferenceOptimizer('sgd', [{ name: 'a', data: new Float32Array(2) }, { name: 'b', data: new Float32Array(3) }], { lr: LRS[0], groups: [{ tensors: ['b'], lr: LRS[1] }] });
    const plateau = reduceLrOnPlateau(optimizer, c.options);
    const actual: number[][] = [];
    for (const metric of c.metrics) {
      actual.push(optimizer.groups.map((g) => g.lr));
      plateau.step(metric);
    }
    actual.push(plateau.lastLr());
    const { largest } = compare(actual, expected[SCHEDULES.length + i]!);
    // The case reduces at least once: a plateau that never fires would pass trivially.
    expect(actual.at(-1)![0]).toBeLessThan(LRS[0]!);
    console.log(`ReduceLROnPlateau ${c.label}: largest |ours − torch| ${largest.toExponential(2)}`);
  });
});
