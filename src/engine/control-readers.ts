/** The optimizer's reads of the control block (gradient norm, loss scale, the whole block). */
import type { Lifecycle } from '../core/lifecycle.js';
import type { ControlSnapshot } from '../control/control-block.js';
import type { GradientControl } from '../control/gradient-control.js';

export interface ControlReaders {
  getLastGradNorm(): Promise<number>;
  getLossScale(): Promise<number>;
  readControl(): Promise<ControlSnapshot>;
}

export function controlReaders(name: string, control: GradientControl | undefined, scaling: boolean, lifecycle: Lifecycle): ControlReaders {
  return {
    async getLastGradNorm() {
      lifecycle.check();
      if (!control) throw new Error(`webgpu-optim: ${name}: gradient norms are computed only with gradClipping, lossScaling, skipNonFinite or computeGradNorm`);
      return (await control.read()).totalNorm;
    },
    async getLossScale() {
      lifecycle.check();
      if (!control || !scaling) throw new Error(`webgpu-optim: ${name}: no lossScaling configured`);
      return (await control.read()).lossScale;
    },
    async readControl() {
      lifecycle.check();
      if (!control) throw new Error(`webgpu-optim: ${name}: no control path (gradClipping, lossScaling, skipNonFinite or computeGradNorm)`);
      return control.read();
    },
  };
}
