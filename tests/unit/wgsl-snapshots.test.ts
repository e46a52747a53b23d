/**
 * Snapshots of the generated WGSL (tests/wgsl/): the assembled source of each optimizer kernel
 * variant below, and of the accumulate, gradient-statistics and tensor-sums kernels. A change to
 * a generator, a shared .wgsl file or an optimizer's .wgsl shows up here as a diff to review; the
 * files are committed, and CI (which never writes snapshots) fails on any drift. After an
 * intended change: `npx vitest run --project unit tests/unit/wgsl-snapshots.test.ts -u`, then
 * read the diff before committing it.
 */
import { describe, expect, test } from 'vitest';
import type { KernelVariant } from '../../src/engine/kernel-variant.js';
import { kernelSource } from '../../src/engine/wgsl.js';
import { perTensorVariant } from '../../src/engine/per-tensor-step.js';
import { kernelDefines } from '../../src/core/config.js';
import { registry, type OptimizerName } from '../../src/optimizers/registry.js';
import { stateFormatDefines, type StateFormat } from '../../src/state/state-format.js';
import type { KernelDefines, OptimizerDefinition, SlotSpec } from '../../src/core/definition.js';
import { accumulateSource } from '../../src/control/accumulator.js';
import { gradStatsSource } from '../../src/control/grad-stats-pipelines.js';
import { tensorSumsSource } from '../../src/passes/tensor-sums.js';

interface Variant {
  readonly optimizer: OptimizerName;
  readonly format: StateFormat;
  readonly groups?: number;
  readonly gradControl?: boolean;
  readonly stochastic?: boolean;
  /** 8-bit tiles: vec4s per lane (2 for the default block size, 4 for LAMB's partials pass). */
  readonly laneVectors?: number;
  /** The per-tensor step's entry point (tensors without gradient skipped, shaders/per-tensor.wgsl). */
  readonly perTensor?: boolean;
}

/** Options that turn on each optimizer's optional slots, so its snapshot shows them. */
const RICH_OPTIONS: Partial<Record<OptimizerName, object>> = {
  sgd: { momentum: 0.9, nesterov: true },
  rmsprop: { momentum: 0.9, centered: true },
  adam: { amsgrad: true },
  // Cautious updates: the per-tensor sums' bindings and entry points, in f32 and over 8-bit state.
  lion: { cautious: true },
  adamw_schedule_free: { innerMomentum: 0.9 },
  // AdamW beside Muon (HYBRID): its slots and update in the Muon kernel.
  muon: { adamw: {} },
};

/** One kernel per optimizer's .wgsl (adamw and ema_momentum share adam's and sgd's). */
const KERNELS: readonly OptimizerName[] = ['sgd', 'adagrad', 'rmsprop', 'adadelta', 'adam', 'adamax', 'nadam', 'radam', 'rprop', 'lion', 'adamw_schedule_free', 'adamw_schedule_free_paper', 'lamb', 'lars', 'adafactor', 'ademamix'];

const VARIANTS: readonly Variant[] = [
  // Every kernel in f32 (trivial accessors) and, where it has state, in 8 bits.
  ...KERNELS.map((optimizer) => ({ optimizer, format: 'f32' as const })),
  // (Schedule-Free's paper form shares its accessors with the current one: f32 only.)
  ...KERNELS.filter((name) => name !== 'adafactor' && name !== 'adamw_schedule_free_paper').map((optimizer) => ({ optimizer, format: 'q8' as const, laneVectors: 2 })),
  // The 16-bit accessors: squares stored as roots (f16), stochastic rounding, a slot kept in f32
  // (Schedule-Free's z), state stored by partials() (LAMB).
  ...(['adam', 'adamw_schedule_free', 'lamb'] as const).flatMap((optimizer) => [
    { optimizer, format: 'bf16' as const },
    { optimizer, format: 'f16' as const, stochastic: true },
  ]),
  // The engine's flags: groups and gradient control; a layer-wise kernel with both; LAMB's 8-bit
  // partials pass (4 vec4s per lane).
  { optimizer: 'adam', format: 'f32', groups: 2, gradControl: true },
  { optimizer: 'lamb', format: 'f32', groups: 2, gradControl: true },
  { optimizer: 'lamb', format: 'q8', laneVectors: 4 },
  // LAMB's 4-bit partials pass (tiles of 2 vec4s per lane: its sums across 8 lanes of a chunk).
  { optimizer: 'lamb', format: 'q4', laneVectors: 2 },
  // A scalar computed on the device step (AdEMAMix's β₃ₜ from 1 − β₃ₜ): withDeviceStep derives it.
  { optimizer: 'ademamix', format: 'f32', groups: 2, gradControl: true },
  // Muon with AdamW beside it: the Newton–Schulz pass's entry points and the role branch.
  { optimizer: 'muon', format: 'f32' },
  // Prodigy with β₁ > 0 and groups: the chunk table in the sums' scratch (CHUNKS_IN_SCRATCH), a
  // segment uniform, its fold and update: 8 storage buffers.
  { optimizer: 'prodigy', format: 'f32', groups: 2 },
  // The per-tensor step (PyTorch's rule for a grad that is None): one Hyper row per tensor, with groups and 16-bit state.
  { optimizer: 'adam', format: 'bf16', groups: 2, stochastic: true, perTensor: true },
  // Its tiles with 8-bit and 4-bit state (mainBlockwisePerTensor: a tensor without gradient stores nothing).
  // The 4-bit one also holds the plain q4 tile (torchao's maps, two codes per byte, one u32 per lane).
  { optimizer: 'adam', format: 'q8', laneVectors: 2, perTensor: true },
  { optimizer: 'adamw', format: 'q4', laneVectors: 2, perTensor: true },
  // Its per-tensor sums (LAMB): vectorPartials reads the tensor's row and skips a tensor without
  // gradient, here with 8-bit moments, which its partials pass stores by tiles (tensorPartialsBlockwise:
  // a skipped tensor's lanes store nothing). It holds the f32 per-tensor build's sums and mainPerTensor too.
  { optimizer: 'lamb', format: 'q8', laneVectors: 4, perTensor: true },
  // Adafactor's: factorUpdate reads the entry's tensor row and leaves the factors of a tensor without gradient.
  { optimizer: 'adafactor', format: 'f32', perTensor: true },
];

function variantName(v: Variant): string {
  const flags = [v.groups && v.groups > 1 ? 'groups' : '', v.gradControl ? 'control' : '', v.stochastic ? 'stochastic' : '', v.laneVectors ? `lanes${v.laneVectors}` : '', v.perTensor ? 'per-tensor' : ''];
  return [v.optimizer, v.format, ...flags.filter(Boolean)].join('-');
}

/** The kernel flags of a variant, as createOptimizer makes them. */
function variantDefines(v: Variant): KernelDefines {
  const definition = registry[v.optimizer] as OptimizerDefinition<object>;
  const options = { ...definition.defaults, ...RICH_OPTIONS[v.optimizer] };
  const groups = Array.from({ length: v.groups ?? 1 }, () => options);
  return { ...kernelDefines(definition, groups), GRAD_CONTROL: v.gradControl === true, ...stateFormatDefines(v.format), STOCHASTIC: v.stochastic === true };
}

/** The kernel variant createOptimizer makes: `main`, or the blockwise tile of `laneVectors` vec4s per lane. */
function kernelVariant(v: Variant): KernelVariant {
  const definition = registry[v.optimizer] as OptimizerDefinition<any, any>;
  const flags = variantDefines(v);
  if (v.format !== 'q8' && v.format !== 'q4') {
    const main: KernelVariant = { definition, flags, stateFormat: v.format, entryPoint: 'main', grid: { kind: 'vectors', workgroupSize: 64, vectorsPerInvocation: 1 } };
    return v.perTensor ? perTensorVariant(main) : main;
  }
  // The source depends on the vec4s per lane only.
  const laneVectors = v.laneVectors ?? 4;
  const tiles: KernelVariant = { definition, flags, stateFormat: v.format, entryPoint: 'mainBlockwise', grid: { kind: 'tile', tile: { lanes: 64, laneVectors, elements: 256 * laneVectors } } };
  return v.perTensor ? perTensorVariant(tiles) : tiles;
}

const variantSource = (v: Variant): string => kernelSource(kernelVariant(v));

const slotsOf = (v: Variant): readonly SlotSpec[] => registry[v.optimizer].slots(variantDefines(v));

describe('generated WGSL', () => {
  test('the variant names are distinct and few enough to read', () => {
    const names = VARIANTS.map(variantName);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length + 4).toBeLessThanOrEqual(52);
  });

  test.each(VARIANTS.map((v) => [variantName(v), v] as const))('%s', async (name, v) => {
    await expect(variantSource(v)).toMatchFileSnapshot(`../wgsl/${name}.wgsl`);
  });

  test.each([
    ['accumulate', () => accumulateSource()],
    ['grad-stats', () => gradStatsSource(false)],
    ['grad-stats-groups', () => gradStatsSource(true)],
    ['tensor-sums', () => tensorSumsSource()],
  ] as const)('%s', async (name, source) => {
    await expect(source()).toMatchFileSnapshot(`../wgsl/${name}.wgsl`);
  });

  test("no optimizer's .wgsl indexes a state slot: it loads and stores through the accessors", () => {
    for (const optimizer of KERNELS) {
      const code = registry[optimizer].kernel.source.replace(/\/\/.*$/gm, ''); // comments may name a slot
      for (const { wgsl } of slotsOf({ optimizer, format: 'f32' })) {
        expect(code, `${optimizer}: ${wgsl}`).not.toMatch(new RegExp(`\\b${wgsl}\\s*\\[`));
        expect(code, `${optimizer}: ${wgsl}`).toMatch(new RegExp(`\\b${wgsl}(Load|Store)\\(`));
      }
    }
  });

  test('every variant defines one load and one store per slot, whatever its format', () => {
    for (const v of VARIANTS) {
      const source = variantSource(v);
      for (const { wgsl } of slotsOf(v)) {
        expect(source.split(`fn ${wgsl}Load(i: u32) -> vec4<f32>`).length - 1, `${variantName(v)}: ${wgsl}Load`).toBe(1);
        expect(source.split(`fn ${wgsl}Store(i: u32, x: vec4<f32>)`).length - 1, `${variantName(v)}: ${wgsl}Store`).toBe(1);
      }
    }
  });
});
