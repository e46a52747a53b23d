import { twinMath, type ReferenceUpdate } from '../../../src/index.js';
import type { NsgdScalar } from './definition.js';

const { fr } = twinMath;

/** CPU twin of nsgd.wgsl over a whole tensor: Σg² in element order, then each element, in f32. */
export const nsgdReference: ReferenceUpdate<NsgdScalar> = ({ param, grad, h, begin, end }) => {
  let squares = 0;
  for (let i = begin; i < end; i++) squares = fr(squares + fr(grad[i]! * grad[i]!));
  const root = fr(Math.sqrt(squares));
  // torch.maximum: NaN propagates.
  const norm = Number.isNaN(root) || Number.isNaN(h.eps) ? NaN : Math.max(root, h.eps);
  for (let i = begin; i < end; i++) param[i] = fr(param[i]! + fr(h.negLr * fr(grad[i]! / norm)));
};
