/**
 * The scalar schema of an optimizer (definition.scalars) made concrete, for the host packing, the
 * WGSL `struct Hyper`, the CPU twin's named scalars and the step table: one declaration, every
 * consumer derived from it, so the field order cannot disagree anywhere.
 */
import { isStepScalar, type OptimizerDefinition, type Scalars, type ScalarSpec, type StepScalar } from './definition.js';
import { scheduledLr, type LrSchedule } from './schedules.js';

/** Step-dependent scalars one group can have (one vec4<f32> per group in the step table). */
export const MAX_STEP_SCALARS = 4;

const fr = Math.fround;

/**
 * The engine's own field at the end of every `struct Hyper`: the host's update count (1-based, as
 * an f32 integer, modulo 2^24). Stochastic rounding of 16-bit state hashes it, so every update
 * draws new noise, the same on the GPU and in the CPU twin.
 */
export const ROUNDING_STEP = 'roundingStep';
const ROUNDING_STEP_PERIOD = 2 ** 24;

export interface ScalarLayout {
  /** Field names in `struct Hyper` order (the schema's, then {@link ROUNDING_STEP}). */
  readonly names: readonly string[];
  /** The step-dependent fields, in order: entry k of a step-table row belongs to stepFields[k]. */
  readonly stepFields: readonly string[];
  /** Step-dependent fields computed on the control path from the others (`onDeviceStep`), in order. */
  readonly derivedFields: readonly string[];
}

/** The spec of one field. */
function specOf(definition: OptimizerDefinition<any, any>, name: string): ScalarSpec<any> {
  return (definition.scalars as Record<string, ScalarSpec<any>>)[name]!;
}

const layouts = new WeakMap<OptimizerDefinition<any, any>, ScalarLayout>();

export function scalarLayout(definition: OptimizerDefinition<any, any>): ScalarLayout {
  let layout = layouts.get(definition);
  if (!layout) {
    const names = Object.keys(definition.scalars);
    const isDerived = (name: string) => (specOf(definition, name) as StepScalar<unknown>).onDeviceStep !== undefined;
    const stepFields = names.filter((name) => isStepScalar(specOf(definition, name)) && !isDerived(name));
    const derivedFields = names.filter((name) => isStepScalar(specOf(definition, name)) && isDerived(name));
    if (stepFields.length > MAX_STEP_SCALARS) {
      throw new Error(`webgpu-optim: ${definition.name} declares ${stepFields.length} step-dependent scalars; at most ${MAX_STEP_SCALARS}`);
    }
    const divided = derivedFields.find((name) => (specOf(definition, name) as StepScalar<unknown>).combine !== 'replace');
    if (divided) throw new Error(`webgpu-optim: ${definition.name}: scalar ${divided} is computed on the device step (onDeviceStep), so its combine must be 'replace'`);
    layout = { names: [...names, ROUNDING_STEP], stepFields, derivedFields };
    layouts.set(definition, layout);
  }
  return layout;
}

/** The exact float64 value of a step scalar at step t: the one rounding happens when it is stored. */
function exactStepValue<H>(spec: StepScalar<H>, options: H, t: number): number {
  if (spec.exact) return spec.exact(options, t);
  const perStep = spec.perStep(options, t);
  return spec.combine === 'divide' ? spec.base!(options) / perStep : perStep;
}

/**
 * One group's scalars of step t (1-based) in `struct Hyper` order, float64. With `deviceStep`, step
 * fields hold their step-free base (the kernel combines it with the step table's entry).
 */
function groupScalars<H>(definition: OptimizerDefinition<any, any>, options: H, t: number, deviceStep: boolean): number[] {
  return scalarLayout(definition).names.map((name) => {
    if (name === ROUNDING_STEP) return t % ROUNDING_STEP_PERIOD;
    const spec = specOf(definition, name);
    if (!isStepScalar(spec)) return spec.value(options);
    if (!deviceStep) return exactStepValue(spec, options, t);
    return spec.combine === 'divide' ? spec.base!(options) : 0;
  });
}

/** The lr of every group at schedule position `t` (0-based), checked before anything is written. */
function effectiveGroups<H extends object>(definition: OptimizerDefinition<H, any>, groups: readonly H[], schedule: LrSchedule | undefined, t: number): H[] {
  if (!schedule) return [...groups];
  const scheduled = (baseLr: number) => scheduledLr(schedule, t, baseLr);
  if (definition.scheduleLrs) return groups.map((options) => definition.scheduleLrs!(options, scheduled));
  return groups.map((options) => ({ ...options, lr: scheduled((options as { lr: number }).lr) }));
}

/**
 * The scalars of every group for host update `update` (1-based), rounded once to f32, group after
 * group: exactly what the kernel reads. The lr schedule is evaluated at `update − 1`.
 */
export function packScalars<H extends object>(
  definition: OptimizerDefinition<H, any>,
  groups: readonly H[],
  update: number,
  {
    schedule,
    deviceStep = false,
    out,
    step = update,
  }: {
    schedule?: LrSchedule;
    deviceStep?: boolean;
    out?: Float32Array<ArrayBuffer>;
    /** The step t of the step scalars, when not `update` (every tensor skipped as often: PyTorch's own step). */
    step?: number;
  } = {},
): Float32Array<ArrayBuffer> {
  const { names } = scalarLayout(definition);
  const rows = effectiveGroups(definition, groups, schedule, update - 1).map((options) => {
    const row = groupScalars(definition, options, step, deviceStep);
    row[names.indexOf(ROUNDING_STEP)] = update % ROUNDING_STEP_PERIOD;
    return row;
  });
  return roundedRows(definition.name, names, rows, 'group', out ?? new Float32Array(groups.length * names.length));
}

/**
 * `rows` rounded once to f32 into `target`, one after the other. Every value is checked first, so
 * a finite value that float32 cannot hold (an lr of 1e39) is refused, naming the scalar and the
 * row, before anything is written.
 */
function roundedRows(optimizer: string, names: readonly string[], rows: readonly number[][], rowKind: 'group' | 'tensor', target: Float32Array<ArrayBuffer>): Float32Array<ArrayBuffer> {
  const rounded = rows.map((row, r) =>
    row.map((value, k) => {
      const f = fr(value);
      if (!Number.isFinite(f) && Number.isFinite(value)) {
        throw new RangeError(`webgpu-optim: ${optimizer}: scalar ${names[k]} = ${value} of ${rowKind} ${r} overflows float32`);
      }
      return f;
    }),
  );
  rounded.forEach((row, r) => target.set(row, r * row.length));
  return target;
}

/**
 * The per-tensor path's field after {@link ROUNDING_STEP} (a tensor without gradient this step):
 * 1 leaves the tensor's parameters and state untouched, 0 updates it.
 */
export const GRADIENT_ABSENT = 'gradientAbsent';

/**
 * The per-tensor path's rows: one `struct Hyper` per tensor, in tensor order, each with its group's
 * scalars at the tensor's own step (`tensorSteps[i] + 1`, PyTorch's per-parameter `state['step']`),
 * the update count of every row for stochastic rounding, and {@link GRADIENT_ABSENT}. Rounded once
 * to f32 as {@link packScalars}; an absent tensor's row is computed too (its values are not used).
 */
export function packTensorScalars<H extends object>(
  definition: OptimizerDefinition<H, any>,
  groups: readonly H[],
  args: { tensorGroup: readonly number[]; tensorSteps: readonly number[]; present: readonly boolean[]; update: number; schedule?: LrSchedule; out?: Float32Array<ArrayBuffer> },
): Float32Array<ArrayBuffer> {
  const { names } = scalarLayout(definition);
  const effective = effectiveGroups(definition, groups, args.schedule, args.update - 1);
  const rows = args.tensorGroup.map((g, i) => {
    const row = groupScalars(definition, effective[g]!, args.tensorSteps[i]! + 1, false);
    row[names.indexOf(ROUNDING_STEP)] = args.update % ROUNDING_STEP_PERIOD;
    return [...row, args.present[i] ? 0 : 1];
  });
  const fields = [...names, GRADIENT_ABSENT];
  return roundedRows(definition.name, fields, rows, 'tensor', args.out ?? new Float32Array(args.tensorGroup.length * fields.length));
}

/** The step-table values of step t for one group (float64; the table stores them as f32). */
export function stepEntries<H>(definition: OptimizerDefinition<any, any>, options: H, t: number): number[] {
  return scalarLayout(definition).stepFields.map((name) => (specOf(definition, name) as StepScalar<H>).perStep(options, t));
}

/**
 * Combines step-free bases with a step-table entry exactly as the generated WGSL `withDeviceStep`
 * does, in f32, then computes the derived fields (the CPU twin's side of the control path).
 */
export function applyStepEntries(definition: OptimizerDefinition<any, any>, h: Float32Array, entries: readonly number[]): void {
  const { names, stepFields, derivedFields } = scalarLayout(definition);
  stepFields.forEach((name, k) => {
    const index = names.indexOf(name);
    const spec = specOf(definition, name) as StepScalar<unknown>;
    const entry = fr(entries[k]!);
    h[index] = spec.combine === 'divide' ? fr(h[index]! / entry) : entry;
  });
  for (const name of derivedFields) {
    const named = Object.fromEntries(names.map((field, k) => [field, h[k]!]));
    h[names.indexOf(name)] = fr((specOf(definition, name) as StepScalar<unknown>).onDeviceStep!.twin(named));
  }
}

/** The f32 scalars of one group by name, as the CPU twin reads them. */
export function namedScalars<S extends string>(definition: OptimizerDefinition<any, S>, packed: Float32Array): Scalars<S> {
  const out: Record<string, number> = {};
  scalarLayout(definition).names.forEach((name, k) => (out[name] = packed[k]!));
  return out as Scalars<S>;
}

/** WGSL: `struct Hyper` and `withDeviceStep`, generated from the schema. */
export function hyperWgsl(definition: OptimizerDefinition<any, any>, perTensor = false): string {
  const { names, stepFields, derivedFields } = scalarLayout(definition);
  const absent = perTensor ? [`  ${GRADIENT_ABSENT}: f32, // 1: this tensor has no gradient this step (left untouched)`] : [];
  const fields = [...names.map((name) => `  ${name}: f32, // ${name === ROUNDING_STEP ? 'the host update count mod 2^24 (stochastic rounding)' : specOf(definition, name).doc}`), ...absent].join('\n');
  const components = ['x', 'y', 'z', 'w'];
  const combine = stepFields
    .map((name, k) => {
      const spec = specOf(definition, name) as StepScalar<unknown>;
      return spec.combine === 'divide' ? `  h.${name} = h.${name} / s.${components[k]};` : `  h.${name} = s.${components[k]};`;
    })
    .join('\n');
  const derived = derivedFields.map((name) => `\n  h.${name} = ${(specOf(definition, name) as StepScalar<unknown>).onDeviceStep!.wgsl};`).join('');
  return `// Generated from ${definition.name}'s scalar schema (src/core/scalars.ts).
struct Hyper {
${fields}
}

// The step-dependent scalars of the step the GPU takes (control path): bases combined with the
// step table's entry s, in f32.
fn withDeviceStep(h0: Hyper, s: vec4<f32>) -> Hyper {
  var h = h0;
${combine}${derived}
  return h;
}
`;
}
