import type { ReferenceUpdate } from '../../core/definition.js';
import { fr, lerp } from '../../core/twin-math.js';
import type { ScheduleFreePaperScalar } from './definition.js';

/** CPU twin of adamw_schedule_free_paper.wgsl (the step, on y and z), every operation rounded to f32. */
export const scheduleFreePaperReference: ReferenceUpdate<ScheduleFreePaperScalar> = ({ param, grad, state, h, begin, end }) => {
  const { beta2, oneMinusBeta2, eps, weightDecay, ckp1, yCoefficient, negLr } = h;
  const z = state.z!;
  const v = state.exp_avg_sq!;
  for (let i = begin; i < end; i++) {
    const y = param[i]!;
    const g = grad[i]!;
    const vi = fr(fr(v[i]! * beta2) + fr(fr(oneMinusBeta2 * g) * g));
    v[i] = vi;
    let gn = fr(g / fr(fr(Math.sqrt(vi)) + eps));
    if (weightDecay !== 0) gn = fr(gn + fr(weightDecay * y));
    const zi = z[i]!;
    param[i] = fr(lerp(y, zi, ckp1) + fr(yCoefficient * gn));
    z[i] = fr(zi + fr(negLr * gn));
  }
};

/** CPU twin of the mode switch: p = lerp(p, z, weight) (toEvalWeight or toTrainWeight). */
export function switchMode(param: Float32Array, z: Float32Array, weight: number): void {
  for (let i = 0; i < param.length; i++) param[i] = lerp(param[i]!, z[i]!, weight);
}
