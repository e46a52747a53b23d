/** Scalar helpers of the CPU twins, with torch's NaN semantics (shared, so they are written once). */

/** Rounds to float32: every twin applies it to every operation. */
export const fr = Math.fround;

/** torch.maximum / torch.amax of two values: NaN-propagating. */
export const maximum = (a: number, b: number): number => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));

/** The smallest normal float32. */
const MIN_NORMAL = 2 ** -126;

/**
 * torch.sign (NaN stays NaN), with subnormal values counted as 0, as the kernels do: GPUs may
 * flush subnormals (WGSL allows it), and a sign must not depend on the device.
 */
export const sign = (x: number): number => (Number.isNaN(x) ? NaN : x >= MIN_NORMAL ? 1 : x <= -MIN_NORMAL ? -1 : 0);

/** torch.lerp with a scalar weight, in f32: a + w(b − a) for |w| < ½, else b − (b − a)(1 − w). */
export function lerp(a: number, b: number, w: number): number {
  return Math.abs(w) < 0.5 ? fr(a + fr(w * fr(b - a))) : fr(b - fr(fr(b - a) * fr(1 - w)));
}
