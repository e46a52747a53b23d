import type { ReferenceUpdate } from '../../core/definition.js';
import type { RpropScalar } from './definition.js';

import { fr, sign } from '../../core/twin-math.js';

/** CPU twin of rprop.wgsl, every operation rounded to f32. */
export const rpropReference: ReferenceUpdate<RpropScalar> = ({ param, grad, state, h, defines, begin, end }) => {
  const { etaMinus, etaPlus, stepSizeMin, stepSizeMax } = h;
  const prev = state.prev!;
  const stepSize = state.step_size!;
  for (let i = begin; i < end; i++) {
    const g = defines.MAXIMIZE ? -grad[i]! : grad[i]!;
    const s = sign(fr(g * prev[i]!));
    const factor = Number.isNaN(s) ? NaN : s > 0 ? etaPlus : s < 0 ? etaMinus : 1;
    const scaled = fr(stepSize[i]! * factor);
    const step = Number.isNaN(scaled) ? NaN : Math.min(Math.max(scaled, stepSizeMin), stepSizeMax); // torch.clamp keeps NaN
    stepSize[i] = step;
    const kept = s < 0 ? 0 : g; // a flipped sign moves nothing this step and is forgotten
    param[i] = fr(param[i]! - sign(kept) * step);
    prev[i] = kept;
  }
};
