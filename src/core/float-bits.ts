/**
 * The bits of float32 and bfloat16 values, in one place for every layer: the state formats store
 * them (src/state/state-format.ts), the Newton–Schulz twin rounds to bfloat16 as the GPU does.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bits of f32(x). */
export function f32Bits(x: number): number {
  f32[0] = x;
  return u32[0]!;
}

/** The f32 with these bits. */
export function fromF32Bits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0]!;
}

/** The quiet NaN bfloat16 stores for every NaN. */
export const BF16_NAN = 0x7fc0;

/** f32 → bfloat16 bits: the top 16 bits, rounded to nearest even on the 16 dropped ones. */
export function bf16Bits(x: number): number {
  const u = f32Bits(x);
  if ((u & 0x7fffffff) >>> 0 > 0x7f800000) return BF16_NAN;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits → f32 (exact: the bits shifted into the top half). */
export function fromBf16Bits(bits: number): number {
  return fromF32Bits(bits << 16);
}

/** f32(x) rounded to the nearest bfloat16 value (ties to even; NaN stays NaN), as WGSL's nsRound. */
export function roundToBf16(x: number): number {
  return fromBf16Bits(bf16Bits(x));
}
