/** Float64 helpers of the layer-wise twins. */

export const norm = (x: readonly number[]) => Math.sqrt(x.reduce((a, v) => a + v * v, 0));

/** optax's scale_by_trust_ratio: η‖p‖ / (‖u‖ + eps), 1 when either norm is 0. */
export const trust = (p: readonly number[], u: readonly number[], eta: number, eps: number) => {
  const pn = norm(p), un = norm(u);
  return pn > 0 && un > 0 ? (eta * pn) / (un + eps) : 1;
};
