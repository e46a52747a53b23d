/**
 * The update kernel of one optimizer: its variant (flags, state format, the workgroup shape of its
 * element-wise or blockwise `main`), its pipeline, the dispatch grid of each segment, and the other
 * entry points of the same module that passes and mode switches record with the same bind groups.
 */
import type { KernelDefines, OptimizerDefinition } from '../core/definition.js';
import { dispatchGrid, kernelDispatch, type PackedLayout } from '../core/layout.js';
import type { Tile } from '../core/passes.js';
import { q8TileShape, type Quantization } from '../state/q8.js';
import { stateFormatDefines, type StateFormat } from '../state/state-format.js';
import { storageBufferCount } from './bindings.js';
import type { KernelGrid, KernelVariant } from './kernel-variant.js';
import { getKernelPipeline, type KernelPipeline } from './pipelines.js';

export interface UpdateKernel {
  readonly variant: KernelVariant;
  readonly layout: PackedLayout;
  readonly main: KernelPipeline;
  /** Workgroups of `main` per segment. */
  readonly grid: readonly (readonly [number, number])[];
  /** Another entry point of the module (WORKGROUP_SIZE invocations, or a tile). */
  entryPoint(name: string, tile?: Tile): KernelPipeline;
}

/** The kernel flags of a variant: the configuration's, gradient control's and the state format's. */
export function variantFlags(defines: KernelDefines, control: boolean, stateFormat: StateFormat, stochastic: boolean): KernelDefines {
  return { ...defines, GRAD_CONTROL: control, ...stateFormatDefines(stateFormat), STOCHASTIC: stochastic };
}

/** Refuses a variant that binds more storage buffers than the device allows, before anything is made. */
export function checkStorageBuffers(variant: KernelVariant, limits: GPUSupportedLimits): void {
  const count = storageBufferCount(variant);
  if (count > limits.maxStorageBuffersPerShaderStage) {
    throw new RangeError(
      `webgpu-optim: ${variant.definition.name} with these options binds ${count} storage buffers, over the ` +
        `device's maxStorageBuffersPerShaderStage (${limits.maxStorageBuffersPerShaderStage})`,
    );
  }
}

/** The variant of `main`: one workgroup per 8-bit tile, else the parameter set's shape. */
export function mainVariant(args: {
  definition: OptimizerDefinition<any, any>;
  flags: KernelDefines;
  stateFormat: StateFormat;
  quantization: Quantization | undefined;
  workgroupSize: number;
  vectorsPerInvocation: number;
}): KernelVariant {
  const tile = args.quantization && q8TileShape(args.quantization.blockSize);
  const grid: KernelGrid = tile ? { kind: 'tile', tile } : { kind: 'vectors', workgroupSize: args.workgroupSize, vectorsPerInvocation: args.vectorsPerInvocation };
  return { definition: args.definition, flags: args.flags, stateFormat: args.stateFormat, entryPoint: tile ? 'mainBlockwise' : 'main', grid };
}

export function createUpdateKernel(device: GPUDevice, layout: PackedLayout, variant: KernelVariant, workgroupSize: number): UpdateKernel {
  const { grid } = variant;
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  return {
    variant,
    layout,
    main: getKernelPipeline(device, variant),
    grid: layout.segments.map((segment) =>
      grid.kind === 'tile'
        ? dispatchGrid(Math.ceil(segment.elementCount / grid.tile.elements), maxDim, 'a segment of 8-bit state tiles')
        : kernelDispatch(segment, workgroupSize, grid.kind === 'vectors' ? grid.vectorsPerInvocation : 1),
    ),
    entryPoint: (name, tile) => getKernelPipeline(device, { ...variant, entryPoint: name, grid: tile ? { kind: 'tile', tile } : { kind: 'workgroup', workgroupSize } }),
  };
}
