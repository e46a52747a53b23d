/**
 * WGSL assembly: every kernel's source is made here from the shared files of shaders/, the
 * optimizer's own .wgsl and the generated parts (control structs, `struct Hyper`, bindings, the
 * state slots' accessors). Nothing in a .wgsl file is rewritten: the optimizer's kernel reads and
 * writes its slots through the accessors (`expAvgLoad(i)`, `expAvgStore(i, x)`) in every format.
 */
import { preprocess } from '../core/wgsl-preprocess.js';
import { bindingDeclarations, kernelBindings } from './bindings.js';
import { controlWgsl } from '../control/control-block.js';
import { hyperWgsl } from '../core/scalars.js';
import type { KernelDefines, OptimizerDefinition } from '../core/definition.js';
import { slotCodec, stateFormatOf } from '../state/state-format.js';
import { Q8_MAX_LANE_VECTORS, slotAccessors } from './slot-accessors.js';
import commonSource from '../../shaders/common.wgsl?raw';
import controlSource from '../../shaders/control.wgsl?raw';
import layerwiseSource from '../../shaders/layerwise.wgsl?raw';
import stateFormatSource from '../../shaders/state-format.wgsl?raw';
import q8Source from '../../shaders/q8.wgsl?raw';
import q8LayerwiseSource from '../../shaders/q8-layerwise.wgsl?raw';

/**
 * The complete WGSL of one optimizer kernel variant (defines include MULTI_GROUP, GRAD_CONTROL and
 * LAYERWISE; a layer-wise kernel also gets the `tensorPartials` entry point of layerwise.wgsl).
 * `laneVectors`: with 8-bit state, the vec4s per lane of the tile pipeline the source is for
 * (q8TileShape in src/state/q8.ts); the module's other entry points do not use it.
 */
export function kernelSource(definition: OptimizerDefinition<any, any>, defines: KernelDefines, laneVectors = Q8_MAX_LANE_VECTORS): string {
  const slots = definition.slots(defines);
  const parts = [controlWgsl(), controlSource, hyperWgsl(definition), bindingDeclarations(kernelBindings(slots, defines)), commonSource];
  if (defines.LAYERWISE) parts.push(layerwiseSource);
  const format = stateFormatOf(defines);
  if (format === 'q8') parts.push(q8Source);
  if (slots.some((slot) => slotCodec(slot, format))) parts.push(stateFormatSource);
  const accessors = slotAccessors(slots, defines, laneVectors);
  parts.push(accessors.wgsl);
  if (format === 'q8' && definition.partialsStore) parts.push(q8LayerwiseSource);
  parts.push(definition.kernel.source);
  return preprocess(parts.join('\n'), { ...defines, ...accessors.flags });
}
