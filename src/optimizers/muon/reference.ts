import type { ReferenceUpdate } from '../../core/definition.js';
import { fr, lerp } from '../../core/twin-math.js';
import { nsMatrixShape } from '../../passes/newton-schulz-table.js';
import { checkWholeTensor } from '../whole-tensor.js';
import type { MuonScalar } from './definition.js';
import { gatherX, normalize, nsStep, orthogonalizedAt } from './newton-schulz-twin.js';
import { adamReference } from '../adam/reference.js';

/** A tensor of a group of role 'adamw': AdamW's own twin (adamReference, DECOUPLED) on the scalars prefixed `adamw`. */
const adamwTwin: ReferenceUpdate<MuonScalar> = (args) => {
  const { h } = args;
  adamReference({
    ...args,
    h: {
      beta1: h.adamwBeta1,
      oneMinusBeta1: h.adamwOneMinusBeta1,
      beta2: h.adamwBeta2,
      oneMinusBeta2: h.adamwOneMinusBeta2,
      negStepSize: h.adamwNegStepSize,
      bc2Sqrt: h.adamwBc2Sqrt,
      eps: h.adamwEps,
      weightDecay: 0,
      decayFactor: h.adamwDecay,
    },
    defines: { DECOUPLED: true, AMSGRAD: false, MAXIMIZE: false, CAUTIOUS: false },
  });
};

/**
 * CPU twin of muon.wgsl and the Newton–Schulz pass on one whole matrix, every operation rounded
 * to f32 in the GPU's order: the momentum (muonGather), X and its norm, `nsSteps` steps, then
 * the update θ·(1 − lr·wd) + f(−lr·s)·O.
 */
export const muonReference: ReferenceUpdate<MuonScalar> = (args) => {
  const { param, grad, state, h, defines, begin, end, shape } = args;
  if (h.adamw !== 0) return adamwTwin(args);
  checkWholeTensor('muon', param, begin, end);
  const buf = state.momentum_buffer!;
  const u = new Float32Array(param.length);
  for (let i = 0; i < param.length; i++) {
    const b = lerp(buf[i]!, grad[i]!, h.oneMinusMomentum);
    buf[i] = b;
    u[i] = defines.NESTEROV ? lerp(grad[i]!, b, h.momentum) : b;
  }
  const matrix = nsMatrixShape(shape);
  let x = gatherX(u, matrix);
  normalize(x, h.eps, h.nsBf16 !== 0);
  const coefficients = h as unknown as Record<string, number>;
  for (let k = 0; k < h.nsSteps; k++) {
    x = nsStep(x, matrix.m, matrix.n, coefficients[`ns${k}a`]!, coefficients[`ns${k}b`]!, coefficients[`ns${k}c`]!, h.nsBf16 !== 0);
  }
  const alpha = fr(h.negLr * (h.matchRmsAdamw !== 0 ? matrix.scaleMatch : matrix.scaleOriginal));
  for (let r = 0; r < matrix.rows; r++) {
    for (let c = 0; c < matrix.cols; c++) {
      const e = r * matrix.cols + c;
      param[e] = fr(fr(param[e]! * h.decay) + fr(alpha * orthogonalizedAt(x, matrix, r, c)));
    }
  }
};
