/**
 * How optimizer state is stored: f32 (PyTorch's own), or 16 bits per element (bfloat16 or IEEE
 * half) with all arithmetic in f32. Pure code (no GPU): the bit-exact encoders shared by the CPU
 * twin, the state dicts and the tests; shaders/state-format.wgsl does the same bit operations.
 *
 * Both 16-bit encoders round to nearest, ties to even, on the f32 bits, so they give the same bits
 * on every device (WGSL leaves the rounding of its own f32→f16 conversions, and their overflow, to
 * the implementation). Overflow gives ±Inf, as `tensor.to(torch.bfloat16 / torch.float16)` does;
 * every NaN becomes one canonical quiet NaN, so a NaN moment stays NaN (never 0) through the format.
 */
import { describeValue } from '../core/describe-value.js';
import type { OptimizerDefinition } from '../core/definition.js';
import { BF16_NAN, bf16Bits, f32Bits, fromBf16Bits, fromF32Bits } from '../core/float-bits.js';

// Beside the formats' other encoders (f16Bits, the stochastic ones), where their callers look for them.
export { bf16Bits, f32Bits, fromBf16Bits, fromF32Bits };

/** One storage format of the per-element state slots. */
export interface StateFormatSpec {
  /** Bytes one element of a state slot takes. */
  readonly bytesPerElement: number;
  /** The kernel flag that selects its load/store functions (shaders/state-format.wgsl). */
  readonly flag?: string;
  /** f32 → stored bits (16-bit formats). */
  readonly encode?: (x: number) => number;
  /** Stored bits → f32 (exact). */
  readonly decode?: (bits: number) => number;
  /** f32 → stored bits, rounded stochastically with 32 bits of noise. */
  readonly encodeStochastic?: (x: number, noise: number) => number;
  /**
   * Slots that hold squares (`SlotSpec.squared`) are stored as their square root: f16 ends at
   * 2⁻²⁴ ≈ 6·10⁻⁸, where Adam's second moment of a gradient of 2·10⁻⁴ already is, while its root
   * reaches second moments down to 10⁻¹⁵ (and up to 4·10⁹ instead of 65 504).
   */
  readonly rootOfSquares?: boolean;
}

const F16_NAN = 0x7e00;

/** f32 → IEEE binary16 bits, rounded to nearest even; ±Inf past 65504 (from 65520 on). */
export function f16Bits(x: number): number {
  const u = f32Bits(x);
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a > 0x7f800000) return F16_NAN;
  if (a >= 0x477ff000) return sign | 0x7c00; // ≥ 65520 (halfway to 2^16) rounds to Inf
  if (a >= 0x38800000) {
    // Normal: rebias the exponent (127 → 15), then round the 13 dropped mantissa bits.
    const v = a - 0x38000000;
    return sign | ((v + 0xfff + ((v >>> 13) & 1)) >>> 13);
  }
  if (a <= 0x33000000) return sign; // ≤ 2^-25, half the smallest subnormal: ties to 0 (even)
  // Subnormal: the mantissa with its implicit bit, shifted to units of 2^-24, rounded.
  const shift = 126 - (a >>> 23);
  const m = (a & 0x7fffff) | 0x800000;
  let q = m >>> shift;
  const rem = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (q & 1) === 1)) q += 1;
  return sign | q;
}

/** IEEE binary16 bits → f32 (exact). */
export function fromF16Bits(bits: number): number {
  const negative = (bits & 0x8000) !== 0;
  const e = (bits >>> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return (negative ? -m : m) * 2 ** -24 || (negative ? -0 : 0);
  if (e === 0x1f) return m === 0 ? (negative ? -Infinity : Infinity) : NaN;
  return fromF32Bits(((negative ? 0x80000000 : 0) | ((e + 112) << 23) | (m << 13)) >>> 0);
}

/**
 * 32 noise bits for stochastic rounding: a hash (Wellons' lowbias32, three rounds) of the seed,
 * the update count, the slot's index and the element's place in the packed buffers. The kernel
 * computes the same with u32 arithmetic (shaders/state-format.wgsl).
 */
export function roundingNoise(seed: number, step: number, slot: number, element: number): number {
  const mix = (x: number) => {
    x = (x ^ (x >>> 16)) >>> 0;
    x = Math.imul(x, 0x7feb352d) >>> 0;
    x = (x ^ (x >>> 15)) >>> 0;
    x = Math.imul(x, 0x846ca68b) >>> 0;
    return (x ^ (x >>> 16)) >>> 0;
  };
  return mix((mix((mix((seed ^ Math.imul(step, 0x9e3779b9)) >>> 0) + slot) >>> 0) ^ element) >>> 0);
}

/**
 * f32 → bfloat16 bits, rounded stochastically: up with probability (dropped bits) / 2^16, using the
 * low 16 bits of `noise` (unbiased: the expected stored value is x). NaN as with nearest rounding.
 */
export function bf16BitsStochastic(x: number, noise: number): number {
  const u = f32Bits(x);
  if ((u & 0x7fffffff) >>> 0 > 0x7f800000) return BF16_NAN;
  return ((u + (noise & 0xffff)) >>> 16) & 0xffff;
}

/**
 * f32 → IEEE binary16 bits, rounded stochastically with the low bits of `noise` (13 for normal
 * values, as many as are dropped for subnormal ones). Values below 2^-25 become ±0 (a stochastic
 * step that small is not worth the bits), values from 65 536 up ±Inf.
 */
export function f16BitsStochastic(x: number, noise: number): number {
  const u = f32Bits(x);
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a > 0x7f800000) return F16_NAN;
  if (a >= 0x47800000) return sign | 0x7c00;
  if (a >= 0x38800000) return sign | (((a - 0x38000000) + (noise & 0x1fff)) >>> 13);
  if (a < 0x33000000) return sign;
  const shift = 126 - (a >>> 23); // 14 … 24
  const m = (a & 0x7fffff) | 0x800000;
  return sign | ((m + (noise & ((1 << shift) - 1))) >>> shift);
}

/** The formats, by name: the one list the option, the kernels, the buffers and the dicts derive from. */
export const STATE_FORMATS = {
  f32: { bytesPerElement: 4 },
  bf16: { bytesPerElement: 2, flag: 'STATE_BF16', encode: bf16Bits, decode: fromBf16Bits, encodeStochastic: bf16BitsStochastic },
  f16: { bytesPerElement: 2, flag: 'STATE_F16', encode: f16Bits, decode: fromF16Bits, encodeStochastic: f16BitsStochastic, rootOfSquares: true },
  // 8-bit block-wise (src/state/q8.ts): one byte per element plus one f32 per block; not a per-element codec.
  q8: { bytesPerElement: 1, flag: 'Q8' },
  // 4-bit block-wise (torchao's maps, the same machinery as q8 with two codes per byte).
  q4: { bytesPerElement: 0.5, flag: 'Q4_CODES' },
} as const satisfies Record<string, StateFormatSpec>;

/** `'f32'` (default), `'bf16'`, `'f16'`, `'q8'` or `'q4'`. */
export type StateFormat = keyof typeof STATE_FORMATS;

export const STATE_FORMAT_NAMES = Object.keys(STATE_FORMATS) as StateFormat[];

/** The spec of `format` (typed for the optional members). */
export function stateFormatSpec(format: StateFormat): StateFormatSpec {
  return STATE_FORMATS[format];
}

/** Checks a `stateFormat` option, naming it and its value. */
export function checkStateFormat(value: unknown, what: string): StateFormat {
  if (value === undefined) return 'f32';
  if (typeof value !== 'string' || !Object.hasOwn(STATE_FORMATS, value)) {
    throw new TypeError(`webgpu-optim: ${what}: stateFormat must be one of ${STATE_FORMAT_NAMES.map((f) => `'${f}'`).join(', ')}, got ${describeValue(value)}`);
  }
  return value as StateFormat;
}

/** `stochasticRounding` as given: off, on (seed 0), or on with a seed. */
export type StochasticRounding = boolean | { readonly seed: number };

/**
 * Checks `stochasticRounding` against the format (it rounds 16-bit state only) and returns the seed
 * it asks for, or undefined when it is off.
 */
export function resolveStochasticRounding(value: unknown, format: StateFormat, what: string): number | undefined {
  if (value === undefined || value === false) return undefined;
  let seed = 0;
  if (value !== true) {
    const given = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as { seed?: unknown }).seed : undefined;
    if (given === undefined || Object.keys(value as object).some((k) => k !== 'seed')) {
      throw new TypeError(`webgpu-optim: ${what}: stochasticRounding must be true, false or { seed }, got ${describeValue(value)}`);
    }
    if (!Number.isSafeInteger(given) || (given as number) < 0 || (given as number) >= 2 ** 32) {
      throw new RangeError(`webgpu-optim: ${what}: stochasticRounding.seed must be an integer in [0, 2^32), got ${describeValue(given)}`);
    }
    seed = given as number;
  }
  if (format !== 'bf16' && format !== 'f16') throw new Error(`webgpu-optim: ${what}: stochasticRounding rounds 16-bit state; it needs stateFormat 'bf16' or 'f16' (got '${format}')`);
  return seed;
}

/** The kernel flags of `format`: every format's flag, on for this one only. */
export function stateFormatDefines(format: StateFormat): Record<string, boolean> {
  const spec = stateFormatSpec(format);
  return Object.fromEntries(STATE_FORMAT_NAMES.flatMap((name) => {
    const flag = stateFormatSpec(name).flag;
    return flag ? [[flag, flag === spec.flag]] : [];
  }));
}

/** The format the kernel flags select. */
export function stateFormatOf(defines: Readonly<Record<string, boolean>>): StateFormat {
  return STATE_FORMAT_NAMES.find((name) => {
    const flag = stateFormatSpec(name).flag;
    return flag !== undefined && defines[flag] === true;
  }) ?? 'f32';
}

/** The format slot `slot` is stored in under `format` (f32 for the slots that are always f32). */
export function slotFormat(slot: { readonly alwaysF32?: boolean }, format: StateFormat): StateFormat {
  return slot.alwaysF32 ? 'f32' : format;
}

/** How one 16-bit slot is stored: value → bits and back (the root of a square where the format says so). */
export interface SlotCodec {
  readonly format: StateFormat;
  /** True when the bits hold √x (f16 and a slot of squares). */
  readonly root: boolean;
  encode(x: number): number;
  decode(bits: number): number;
  /** Stochastic rounding with 32 bits of noise (see {@link roundingNoise}). */
  encodeStochastic(x: number, noise: number): number;
}

/** The codec of `slot` under `format`, or undefined where the slot is stored in f32. */
export function slotCodec(slot: { readonly alwaysF32?: boolean; readonly squared?: boolean }, format: StateFormat): SlotCodec | undefined {
  const stored = slotFormat(slot, format);
  const { encode, decode, encodeStochastic, rootOfSquares } = stateFormatSpec(stored);
  if (!encode || !decode || !encodeStochastic) return undefined;
  const root = rootOfSquares === true && slot.squared === true;
  if (!root) return { format: stored, root, encode, decode, encodeStochastic };
  // x = s², s = f16(√x), every operation rounded to f32 as the kernel does (sqrt, then s * s).
  const rootOf = (x: number) => Math.fround(Math.sqrt(x));
  return {
    format: stored,
    root,
    encode: (x) => encode(rootOf(x)),
    decode: (bits) => Math.fround(decode(bits) ** 2),
    encodeStochastic: (x, noise) => encodeStochastic(rootOf(x), noise),
  };
}

/** f32 values → their stored bits. */
export function encodeState(codec: SlotCodec, values: Float32Array): Uint16Array<ArrayBuffer> {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = codec.encode(values[i]!);
  return out;
}

/** Stored bits → f32 values. */
export function decodeState(codec: SlotCodec, bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = codec.decode(bits[i]!);
  return out;
}

/** Rounds values in place to what the slot stores (nothing for f32 slots): the twin of a GPU store. */
export function roundToFormat(codec: SlotCodec | undefined, values: Float32Array, begin = 0, end = values.length): void {
  if (!codec) return;
  for (let i = begin; i < end; i++) values[i] = codec.decode(codec.encode(values[i]!));
}

/**
 * The `stateFormat` option of `definition` (default 'f32'), checked: factored state (Adafactor) is
 * already O(rows + cols) and stays f32.
 */
export function resolveStateFormat(definition: OptimizerDefinition<any, any>, value: unknown, what: string): StateFormat {
  const format = checkStateFormat(value, what);
  if (format !== 'f32' && definition.shapedSlots) {
    throw new Error(`webgpu-optim: ${what}: stateFormat ${JSON.stringify(format)}: ${definition.name} keeps its state factored (O(rows + cols) per matrix) and in f32; use stateFormat 'f32'`);
  }
  return format;
}

/** Whether a format is block-wise quantized ('q8', 'q4'), and its bits per code. */
export function blockwiseCodeBits(format: StateFormat): 8 | 4 | undefined {
  return format === 'q8' ? 8 : format === 'q4' ? 4 : undefined;
}

/**
 * Whether a format is block-wise quantized ('q8', 'q4': codes and absmax, updated by tiles): what
 * every 8-bit path (bindings, WGSL, state storage) asks, so a new such format is one line here.
 */
export const isBlockwise = (format: StateFormat): format is 'q8' | 'q4' => blockwiseCodeBits(format) !== undefined;
