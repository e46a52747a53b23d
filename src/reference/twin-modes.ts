/** The CPU twin of the `toEval` / `toTrain` dispatch (optimizers with train/eval modes, e.g. Schedule-Free). */
import { namedScalars, scalarLayout } from '../core/scalars.js';
import type { FrontState, Mode } from '../front/front-state.js';
import type { TwinState } from './twin-state.js';

/** Moves the parameters to the `to` point (nothing when they hold it); refused for optimizers without modes. */
export function switchTwinMode(front: FrontState<any>, twin: TwinState, to: Mode): void {
  const { definition } = twin;
  if (!definition.modes) throw new Error(`webgpu-optim: ${twin.name} has no train/eval modes`);
  if (front.mode === to) return;
  const scalars = front.switchScalars();
  const n = scalarLayout(definition).names.length;
  twin.params.forEach((param, i) => {
    const g = front.config.tensorGroup[i]!;
    definition.modes!.switchTwin({ param, state: twin.state[i]!, h: namedScalars(definition, scalars.subarray(g * n, (g + 1) * n)), to });
  });
  front.mode = to;
}
