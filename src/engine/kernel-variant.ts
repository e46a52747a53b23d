/**
 * A kernel variant as a value: which optimizer, its WGSL flags, its state format, the entry point
 * and the workgroup shape it runs with. The pipeline cache keys on {@link variantKey}, the one place
 * that turns a variant into a name; nothing decodes flags back into a format or an entry point.
 */
import type { KernelDefines, OptimizerDefinition } from '../core/definition.js';
import type { Tile } from '../core/passes.js';
import type { StateFormat } from '../state/state-format.js';

/** How an entry point's workgroups are shaped (WGSL override constants). */
export type KernelGrid =
  /** The element-wise update (`main`): WORKGROUP_SIZE invocations of VECTORS_PER_INVOCATION vec4s. */
  | { readonly kind: 'vectors'; readonly workgroupSize: number; readonly vectorsPerInvocation: number }
  /** A blockwise entry point of 8-bit state (`mainBlockwise`, …): one workgroup per tile. */
  | { readonly kind: 'tile'; readonly tile: Tile }
  /** Any other entry point: WORKGROUP_SIZE invocations. */
  | { readonly kind: 'workgroup'; readonly workgroupSize: number };

export interface KernelVariant {
  readonly definition: OptimizerDefinition<any, any>;
  /** `#if NAME` flags: the definition's, MULTI_GROUP, GRAD_CONTROL, its passes', the state format's. */
  readonly flags: KernelDefines;
  readonly stateFormat: StateFormat;
  readonly entryPoint: string;
  readonly grid: KernelGrid;
}

/** The variant's name: the pipeline cache's key and the label of every object made for it. */
export function variantKey(variant: KernelVariant): string {
  const flags = Object.entries(variant.flags)
    .filter(([, on]) => on)
    .map(([name]) => name)
    .sort()
    .join('+');
  const { grid } = variant;
  const shape =
    grid.kind === 'vectors' ? `${grid.workgroupSize}x${grid.vectorsPerInvocation}` : grid.kind === 'tile' ? `tile${grid.tile.lanes}x${grid.tile.laneVectors}` : `${grid.workgroupSize}`;
  return `${variant.definition.name}[${flags}]${variant.stateFormat}:${variant.entryPoint}@${shape}`;
}

/** The WGSL override constants of the variant's entry point. */
export function gridConstants(grid: KernelGrid): Record<string, number> {
  if (grid.kind === 'vectors') return { WORKGROUP_SIZE: grid.workgroupSize, VECTORS_PER_INVOCATION: grid.vectorsPerInvocation };
  if (grid.kind === 'tile') return { TILE_LANES: grid.tile.lanes };
  return { WORKGROUP_SIZE: grid.workgroupSize };
}
