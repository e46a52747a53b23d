import type { ReferenceUpdate } from '../../core/definition.js';
import type { LambScalar } from './definition.js';

import { tensorSumOfSquares, trustRatio } from '../../passes/tensor-reduction.js';
import { fr } from '../../core/twin-math.js';
import { checkWholeTensor } from '../whole-tensor.js';

/** CPU twin of lamb.wgsl on one whole tensor, every operation rounded to f32, norms in the GPU's order. */
export const lambReference: ReferenceUpdate<LambScalar> = ({ param, grad, state, h, begin, end, stored, storeTensor }) => {
  checkWholeTensor('lamb', param, begin, end);
  const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, bc1, bc2, eps, weightDecay, negLr } = h;
  const m = state.exp_avg!;
  const v = state.exp_avg_sq!;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]!;
    m[i] = stored('exp_avg', fr(fr(oneMinusBeta1 * g) + fr(beta1 * m[i]!)), i);
    v[i] = stored('exp_avg_sq', fr(fr(oneMinusBeta2 * fr(g * g)) + fr(beta2 * v[i]!)), i);
  }
  // The GPU computes u from the moments as stored (rounded or quantized to the state format).
  storeTensor('exp_avg', m);
  storeTensor('exp_avg_sq', v);
  const u = Float32Array.from(param, (p, i) => fr(fr(fr(m[i]! / bc1) / fr(fr(Math.sqrt(fr(v[i]! / bc2))) + eps)) + fr(weightDecay * p)));
  const ratio = trustRatio(tensorSumOfSquares(param), tensorSumOfSquares(u), 1, 0);
  for (let i = 0; i < param.length; i++) param[i] = fr(param[i]! + fr(negLr * fr(ratio * u[i]!)));
};
