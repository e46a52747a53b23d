/**
 * The GPU optimizer engine shared by every optimizer: state buffers, the ring of per-step scalar
 * slots, bind groups per segment, and `step()`, which records one compute pass with one dispatch
 * per segment (one in total unless the device limits force a split).
 */
import {
  resolveConfig,
  scalarCount,
  stepScalars,
  updatedGroups,
  type OptimizerOptions,
  type ResolvedConfig,
} from './config.js';
import { createGradientControl, type ControlSnapshot, type GradientControl } from './gradient-control.js';
import { CHUNK_ELEMENTS, alignUp } from './layout.js';
import type { OptimizerDefinition } from './optimizers/definition.js';
import { getDefinition, type OptimizerName, type OptimizerOptionsMap } from './optimizers/registry.js';
import type { ParameterSet } from './parameters.js';
import { getAccumulatePipeline, getKernelPipeline, type KernelPipeline } from './pipeline-cache.js';
import type { LrSchedule } from './schedules.js';
import { resolveTraining, type TrainingOptions } from './training.js';
import { readBuffers } from './readback.js';
import { buildStateDict, checkStateDict, type OptimizerStateDict } from './state-dict.js';

export interface OptimizerCreateOptions {
  /**
   * Scalar slots in the ring: steps that may be recorded into command encoders before those are
   * submitted. Recording more steps than this into one encoder grows the ring automatically;
   * recording them spread over several unsubmitted encoders does not. Default 64.
   */
  stepsInFlight?: number;
}

export interface Optimizer<H extends object = Record<string, unknown>> {
  readonly name: string;
  readonly params: ParameterSet;
  /**
   * Optimizer steps recorded (updates, not micro-batches). PyTorch's `step` unless steps were
   * skipped for non-finite gradients: `stateDict().step` counts only the steps the GPU took.
   */
  readonly stepCount: number;
  /** `step()` calls, micro-batches included (gradient accumulation). */
  readonly microStepCount: number;
  /** Resolved hyperparameters of each group; group 0 holds the tensors no group names. */
  readonly groups: readonly H[];
  /** The packed state buffers by PyTorch slot name (`exp_avg`, …), laid out like `params.paramBuffer`. */
  readonly stateBuffers: Readonly<Record<string, GPUBuffer>>;
  /**
   * Records one update of every tensor from `params.gradBuffer` into `encoder`, or submits it when
   * no encoder is given. No readback, and no GPU object is created.
   */
  step(encoder?: GPUCommandEncoder, options?: StepOptions): void;
  /** Changes hyperparameters of every group, or of one, from the next step on (no new pipeline). */
  setHyperparameters(partial: Partial<H>, group?: number): void;
  /** Replaces the learning-rate schedule (undefined: the groups' `lr` as is). */
  setLrSchedule(schedule: LrSchedule | undefined): void;
  /**
   * Where the loss scale lives on the GPU (f32 at `offset` of `buffer`), for a backward pass that
   * multiplies the loss by it. Only with `lossScaling`.
   */
  readonly lossScale?: { buffer: GPUBuffer; offset: number };
  /** The gradient norm of the last step (over all tensors, after unscaling). Needs the control path. */
  getLastGradNorm(): Promise<number>;
  /** The current loss scale (only with `lossScaling`). */
  getLossScale(): Promise<number>;
  /** The whole control block: device step, scale, norms, whether the last step was skipped. */
  readControl(): Promise<ControlSnapshot>;
  stateDict(): Promise<OptimizerStateDict<H>>;
  loadStateDict(sd: OptimizerStateDict<H>): void;
  /** Frees the state buffers (not the parameter set). */
  destroy(): void;
}

export interface StepOptions {
  /** Timestamp writes for the step's compute pass (profiling with the `timestamp-query` feature). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

interface Ring {
  buffer: GPUBuffer;
  slots: number;
  bindGroups: GPUBindGroup[];
}

/**
 * Creates optimizer `name` over a parameter set.
 *
 * @example
 * const params = createParameterSet(device, [{ name: 'w', data: w0 }, { name: 'b', data: b0 }]);
 * const adam = createOptimizer('adam', params, { lr: 1e-3, groups: [{ tensors: ['b'], weightDecay: 0 }] });
 * // each training step: your backward pass writes params.gradBuffer, then
 * adam.step(encoder);
 */
export function createOptimizer<N extends OptimizerName>(
  name: N,
  params: ParameterSet,
  options?: OptimizerOptions<OptimizerOptionsMap[N]> & OptimizerCreateOptions & TrainingOptions,
): Optimizer<OptimizerOptionsMap[N]>;
export function createOptimizer(
  name: string,
  params: ParameterSet,
  options: OptimizerOptions<any> & OptimizerCreateOptions & TrainingOptions = {},
): Optimizer<any> {
  const definition: OptimizerDefinition<any> = getDefinition(name);
  if (!params || !params.paramBuffer || !params.layout) {
    throw new TypeError('webgpu-optim: createOptimizer needs a ParameterSet from createParameterSet');
  }
  const { stepsInFlight = 64, ...otherOptions } = options ?? {};
  const { training, rest: hyperOptions } = resolveTraining(otherOptions);
  let schedule = training.schedule;
  if (!Number.isSafeInteger(stepsInFlight) || stepsInFlight < 1) {
    throw new RangeError(`webgpu-optim: stepsInFlight must be a positive integer, got ${stepsInFlight}`);
  }
  const { device, layout } = params;
  const tensors = params.tensors;
  let config: ResolvedConfig<any> = resolveConfig(definition, tensors.map((t) => t.name), hyperOptions);
  const slots = definition.slots(config.defines);
  const defines = { ...config.defines, GRAD_CONTROL: training.control };
  const storageBuffersNeeded = 3 + (config.defines.MULTI_GROUP ? 1 : 0) + slots.length + (training.control ? 1 : 0);
  if (storageBuffersNeeded > device.limits.maxStorageBuffersPerShaderStage) {
    throw new RangeError(
      `webgpu-optim: ${name} with these options binds ${storageBuffersNeeded} storage buffers, over the ` +
        `device's maxStorageBuffersPerShaderStage (${device.limits.maxStorageBuffersPerShaderStage})`,
    );
  }
  const label = `${params.label}:${name}`;
  const kernel: KernelPipeline = getKernelPipeline(device, {
    family: definition.family,
    defines,
    slotBindings: slots.map((s) => s.binding),
    workgroupSize: params.workgroupSize,
  });

  // State slots, each packed like the parameters.
  const byteSize = layout.paddedLength * 4;
  const stateBuffers: Record<string, GPUBuffer> = {};
  for (const slot of slots) {
    stateBuffers[slot.name] = device.createBuffer({
      label: `${label}:${slot.name}`,
      size: byteSize,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }
  const writeInitialState = () => {
    for (const slot of slots) {
      const packed = new Float32Array(layout.paddedLength);
      tensors.forEach((t, i) => {
        const value = definition.initialValue(slot.name, config.groups[config.tensorGroup[i]!]);
        if (value !== 0) packed.fill(value, t.offset, t.offset + t.length);
      });
      device.queue.writeBuffer(stateBuffers[slot.name]!, 0, packed);
    }
  };
  writeInitialState();

  // Chunk → group table, one u32 per 64 elements (only when there are several groups).
  let chunkTable: GPUBuffer | undefined;
  if (config.defines.MULTI_GROUP) {
    const table = new Uint32Array(alignUp(layout.paddedLength / CHUNK_ELEMENTS, 64));
    tensors.forEach((t, i) => {
      const first = t.offset / CHUNK_ELEMENTS;
      table.fill(config.tensorGroup[i]!, first, first + Math.ceil(t.length / CHUNK_ELEMENTS));
    });
    chunkTable = device.createBuffer({
      label: `${label}:chunkGroups`,
      size: table.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(chunkTable, 0, table);
  }

  // Training features: the gradient accumulator and the GPU control block.
  const accumulating = training.accumulationSteps > 1;
  const accumulator = accumulating
    ? device.createBuffer({ label: `${label}:accumulatedGrads`, size: byteSize, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC })
    : undefined;
  const accumulate = accumulator ? getAccumulatePipeline(device, params.workgroupSize) : undefined;
  const accumulateBindGroups = accumulator
    ? layout.segments.map((segment, s) =>
        device.createBindGroup({
          label: `${label}:accumulate:segment${s}`,
          layout: accumulate!.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: accumulator, offset: segment.firstElement * 4, size: segment.elementCount * 4 } },
            { binding: 1, resource: { buffer: params.gradBuffer, offset: segment.firstElement * 4, size: segment.elementCount * 4 } },
          ],
        }),
      )
    : [];
  // The update reads the accumulator when accumulating, else the gradient buffer.
  const gradientSource = accumulator ?? params.gradBuffer;
  const control: GradientControl | undefined = training.control
    ? createGradientControl({ device, label, layout, definition, groups: config.groups, training, chunkTable, defines: config.defines, source: gradientSource })
    : undefined;

  // Ring of per-step scalar slots (dynamic offset), one bind group per segment.
  const scalarsPerGroup = scalarCount(definition);
  const slotBytes = alignUp(
    config.groups.length * scalarsPerGroup * 4,
    Math.max(256, device.limits.minStorageBufferOffsetAlignment),
  );
  const retiredRings: GPUBuffer[] = [];
  const makeRing = (slotCount: number): Ring => {
    const buffer = device.createBuffer({
      label: `${label}:scalars×${slotCount}`,
      size: slotBytes * slotCount,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    const bindGroups = layout.segments.map((segment, s) => {
      const range = (buffer: GPUBuffer) => ({ buffer, offset: segment.firstElement * 4, size: segment.elementCount * 4 });
      const entries: GPUBindGroupEntry[] = [
        { binding: 0, resource: { buffer, offset: 0, size: slotBytes } },
        { binding: 1, resource: range(params.paramBuffer) },
        { binding: 2, resource: range(gradientSource) },
      ];
      if (control) entries.push({ binding: 7, resource: { buffer: control.buffer } });
      if (chunkTable) {
        entries.push({
          binding: 3,
          resource: {
            buffer: chunkTable,
            offset: (segment.firstElement / CHUNK_ELEMENTS) * 4,
            size: (segment.elementCount / CHUNK_ELEMENTS) * 4,
          },
        });
      }
      for (const slot of slots) entries.push({ binding: slot.binding, resource: range(stateBuffers[slot.name]!) });
      return device.createBindGroup({ label: `${label}:segment${s}`, layout: kernel.bindGroupLayout, entries });
    });
    return { buffer, slots: slotCount, bindGroups };
  };
  let ring = makeRing(stepsInFlight);
  let ringCursor = 0;
  const stepsPerEncoder = new WeakMap<GPUCommandEncoder, number>();
  const scalarStaging = new Float32Array(slotBytes / 4);

  let stepCount = 0;
  let microStepCount = 0;
  let destroyed = false;
  const checkAlive = () => {
    if (destroyed) throw new Error(`webgpu-optim: ${name}: this optimizer was destroyed`);
  };

  return {
    name,
    params,
    get stepCount() {
      return stepCount;
    },
    get microStepCount() {
      return microStepCount;
    },
    get groups() {
      return config.groups;
    },
    stateBuffers,
    step(encoder, stepOptions) {
      checkAlive();
      // Scalars first: a schedule that returns a bad lr throws before anything is recorded.
      const dueUpdate = (microStepCount + 1) % training.accumulationSteps === 0;
      if (dueUpdate) stepScalars(definition, config.groups, stepCount + 1, scalarStaging, { schedule, deviceStep: training.control });
      const own = encoder ?? device.createCommandEncoder({ label: `${label}:step` });
      if (accumulator) {
        const pass = own.beginComputePass({ label: `${label}:accumulate` });
        pass.setPipeline(accumulate!);
        layout.segments.forEach((segment, s) => {
          pass.setBindGroup(0, accumulateBindGroups[s]!);
          pass.dispatchWorkgroups(segment.workgroupsX, segment.workgroupsY);
        });
        pass.end();
      }
      microStepCount++;
      if (!dueUpdate) {
        if (!encoder) device.queue.submit([own.finish()]);
        return;
      }
      if (encoder) {
        // Each step recorded into one encoder needs its own slot until the encoder is submitted.
        const recorded = (stepsPerEncoder.get(encoder) ?? 0) + 1;
        stepsPerEncoder.set(encoder, recorded);
        if (recorded > ring.slots) {
          retiredRings.push(ring.buffer); // still read by commands already recorded
          ring = makeRing(ring.slots * 2);
          ringCursor = 0;
        }
      }
      const slot = ringCursor;
      ringCursor = (ringCursor + 1) % ring.slots;
      device.queue.writeBuffer(ring.buffer, slot * slotBytes, scalarStaging);
      if (control) {
        control.prepareStep(stepCount + 1);
        control.record(own);
      }
      const pass = own.beginComputePass({ label: `${label}:step`, timestampWrites: stepOptions?.timestampWrites });
      pass.setPipeline(kernel.pipeline);
      layout.segments.forEach((segment, s) => {
        pass.setBindGroup(0, ring.bindGroups[s]!, [slot * slotBytes]);
        pass.dispatchWorkgroups(segment.workgroupsX, segment.workgroupsY);
      });
      pass.end();
      if (accumulator) own.clearBuffer(accumulator);
      if (!encoder) device.queue.submit([own.finish()]);
      stepCount++;
    },
    setHyperparameters(partial, group) {
      checkAlive();
      config = { ...config, groups: updatedGroups(config, partial, group) };
      control?.refreshTable(config.groups, stepCount + 1);
    },
    setLrSchedule(next) {
      if (next !== undefined && typeof next !== 'function') throw new TypeError('webgpu-optim: the lr schedule must be a function (t, baseLr) => lr');
      schedule = next;
    },
    lossScale: control && training.scaling ? { buffer: control.buffer, offset: 8 } : undefined,
    async getLastGradNorm() {
      if (!control) throw new Error(`webgpu-optim: ${name}: gradient norms are computed only with gradClipping, lossScaling, skipNonFinite or computeGradNorm`);
      return (await control.read()).totalNorm;
    },
    async getLossScale() {
      if (!control || !training.scaling) throw new Error(`webgpu-optim: ${name}: no lossScaling configured`);
      return (await control.read()).lossScale;
    },
    async readControl() {
      if (!control) throw new Error(`webgpu-optim: ${name}: no control path (gradClipping, lossScaling, skipNonFinite or computeGradNorm)`);
      return control.read();
    },
    async stateDict() {
      checkAlive();
      const snapshotConfig = config;
      const snapshot = control ? await control.read() : undefined;
      const step = snapshot ? snapshot.step : stepCount;
      const packed = await readBuffers(
        device,
        slots.map((slot) => ({ buffer: stateBuffers[slot.name]!, byteLength: byteSize })),
        `${label}:stateDict`,
      );
      const bySlot = Object.fromEntries(slots.map((slot, k) => [slot.name, packed[k]!]));
      const sd = buildStateDict(snapshotConfig, tensors, step, (i, slot) =>
        bySlot[slot]!.slice(tensors[i]!.offset, tensors[i]!.offset + tensors[i]!.length),
      );
      if (snapshot && training.scaling) sd.scaler = { scale: snapshot.lossScale, growthTracker: snapshot.growthTracker };
      return sd;
    },
    loadStateDict(sd) {
      checkAlive();
      const loaded = checkStateDict(definition, tensors, config, sd);
      if (loaded.groups.length !== config.groups.length ||
          loaded.tensorGroup.some((g, i) => g !== config.tensorGroup[i])) {
        throw new Error(`webgpu-optim: ${name}: cannot load this state dict: its groups hold other tensors`);
      }
      config = loaded;
      stepCount = sd.step;
      microStepCount = sd.step * training.accumulationSteps;
      if (control) {
        control.refreshTable(config.groups, 1);
        control.writeState({ step: sd.step, lossScale: sd.scaler?.scale, growthTracker: sd.scaler?.growthTracker });
      }
      if (accumulator) device.queue.writeBuffer(accumulator, 0, new Float32Array(layout.paddedLength));
      for (const slot of slots) {
        const packed = new Float32Array(layout.paddedLength);
        tensors.forEach((t, i) => {
          const values = sd.state[i]![slot.name];
          if (values) packed.set(values, t.offset);
        });
        device.queue.writeBuffer(stateBuffers[slot.name]!, 0, packed);
      }
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const buffer of Object.values(stateBuffers)) buffer.destroy();
      for (const buffer of retiredRings) buffer.destroy();
      ring.buffer.destroy();
      chunkTable?.destroy();
      control?.destroy();
      accumulator?.destroy();
    },
  };
}
