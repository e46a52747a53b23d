/** The options of createParameterSet: what each means, and their checks and defaults. */
import { checkOptionsObject } from '../core/config.js';
import type { LayoutLimits } from '../core/layout.js';
import { CHUNK_REDUCTIONS, defaultChunkReduction, type ChunkReduction } from '../passes/tensor-reduction.js';
import { describeValue } from '../core/describe-value.js';

const PARAMETER_SET_OPTIONS = ['label', 'workgroupSize', 'vectorsPerInvocation', 'chunkReduction', 'limits'];

export interface ParameterSetOptions {
  /** Prefix of every GPU object's label. Default "webgpu-optim". */
  label?: string;
  /** Invocations per workgroup of the optimizer kernels (each updates 4 elements). Default 256. */
  workgroupSize?: number;
  /**
   * vec4s each invocation of the update kernel handles, `workgroupSize` vectors apart (1 to 16).
   * Default 1. The result is the same bit for bit; only the speed changes (see bench/RESULTS.md
   * for the measured effect per adapter).
   */
  vectorsPerInvocation?: number;
  /**
   * How the layer-wise optimizers (LAMB, LARS, Adafactor) sum each 64-element chunk for their
   * per-tensor norms: `'workgroup'` (16 invocations per chunk and a workgroup tree: coalesced,
   * for GPUs) or `'invocation'` (one invocation per chunk, the same tree in registers, no
   * barriers: for CPU adapters such as SwiftShader, which emulate every barrier invocation by
   * invocation, about 4× faster there). The same result bit for bit. Default: `'invocation'` on a
   * fallback (CPU) adapter (`device.adapterInfo.isFallbackAdapter`, or SwiftShader), else `'workgroup'`.
   */
  chunkReduction?: ChunkReduction;
  /**
   * Lower the device limits the packer plans for (never above the device's own), e.g. to force
   * the split into several bindings and dispatches in tests.
   */
  limits?: Partial<LayoutLimits>;
}

/** The options checked, with their defaults filled in. */
export interface ResolvedParameterSetOptions {
  readonly label: string;
  readonly workgroupSize: number;
  readonly vectorsPerInvocation: number;
  readonly chunkReduction: ChunkReduction;
  readonly limits: LayoutLimits;
}

/** Device limits the packer plans for: the device's, lowered by `overrides`. */
export function effectiveLimits(device: GPUDevice, overrides: Partial<LayoutLimits> = {}): LayoutLimits {
  const limits: LayoutLimits = {
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    maxBufferSize: device.limits.maxBufferSize,
  };
  for (const [key, value] of Object.entries(overrides) as [keyof LayoutLimits, number | undefined][]) {
    if (value === undefined) continue;
    if (!(key in limits)) throw new Error(`webgpu-optim: unknown limit "${key}"`);
    if (!Number.isSafeInteger(value) || value <= 0 || value > limits[key]) {
      throw new RangeError(`webgpu-optim: limits.${key} must be a positive integer ≤ the device's ${limits[key]}, got ${describeValue(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}

/** An options object of known keys only. */
function checkOptionKeys(options: ParameterSetOptions): void {
  checkOptionsObject(options, 'createParameterSet options');
  for (const key of Object.keys(options)) {
    if (!PARAMETER_SET_OPTIONS.includes(key)) {
      throw new Error(`webgpu-optim: unknown createParameterSet option "${key}"; known: ${PARAMETER_SET_OPTIONS.join(', ')}`);
    }
  }
}

function resolveLabel(given: unknown): string {
  const label = given ?? 'webgpu-optim';
  if (typeof label !== 'string') throw new TypeError(`webgpu-optim: createParameterSet label must be a string, got ${describeValue(label)}`);
  return label;
}

/** Within what one workgroup of the device may hold. */
function resolveWorkgroupSize(device: GPUDevice, given: number | undefined): number {
  const workgroupSize = given ?? 256;
  if (
    !Number.isSafeInteger(workgroupSize) ||
    workgroupSize < 1 ||
    workgroupSize > device.limits.maxComputeInvocationsPerWorkgroup ||
    workgroupSize > device.limits.maxComputeWorkgroupSizeX
  ) {
    throw new RangeError(
      `webgpu-optim: workgroupSize ${workgroupSize} must be a positive integer within the device's ` +
        `maxComputeInvocationsPerWorkgroup (${device.limits.maxComputeInvocationsPerWorkgroup})`,
    );
  }
  return workgroupSize;
}

function resolveVectorsPerInvocation(given: number | undefined): number {
  const vectorsPerInvocation = given ?? 1;
  if (!Number.isSafeInteger(vectorsPerInvocation) || vectorsPerInvocation < 1 || vectorsPerInvocation > 16) {
    throw new RangeError(`webgpu-optim: vectorsPerInvocation ${String(vectorsPerInvocation)} must be an integer from 1 to 16`);
  }
  return vectorsPerInvocation;
}

function resolveChunkReduction(device: GPUDevice, given: ChunkReduction | undefined): ChunkReduction {
  const chunkReduction = given ?? defaultChunkReduction(device);
  if (!Object.hasOwn(CHUNK_REDUCTIONS, chunkReduction)) {
    throw new RangeError(`webgpu-optim: chunkReduction must be one of ${Object.keys(CHUNK_REDUCTIONS).map((k) => `'${k}'`).join(', ')}, got ${describeValue(chunkReduction)}`);
  }
  return chunkReduction;
}

/** Checks `options` (in the order they are documented) and fills in the defaults. */
export function resolveParameterSetOptions(device: GPUDevice, options: ParameterSetOptions): ResolvedParameterSetOptions {
  checkOptionKeys(options);
  return {
    label: resolveLabel(options.label),
    workgroupSize: resolveWorkgroupSize(device, options.workgroupSize),
    vectorsPerInvocation: resolveVectorsPerInvocation(options.vectorsPerInvocation),
    chunkReduction: resolveChunkReduction(device, options.chunkReduction),
    limits: effectiveLimits(device, options.limits),
  };
}
