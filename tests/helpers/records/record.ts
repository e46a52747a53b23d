/**
 * What the test suites know of one optimizer, in one place (in the spirit of PyTorch's optim_db):
 * the option matrix the parity suites walk, an independent float64 twin of the algorithm and how
 * its state maps to PyTorch's slot names, and the convergence settings. One file per optimizer
 * beside this one; index.ts gathers them, typed so that an optimizer without a record (a built-in
 * in the registry, or a test-only one in TEST_OPTIMIZERS) does not compile.
 */
import type { BuiltinOptimizerName, OptimizerOptions, OptimizerOptionsMap } from '../../../src/index.js';
import type { TEST_OPTIMIZERS } from '../test-optimizers.js';
import type { OptionsOf } from '../test-optimizers.js';

/** Every optimizer the suites test: the built-in ones and those the tests register themselves. */
export type TestOptimizerName = BuiltinOptimizerName | keyof typeof TEST_OPTIMIZERS;

/** Options of each tested optimizer, by name. */
export type TestOptionsMap = Pick<OptimizerOptionsMap, BuiltinOptimizerName> & { [K in keyof typeof TEST_OPTIMIZERS]: OptionsOf<(typeof TEST_OPTIMIZERS)[K]> };

/** One row of an option matrix: options as `createOptimizer` takes them. */
export type OptionRow<K extends TestOptimizerName> = OptimizerOptions<TestOptionsMap[K]>;

/** Float64 state of one element (element-wise twins) by the twin's own keys. */
export type ElementState = Record<string, number>;
/** One float64 step of one element: returns the new parameter, updates `s`. */
export type ElementTwin = (o: any, p: number, g: number, s: ElementState, t: number) => number;
/** A layer-wise optimizer's twin: one step of a whole tensor (`p` updated in place, `s` its state). */
export type TensorTwin = { tensor: (o: any, p: number[], g: Float32Array, s: Record<string, number[]>, t: number, shape: readonly number[]) => void };

/** The layer-wise optimizers: their twins step whole tensors. */
export type TensorWise = 'lamb' | 'lars' | 'adafactor' | 'nsgd' | 'adam' | 'adamw' | 'lion' | 'muon' | 'prodigy';
export type TwinOf<K extends TestOptimizerName> = K extends TensorWise ? TensorTwin : ElementTwin;

/** A convergence run's setting: options, and the batch size (0 = full batch; Rprop is a full-batch method). */
export interface ConvergenceSetting {
  options: Record<string, unknown>;
  batch?: number;
}

/**
 * An optimizer that takes `eps` must name an eps-sensitive row: eps large against what it is added
 * to (the parity gradients are 0.01…10 in magnitude, so √v̂ and √sum go down to ~0.003–0.01, and
 * the small tensors' norms to ~0.01), so that doubling eps in a kernel moves the result far beyond
 * the parity tolerance, where the default eps (1e-8) is lost in the rounding.
 */
type EpsRow<K extends TestOptimizerName> = 'eps' extends keyof TestOptionsMap[K] ? { readonly epsSensitive: OptionRow<K> } : { readonly epsSensitive?: never };

export type TestRecord<K extends TestOptimizerName> = EpsRow<K> & {
  /**
   * Each option on and off; the first row is the plainest configuration, the last the richest
   * (the feature suites walk those two). The option matrix is these rows with `epsSensitive`
   * before the last one (optionMatrix in index.ts).
   */
  readonly rows: readonly OptionRow<K>[];
  /** An independent float64 implementation from the algorithm's published pseudo-code. */
  readonly twin: TwinOf<K>;
  /** Each PyTorch state slot of the optimizer's stateDict → the key its twin keeps the same quantity under. */
  readonly twinSlots: Readonly<Record<string, string>>;
  /**
   * The documented settings (README, "Convergence"). Digits settings for the optimizers the demo's
   * digits end-to-end test does not train (it covers SGD, Nesterov, RMSProp and Adam); a digits step
   * costs a CPU-emulated GPU about 50 moons steps.
   */
  readonly convergence: { readonly moons: ConvergenceSetting; readonly digits?: ConvergenceSetting };
  /** Why 16-bit and 8-bit state (stateFormat) does not apply, where it does not. */
  readonly f32StateOnly?: string;
  /** The rows whose kernel 8-bit state cannot hold (createOptimizer refuses stateFormat 'q8' for them), where some are. */
  readonly noQ8?: (row: OptionRow<K>) => boolean;
  /**
   * The shapes the suites give the tensors of these flat sizes, where the optimizer needs shapes
   * (Muon: matrices); undefined: the flat [size]. Applied by runParity and oneEncoderParity to
   * tensors given without a shape.
   */
  readonly shapes?: (sizes: readonly number[]) => readonly (readonly number[])[];
  /**
   * The option a group of its own sets (and changes for that group alone between steps) in the
   * param-group suites; undefined: lr. Another where lr must be the same in every group (Prodigy:
   * one step size d for the whole set, lr scales it).
   */
  readonly groupOption?: keyof TestOptionsMap[K] & string;
};

/** Identity that checks a record against its optimizer's options. */
export const testRecord = <K extends TestOptimizerName>(_name: K, record: TestRecord<K>): TestRecord<K> => record;
