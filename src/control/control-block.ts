/**
 * The GPU-resident control block of the training-control path, defined once: the word offsets the
 * host reads and writes, the WGSL structs the kernels see and the flag bits all come from the
 * lists below. The finalize pass (shaders/grad-stats.wgsl) writes the state words; the host
 * writes the settings at creation and on loadStateDict.
 */
import type { BindingSpec } from '../core/passes.js';
import type { ResolvedTraining } from './training.js';

type WordType = 'u32' | 'f32';

const HEADER = [
  ['skip', 'u32', '1: this step is skipped (non-finite gradients with skipping on, or no step-table entry)'],
  ['stepLo', 'u32', 'optimizer steps taken (skipped steps do not count), low 32 bits'],
  ['stepHi', 'u32', '… high bits: the count is exact to 2^53'],
  ['callsLo', 'u32', 'updates executed, skipped ones included, low 32 bits'],
  ['callsHi', 'u32', '… high bits'],
  ['tableMiss', 'u32', 'sticky: a step found no step-table entry (an engine bug; the host refuses to go on)'],
  ['lossScale', 'f32', 'the loss scale (GradScaler scale)'],
  ['growthTracker', 'u32', 'clean steps since the scale last changed'],
  ['totalNorm', 'f32', 'norm over all tensors of the last step'],
  ['foundInf', 'u32', '1: the last step had a NaN or ±Inf gradient'],
  ['preMultiplier', 'f32', 'what gradients were multiplied by this step (1/scale · average factor)'],
  ['growthFactor', 'f32', 'setting'],
  ['backoffFactor', 'f32', 'setting'],
  ['growthInterval', 'u32', 'setting'],
  ['flags', 'u32', 'setting: CONTROL_FLAGS'],
  ['averageFactor', 'f32', 'setting: 1, or 1/k when averaging k accumulated micro-batches'],
  ['maxNorm', 'f32', 'setting: +Inf when off'],
  ['clipValue', 'f32', 'setting: +Inf when off'],
  ['groupCount', 'u32', 'setting'],
  ['_pad0', 'u32', 'keeps the per-group entries 16-byte aligned'],
] as const satisfies readonly (readonly [string, WordType, string])[];

export type ControlWord = (typeof HEADER)[number][0];

/** Word index of each header field. */
export const CONTROL_WORD = Object.fromEntries(HEADER.map(([name], i) => [name, i])) as Record<ControlWord, number>;
export const CONTROL_HEADER_WORDS = HEADER.length;

/** The control block as the update kernel binds it (when gradient control is on). */
export const CONTROL_BINDING: BindingSpec = { name: 'control', declaration: 'var<storage, read> control: Control', type: 'read-only-storage' };

/** Per-group entry: the clip coefficient, the group's norm, and the step-table values of the step taken. */
export const GROUP_WORD = { multiplier: 0, norm: 1, stepValues: 4 } as const;
export const CONTROL_GROUP_WORDS = 8;

export const CONTROL_FLAGS = {
  dynamicScale: 1,
  skipNonFinite: 2,
  perGroupNorm: 4,
  infNorm: 8,
  lossScaling: 16,
  clipByNorm: 32,
} as const;

function controlFlags(t: ResolvedTraining): number {
  return (
    (t.scaling?.dynamic ? CONTROL_FLAGS.dynamicScale : 0) |
    (t.skipNonFinite ? CONTROL_FLAGS.skipNonFinite : 0) |
    (t.perGroup ? CONTROL_FLAGS.perGroupNorm : 0) |
    (t.normInf ? CONTROL_FLAGS.infNorm : 0) |
    (t.scaling ? CONTROL_FLAGS.lossScaling : 0) |
    (Number.isFinite(t.maxNorm) ? CONTROL_FLAGS.clipByNorm : 0)
  );
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** WGSL: `struct GroupControl`, `struct Control` and the `FLAG_*` constants. */
export function controlWgsl(): string {
  if (CONTROL_HEADER_WORDS % 4 !== 0) throw new Error('webgpu-optim: the control header must be a multiple of 4 words');
  const fields = HEADER.map(([name, type, doc]) => `  ${name}: ${type}, // ${doc}`).join('\n');
  const flags = Object.entries(CONTROL_FLAGS).map(([name, bit]) => `const FLAG_${snake(name)} = ${bit}u;`).join('\n');
  return `// Generated from src/control/control-block.ts.
struct GroupControl {
  multiplier: f32, // clip-by-norm coefficient min(1, maxNorm / (norm + 1e-6)), else 1
  norm: f32,       // this group's gradient norm (after unscaling and value clipping)
  _pad0: f32,
  _pad1: f32,
  stepValues: vec4<f32>, // step-table entry of the device step (see withDeviceStep)
}

struct Control {
${fields}
  groups: array<GroupControl>,
}

${flags}
`;
}

/** The block as it starts: settings filled in, scale at its initial value, every count 0. */
export function initialControlWords(training: ResolvedTraining, groupCount: number): ArrayBuffer {
  const words = CONTROL_HEADER_WORDS + CONTROL_GROUP_WORDS * groupCount;
  const data = new ArrayBuffer(words * 4);
  const f32 = new Float32Array(data);
  const u32 = new Uint32Array(data);
  const W = CONTROL_WORD;
  f32[W.lossScale] = training.scaling?.initScale ?? 1;
  f32[W.preMultiplier] = 1;
  f32[W.growthFactor] = training.scaling?.growthFactor ?? 2;
  f32[W.backoffFactor] = training.scaling?.backoffFactor ?? 0.5;
  u32[W.growthInterval] = training.scaling?.growthInterval ?? 2000;
  u32[W.flags] = controlFlags(training);
  f32[W.averageFactor] = training.average ? 1 / training.accumulationSteps : 1;
  f32[W.maxNorm] = training.maxNorm;
  f32[W.clipValue] = training.clipValue;
  u32[W.groupCount] = groupCount;
  for (let g = 0; g < groupCount; g++) f32[CONTROL_HEADER_WORDS + CONTROL_GROUP_WORDS * g + GROUP_WORD.multiplier] = 1;
  return data;
}

/** A 64-bit count from two u32 words (exact to 2^53). */
export function joinCount(lo: number, hi: number): number {
  return hi * 2 ** 32 + lo;
}

export function splitCount(count: number): [number, number] {
  return [count % 2 ** 32, Math.floor(count / 2 ** 32)];
}

/** The control block as read back (GPU) or kept (CPU twin). */
export interface ControlSnapshot {
  /** Optimizer steps taken (skipped steps do not count). */
  step: number;
  /** Updates executed, skipped ones included. */
  calls: number;
  lossScale: number;
  growthTracker: number;
  /** Norm over all tensors of the last step's gradients (after unscaling and value clipping). */
  totalNorm: number;
  groupNorms: number[];
  foundInf: boolean;
  /** Whether the last step was skipped for non-finite gradients. */
  skipped: boolean;
}

export function decodeControl(data: Float32Array, groupCount: number): ControlSnapshot & { tableMiss: boolean } {
  const u = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const W = CONTROL_WORD;
  return {
    skipped: u[W.skip] !== 0,
    step: joinCount(u[W.stepLo]!, u[W.stepHi]!),
    calls: joinCount(u[W.callsLo]!, u[W.callsHi]!),
    tableMiss: u[W.tableMiss] !== 0,
    lossScale: data[W.lossScale]!,
    growthTracker: u[W.growthTracker]!,
    totalNorm: data[W.totalNorm]!,
    foundInf: u[W.foundInf] !== 0,
    groupNorms: Array.from({ length: groupCount }, (_, g) => data[CONTROL_HEADER_WORDS + CONTROL_GROUP_WORDS * g + GROUP_WORD.norm]!),
  };
}
