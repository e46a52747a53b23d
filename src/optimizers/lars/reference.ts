import type { ReferenceUpdate } from '../../core/definition.js';
import type { LarsScalar } from './definition.js';

import { tensorSumOfSquares, trustRatio as trustRatioOf } from '../../passes/tensor-reduction.js';
import { fr } from '../../core/twin-math.js';
import { checkWholeTensor } from '../whole-tensor.js';

/** CPU twin of lars.wgsl on one whole tensor, every operation rounded to f32, norms in the GPU's order. */
export const larsReference: ReferenceUpdate<LarsScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  checkWholeTensor('lars', param, begin, end);
  const { weightDecay, trustCoefficient, eps, trustRatio, negLr, momentum } = h;
  const trace = state.trace!;
  const u = new Float32Array(param.length);
  for (let i = 0; i < param.length; i++) u[i] = fr(grad[i]! + fr(weightDecay * param[i]!));
  const ratio = trustRatio !== 0 ? trustRatioOf(tensorSumOfSquares(param), tensorSumOfSquares(u), trustCoefficient, eps) : 1;
  for (let i = 0; i < param.length; i++) {
    const step = fr(negLr * fr(ratio * u[i]!));
    const t = fr(step + fr(momentum * trace[i]!));
    trace[i] = t;
    param[i] = fr(param[i]! + (defines.NESTEROV ? fr(step + fr(momentum * t)) : t));
  }
};
