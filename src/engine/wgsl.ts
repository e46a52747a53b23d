/**
 * WGSL assembly: every update kernel's source is made here from the shared files of shaders/, the
 * WGSL of its passes, the optimizer's own .wgsl and the generated parts (control structs,
 * `struct Hyper`, bindings, the state slots' accessors). Nothing in a .wgsl file is rewritten: the
 * optimizer's kernel reads and writes its slots through the accessors (`expAvgLoad(i)`,
 * `expAvgStore(i, x)`) in every format.
 */
import { preprocess } from '../core/wgsl-preprocess.js';
import { declaredPasses } from '../core/definition.js';
import { bindingDeclarations, kernelBindings } from './bindings.js';
import { controlWgsl } from '../control/control-block.js';
import { hyperWgsl } from '../core/scalars.js';
import { isBlockwise, slotCodec } from '../state/state-format.js';
import type { KernelVariant } from './kernel-variant.js';
import { Q8_MAX_LANE_VECTORS, slotAccessors } from './slot-accessors.js';
import commonSource from '../../shaders/common.wgsl?raw';
import controlSource from '../../shaders/control.wgsl?raw';
import stateFormatSource from '../../shaders/state-format.wgsl?raw';
import q8Source from '../../shaders/q8.wgsl?raw';
import perTensorSource from '../../shaders/per-tensor.wgsl?raw';
import q4Source from '../../shaders/q4.wgsl?raw';
import q8PerTensorSource from '../../shaders/q8-per-tensor.wgsl?raw';

/**
 * The complete WGSL of one kernel variant. With 8-bit state, the source of a tile pipeline holds as
 * many private values per slot as its lanes hold vec4s (q8TileShape in src/state/q8.ts); the
 * module's other entry points do not use them.
 */
export function kernelSource(variant: KernelVariant, device: { readonly subgroups?: boolean } = {}): string {
  const { definition, flags: defines, stateFormat: format } = variant;
  const slots = definition.slots(defines);
  if (slots.some((slot) => slot.compact) && !defines.COMPACT_SLOT_INDEX) {
    throw new Error(`webgpu-optim: ${definition.name}: a compact slot needs compactSlotIndex, which no declared pass defines (flag COMPACT_SLOT_INDEX)`);
  }
  // 8-bit state that a pass's entry points store (LAMB's moments) is quantized there, by tiles.
  const blockwise = isBlockwise(format) && definition.partialsStore !== undefined;
  const declared = declaredPasses(definition, defines);
  // A pass's subgroup variant where the device has the feature (the extension enabled first).
  const subgroups = device.subgroups === true && declared.some((pass) => pass.subgroups);
  const perTensor = defines.PER_TENSOR === true;
  const passes = declared.flatMap((pass) => (pass.wgsl ? [pass.wgsl({ blockwise, perTensor, subgroups: subgroups && pass.subgroups === true })] : []));
  const parts = [controlWgsl(), controlSource, hyperWgsl(definition, perTensor), bindingDeclarations(kernelBindings(variant)), commonSource, ...passes];
  if (perTensor) parts.push(perTensorSource);
  if (isBlockwise(format)) parts.push(q8Source);
  if (format === 'q4') parts.push(q4Source);
  if (perTensor && isBlockwise(format)) parts.push(q8PerTensorSource);
  if (slots.some((slot) => slotCodec(slot, format))) parts.push(stateFormatSource);
  // Entry points that are not tiles use none of the per-lane values; 4-bit accessors exist for 2 only.
  const laneVectors = variant.grid.kind === 'tile' ? variant.grid.tile.laneVectors : format === 'q4' ? 2 : Q8_MAX_LANE_VECTORS;
  const accessors = slotAccessors(slots, format, defines.STOCHASTIC === true, laneVectors);
  parts.push(accessors.wgsl, definition.kernel.source);
  // PER_TENSOR is named in every variant (false on the plain kernels): an optimizer's own WGSL may test it.
  const source = preprocess(parts.join('\n'), { ...defines, PER_TENSOR: perTensor, ...accessors.flags });
  return subgroups ? `enable subgroups;\n${source}` : source;
}
