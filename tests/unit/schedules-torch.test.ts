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
  type AdamOptions,
  type LrSchedule,
  type Optimizer,
  type ReferenceOptimizer,
  type ReduceLrOnPlateau,
  type PlateauState,
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
  { label: 'minLr per group', kwargs: { factor: 0.2, patience: 1, min_lr: [0.004, 0.0025] }, options: { factor: 0.2, patience: 1, minLr: [0.004, 0.0025] }, metrics: METRICS },
  { label: 'one minLr', kwargs: { factor: 0.5, patience: 1, min_lr: 0.01 }, options: { factor: 0.5, patience: 1, minLr: 0.01 }, metrics: METRICS },
  { label: 'minLr per group, eps 5e-3 (stops group 1 at 0.006)', kwargs: { factor: 0.2, patience: 1, min_lr: [0.004, 0.0025], eps: 5e-3 }, options: { factor: 0.2, patience: 1, minLr: [0.004, 0.0025], eps: 5e-3 }, metrics: METRICS },
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

/** `fn` throws a RangeError or TypeError whose message names `option` and shows `shown`. */
function refuses(fn: () => unknown, option: string, shown: string) {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `${option} ${shown}`).toBeInstanceOf(Error);
  const { message } = error as Error;
  expect(message).toContain(option);
  expect(message).toContain(shown);
}

describe('schedule options are checked before a schedule is returned', () => {
  test.each([
    [() => multiStepLr(undefined as never), "multiStepLr's options", 'undefined'],
    [() => multiStepLr({ milestones: [3], gama: 0.5 } as never), 'multiStepLr', '"gama"'],
    [() => multiStepLr({ milestones: 3 } as never), 'multiStepLr.milestones', '3'],
    [() => multiStepLr({} as never), 'multiStepLr.milestones', 'undefined'],
    [() => multiStepLr({ milestones: [3, -1] }), 'multiStepLr.milestones[1]', '-1'],
    [() => multiStepLr({ milestones: [2.5] }), 'multiStepLr.milestones[0]', '2.5'],
    [() => multiStepLr({ milestones: ['3'] } as never), 'multiStepLr.milestones[0]', '"3" (a string)'],
    [() => multiStepLr({ milestones: [NaN] }), 'multiStepLr.milestones[0]', 'NaN'],
    [() => multiStepLr({ milestones: [3], gamma: -0.1 }), 'multiStepLr.gamma', '-0.1'],
    [() => multiStepLr({ milestones: [3], gamma: Infinity }), 'multiStepLr.gamma', 'Infinity'],
    [() => multiStepLr({ milestones: [3], gamma: '0.1' } as never), 'multiStepLr.gamma', '"0.1" (a string)'],
    [() => linearLr(null as never), "linearLr's options", 'null'],
    [() => linearLr({ start_factor: 0.1 } as never), 'linearLr', '"start_factor"'],
    [() => linearLr({ startFactor: 0 }), 'linearLr.startFactor', '0'],
    [() => linearLr({ startFactor: 1.5 }), 'linearLr.startFactor', '1.5'],
    [() => linearLr({ startFactor: NaN }), 'linearLr.startFactor', 'NaN'],
    [() => linearLr({ startFactor: '0.5' } as never), 'linearLr.startFactor', '"0.5" (a string)'],
    [() => linearLr({ endFactor: -0.1 }), 'linearLr.endFactor', '-0.1'],
    [() => linearLr({ endFactor: 1.1 }), 'linearLr.endFactor', '1.1'],
    [() => linearLr({ totalIters: 0 }), 'linearLr.totalIters', '0'],
    [() => linearLr({ totalIters: 2.5 }), 'linearLr.totalIters', '2.5'],
    [() => polynomialLr([] as never), "polynomialLr's options", '[] (an array)'],
    [() => polynomialLr({ total_iters: 5 } as never), 'polynomialLr', '"total_iters"'],
    [() => polynomialLr({ totalIters: -1 }), 'polynomialLr.totalIters', '-1'],
    [() => polynomialLr({ totalIters: 1.5 }), 'polynomialLr.totalIters', '1.5'],
    [() => polynomialLr({ power: -1 }), 'polynomialLr.power', '-1'],
    [() => polynomialLr({ power: NaN }), 'polynomialLr.power', 'NaN'],
    [() => polynomialLr({ power: Infinity }), 'polynomialLr.power', 'Infinity'],
    [() => cosineAnnealingWarmRestarts({} as never), 'cosineAnnealingWarmRestarts.T0', 'undefined'],
    [() => cosineAnnealingWarmRestarts({ T_0: 10 } as never), 'cosineAnnealingWarmRestarts', '"T_0"'],
    [() => cosineAnnealingWarmRestarts({ T0: 0 }), 'cosineAnnealingWarmRestarts.T0', '0'],
    [() => cosineAnnealingWarmRestarts({ T0: 2.5 }), 'cosineAnnealingWarmRestarts.T0', '2.5'],
    [() => cosineAnnealingWarmRestarts({ T0: 10, TMult: 0 }), 'cosineAnnealingWarmRestarts.TMult', '0'],
    [() => cosineAnnealingWarmRestarts({ T0: 10, TMult: 1.5 }), 'cosineAnnealingWarmRestarts.TMult', '1.5'],
    [() => cosineAnnealingWarmRestarts({ T0: 10, etaMin: -1e-3 }), 'cosineAnnealingWarmRestarts.etaMin', '-0.001'],
    [() => cosineAnnealingWarmRestarts({ T0: 10, etaMin: NaN }), 'cosineAnnealingWarmRestarts.etaMin', 'NaN'],
    [() => sequentialLr(linearLr() as never, []), 'sequentialLr.schedules', 'a function'],
    [() => sequentialLr([], []), 'sequentialLr.schedules', '[] (an array)'],
    [() => sequentialLr([linearLr(), 0.1 as never], [5]), 'sequentialLr.schedules[1]', '0.1'],
    [() => sequentialLr([linearLr(), polynomialLr()], []), 'sequentialLr.milestones', '[] (an array)'],
    [() => sequentialLr([linearLr(), polynomialLr()], [5, 10]), 'sequentialLr.milestones', '[5,10] (an array)'],
    [() => sequentialLr([linearLr(), polynomialLr()], 5 as never), 'sequentialLr.milestones', '5'],
    [() => sequentialLr([linearLr(), polynomialLr()], [0]), 'sequentialLr.milestones[0]', '0'],
    [() => sequentialLr([linearLr(), polynomialLr()], [2.5]), 'sequentialLr.milestones[0]', '2.5'],
    [() => sequentialLr([linearLr(), polynomialLr(), linearLr()], [10, 10]), 'sequentialLr.milestones', '[10,10] (an array)'],
    [() => sequentialLr([linearLr(), polynomialLr(), linearLr()], [10, 4]), 'sequentialLr.milestones', '[10,4] (an array)'],
  ] as const)('%#: %s refused naming %s', (fn, option, shown) => refuses(fn, option, shown));
});

describe('reduceLrOnPlateau: misuse refused before anything changes; counters saved and restored', () => {
  const twin = () => createReferenceOptimizer('sgd', [{ name: 'a', data: new Float32Array(2) }, { name: 'b', data: new Float32Array(3) }], { lr: LRS[0], groups: [{ tensors: ['b'], lr: LRS[1] }] });

  test.each([
    [{ mode: 'minimum' }, 'reduceLrOnPlateau.mode', '"minimum" (a string)'],
    [{ factor: 1 }, 'reduceLrOnPlateau.factor', '1'],
    [{ factor: -0.5 }, 'reduceLrOnPlateau.factor', '-0.5'],
    [{ factor: NaN }, 'reduceLrOnPlateau.factor', 'NaN'],
    [{ factor: '0.5' }, 'reduceLrOnPlateau.factor', '"0.5" (a string)'],
    [{ patience: -1 }, 'reduceLrOnPlateau.patience', '-1'],
    [{ patience: 2.5 }, 'reduceLrOnPlateau.patience', '2.5'],
    [{ threshold: -1e-4 }, 'reduceLrOnPlateau.threshold', '-0.0001'],
    [{ threshold: Infinity }, 'reduceLrOnPlateau.threshold', 'Infinity'],
    [{ thresholdMode: 'relative' }, 'reduceLrOnPlateau.thresholdMode', '"relative" (a string)'],
    [{ cooldown: -2 }, 'reduceLrOnPlateau.cooldown', '-2'],
    [{ cooldown: 0.5 }, 'reduceLrOnPlateau.cooldown', '0.5'],
    [{ minLr: -1 }, 'reduceLrOnPlateau.minLr', '-1'],
    [{ minLr: NaN }, 'reduceLrOnPlateau.minLr', 'NaN'],
    [{ minLr: [0.001] }, 'reduceLrOnPlateau.minLr', '[0.001] (an array)'],
    [{ minLr: [0.001, -1] }, 'reduceLrOnPlateau.minLr[1]', '-1'],
    [{ minLr: [0.001, '0'] }, 'reduceLrOnPlateau.minLr[1]', '"0" (a string)'],
    [{ eps: -1e-8 }, 'reduceLrOnPlateau.eps', '-1e-8'],
    [{ eps: NaN }, 'reduceLrOnPlateau.eps', 'NaN'],
    [{ min_lr: 0.001 }, 'reduceLrOnPlateau', '"min_lr"'],
    [null, 'reduceLrOnPlateau.options', 'null'],
    [[], 'reduceLrOnPlateau.options', '[] (an array)'],
  ] as const)('%j refused naming %s', (options, option, shown) => {
    const optimizer = twin();
    refuses(() => reduceLrOnPlateau(optimizer, options as never), option, shown);
    expect(optimizer.groups.map((g) => g.lr)).toEqual(LRS);
  });

  test('an optimizer that is not one, or has a group without lr, is refused', () => {
    refuses(() => reduceLrOnPlateau(null as never), "reduceLrOnPlateau's optimizer", 'null');
    refuses(() => reduceLrOnPlateau({ groups: [] } as never), "reduceLrOnPlateau's optimizer", '{"groups":[]} (an object)');
    refuses(() => reduceLrOnPlateau({ groups: [{ rho: 0.9 }], setHyperparameters() {} } as never), 'group 0 has no lr', 'undefined');
  });

  test('a metric that is not a number is refused and changes nothing', () => {
    const optimizer = twin();
    const plateau = reduceLrOnPlateau(optimizer, { patience: 0 });
    plateau.step(1);
    const before = plateau.state;
    for (const metric of ['0.5', undefined, null, 1n, [0.5], Promise.resolve(0.5)]) {
      refuses(() => plateau.step(metric as never), "reduceLrOnPlateau.step's metric", metric === '0.5' ? '"0.5" (a string)' : '');
    }
    refuses(() => plateau.step(Promise.resolve(0.5) as never), 'metric', 'did you forget await?');
    expect(plateau.state).toEqual(before);
    expect(optimizer.groups.map((g) => g.lr)).toEqual(LRS);
    plateau.step(2); // patience 0: the first bad metric reduces
    expect(optimizer.groups.map((g) => g.lr)).toEqual(LRS.map((lr) => lr * 0.1));
  });

  test('a refusal from the optimizer leaves the counters as they were', () => {
    let lr = 0.1;
    const optimizer = { groups: [{ get lr() { return lr; } }], setHyperparameters(partial: { lr: number }) { if (partial.lr < 0.05) throw new Error('refused'); lr = partial.lr; } };
    const plateau = reduceLrOnPlateau(optimizer, { patience: 0, factor: 0.3 });
    plateau.step(1);
    const before = plateau.state;
    expect(() => plateau.step(2)).toThrow('refused');
    expect(plateau.state).toEqual(before);
    expect(lr).toBe(0.1);
  });

  test('typed for the GPU optimizer and the CPU twin alike', () => {
    const gpu = (o: Optimizer<AdamOptions>): ReduceLrOnPlateau => reduceLrOnPlateau(o, { factor: 0.5 });
    const cpu = (o: ReferenceOptimizer<AdamOptions>): ReduceLrOnPlateau => reduceLrOnPlateau(o);
    // @ts-expect-error an object without setHyperparameters is not an optimizer
    const wrong = () => reduceLrOnPlateau({ groups: [{ lr: 1 }] });
    expect([gpu, cpu, wrong].every((f) => typeof f === 'function')).toBe(true);
  });

  test.each([
    ['bad calls counted', (st: PlateauState) => st.numBadEpochs > 0],
    ['in cooldown', (st: PlateauState) => st.cooldownCounter > 0],
  ] as const)('state saved through JSON (%s) and loaded into a new plateau continues as the uninterrupted one', (_label, saveWhen) => {
    const options = { patience: 3, factor: 0.5, cooldown: 3 };
    const whole = twin();
    const wholePlateau = reduceLrOnPlateau(whole, options);
    const first = twin();
    const firstPlateau = reduceLrOnPlateau(first, options);
    // Save at the first call from 30 on where the counter under test is non-zero.
    let split = -1;
    const wholeLrs: number[][] = [];
    METRICS.forEach((metric, k) => {
      wholePlateau.step(metric);
      wholeLrs.push(whole.groups.map((g) => g.lr));
      if (split < 0) firstPlateau.step(metric);
      if (split < 0 && k >= 30 && saveWhen(firstPlateau.state)) split = k + 1;
    });
    expect(split).toBeGreaterThan(0);
    const saved = JSON.parse(JSON.stringify({ plateau: firstPlateau.state, lrs: first.groups.map((g) => g.lr) })) as { plateau: PlateauState; lrs: number[] };
    const resumed = twin();
    saved.lrs.forEach((lr, g) => resumed.setHyperparameters({ lr }, g));
    const resumedPlateau = reduceLrOnPlateau(resumed, options);
    resumedPlateau.loadState(saved.plateau);
    const resumedLrs = METRICS.slice(split).map((metric) => {
      resumedPlateau.step(metric);
      return resumed.groups.map((g) => g.lr);
    });
    expect(resumedLrs).toEqual(wholeLrs.slice(split)); // every call's lrs, not only the last
    expect(resumedPlateau.state).toEqual(wholePlateau.state);
    expect(whole.groups[0]!.lr).toBeLessThan(saved.lrs[0]!); // it reduced after the save too
  });

  test('a state saved before any improvement (best ±∞, null in JSON) loads', () => {
    // Before any improvement best is +∞ ('min'), which JSON writes as null.
    const fresh = reduceLrOnPlateau(twin(), { mode: 'max' });
    fresh.loadState(JSON.parse(JSON.stringify(fresh.state)) as PlateauState);
    expect(fresh.state.best).toBe(-Infinity);
  });

  test.each([
    [null, "loadState's argument", 'null'],
    [[1, 0, 0, 0], "loadState's argument", '[1,0,0,0] (an array)'],
    [{ best: 1, numBadEpochs: 0, cooldownCounter: 0, lastEpoch: 0, extra: 1 }, 'loadState', '"extra"'],
    [{ best: NaN, numBadEpochs: 0, cooldownCounter: 0, lastEpoch: 0 }, 'best', 'NaN'],
    [{ best: '1', numBadEpochs: 0, cooldownCounter: 0, lastEpoch: 0 }, 'best', '"1" (a string)'],
    [{ numBadEpochs: 0, cooldownCounter: 0, lastEpoch: 0 }, 'best', 'undefined'],
    [{ best: 1, numBadEpochs: -1, cooldownCounter: 0, lastEpoch: 0 }, 'numBadEpochs', '-1'],
    [{ best: 1, numBadEpochs: 0, cooldownCounter: 1.5, lastEpoch: 0 }, 'cooldownCounter', '1.5'],
    [{ best: 1, numBadEpochs: 0, cooldownCounter: 0, lastEpoch: '3' }, 'lastEpoch', '"3" (a string)'],
    [{ best: 1, numBadEpochs: 0, cooldownCounter: 0 }, 'lastEpoch', 'undefined'],
  ] as const)('loadState(%j) refused naming %s, nothing changed', (saved, field, shown) => {
    const plateau = reduceLrOnPlateau(twin());
    plateau.step(0.5);
    const before = plateau.state;
    refuses(() => plateau.loadState(saved as never), field, shown);
    expect(plateau.state).toEqual(before);
  });
});
