/**
 * A TF.js optimizer (`tf.Optimizer`) that updates the variables with this library's fused kernel:
 * `model.compile({ optimizer })` → `model.fit`, `optimizer.minimize(f)` and `applyGradients`
 * all work, on the TF.js webgpu backend's own GPUDevice.
 *
 * Per step, on the GPU and in one submission:
 * 1. each gradient is copied into the packed gradient buffer (one `copyBufferToBuffer` per tensor);
 * 2. one dispatch updates every variable (packed parameters and state stay on the GPU);
 * 3. each variable's new values are copied into a buffer from TF.js's pool, which becomes the
 *    variable's value (`variable.assign`), as TF.js's own optimizers give variables new tensors.
 * So 2 copies per tensor and no readback. The copies stay because TF.js owns the gradients'
 * buffers (a new one per step) and a TF.js tensor cannot view a range of the packed buffer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createOptimizer, type Optimizer } from '../engine/optimizer.js';
import { createParameterSet, type ParameterSet } from '../engine/parameters.js';
import { createReferenceOptimizer } from '../reference/optimizer.js';
import { getDefinition, type OptimizerName, type OptimizerOptionsMap } from '../optimizers/registry.js';
import type { OptimizerOptions } from '../core/config.js';
import type { GradClipping } from '../control/training.js';
import type { StateFormat, StochasticRounding } from '../state/state-format.js';
import { bufferOf, flushTfjs, pooledTensor, webgpuBackend } from './backend.js';
import { renamedStateDict, stateDictFromWeights, weightsFromStateDict, type NamedTensor } from './weights.js';
import type { OptimizerStateDict } from '../state/state-dict-types.js';
import { describeValue } from '../core/describe-value.js';

/** Options of the TF.js optimizer: the optimizer's hyperparameters (PyTorch names), groups by variable name, clipping. */
export type TfjsOptimizerOptions<N extends OptimizerName> = OptimizerOptions<OptimizerOptionsMap[N]> & {
  gradClipping?: GradClipping;
  skipNonFinite?: boolean;
  /** 16-bit state (docs/state-formats.md); the weights are f32 either way (dequantized on save, rounded on load). */
  stateFormat?: StateFormat;
  stochasticRounding?: StochasticRounding;
};

/** Options that need code or a loss the optimizer does not see, with what to do instead. */
const REFUSED: Record<string, string> = {
  lrSchedule: 'a schedule is code and would not survive getConfig(); set `optimizer.learningRate` in a callback (e.g. onEpochBegin)',
  lossScaling: 'TF.js computes the loss and its gradients; scale them there',
  accumulation: 'TF.js calls applyGradients once per batch; accumulate gradients before calling it',
  computeGradNorm: 'the norm is read with getLastGradNorm() on the core optimizer, which this class keeps private',
  stepsInFlight: 'one step is recorded per applyGradients call',
};

interface Packed {
  backend: ReturnType<typeof webgpuBackend>;
  params: ParameterSet;
  optimizer: Optimizer<any>;
  variables: tf.Variable[];
  /** Each variable's dataId after our last write: another one means someone assigned to it. */
  written: object[];
  index: Map<string, number>;
  /**
   * State slots that start as a copy of the parameters (Schedule-Free's z), still to be copied at
   * the first step: the parameters arrive on the GPU then, from the variables.
   */
  slotsFromParams: string[];
}

/** A TF.js optimizer running webgpu-optim's fused kernel. See the module comment for the data flow. */
export class WebGPUOptimizer<N extends OptimizerName = OptimizerName> extends tf.Optimizer {
  /** TF.js serialization name (`tf.serialization.registerClass`). */
  static className = 'WebGPUOptimizer';
  readonly optimizerName: N;
  private options: TfjsOptimizerOptions<N>;
  private packed?: Packed;
  /** State from setWeights before the first step, for the variables that step brings. */
  private pending?: OptimizerStateDict<any>;
  /** Schedule-Free's mode before the first step (the variables hold the initial point, which is both). */
  private modeBeforeBuild: 'train' | 'eval' = 'train';
  /** setWeights calls not finished: a step or mode switch now would run before their load. */
  private loadsPending = 0;

  /**
   * @param name an optimizer of this library (`'adam'`, `'sgd'`, …; see `optimizerNames`)
   * @param options its options with PyTorch names and defaults (`{ lr: 1e-3, betas: [0.9, 0.999] }`);
   *   `train.adam(…)` and the other `train.*` factories take TF.js's arguments and defaults instead.
   */
  constructor(name: N, options: TfjsOptimizerOptions<N> = {} as TfjsOptimizerOptions<N>) {
    super();
    getDefinition(name);
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new TypeError(`webgpu-optim/tfjs: options must be an object, got ${describeValue(options)}`);
    }
    for (const [key, why] of Object.entries(REFUSED)) {
      if (key in options) throw new Error(`webgpu-optim/tfjs: option "${key}" is not taken here: ${why}`);
    }
    // The core checks every option (names, ranges, groups); a CPU twin over placeholder tensors
    // named by the groups (and by Muon's adamwTensors) makes it check them now, not at the first step.
    // The placeholders are 1 × 1 matrices: a shape every optimizer takes (Muon alone refuses
    // vectors), so only the options are judged here; the variables' shapes are at the first step.
    const adamwTensors = (options as { adamwTensors?: unknown }).adamwTensors;
    const named = [...(options.groups ?? []).flatMap((g) => (Array.isArray(g?.tensors) ? g.tensors : [])), ...(Array.isArray(adamwTensors) ? adamwTensors : [])];
    createReferenceOptimizer(name, [...new Set(named.map(String))].map((n) => ({ name: n, data: new Float32Array(1), shape: [1, 1] })), options as never);
    this.optimizerName = name;
    this.options = structuredClone(options);
  }

  /** The base learning rate (`lr` of every group). Setting it applies from the next step on. */
  get learningRate(): number {
    return (this.packed?.optimizer.groups[0] as { lr?: number } | undefined)?.lr ?? (this.options as { lr?: number }).lr ?? (getDefinition(this.optimizerName).defaults as { lr: number }).lr;
  }

  set learningRate(lr: number) {
    this.refuseWhileLoading('learningRate');
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new RangeError(`webgpu-optim/tfjs: learningRate must be a finite number >= 0, got ${describeValue(lr)}`);
    }
    this.packed?.optimizer.setHyperparameters({ lr } as never); // every group
    this.options = { ...this.options, lr, groups: this.options.groups?.map((g) => ({ ...g, lr })) } as TfjsOptimizerOptions<N>;
  }

  /**
   * Updates the variables named by `variableGradients` (as `tf.train.*` optimizers do). The first
   * call fixes the set of variables, by identity; later calls must bring gradients for exactly that
   * set. A variable of the set disposed (and perhaps re-created under its name) is refused, with
   * nothing written or counted: create a new optimizer for new variables.
   */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const backend = webgpuBackend('applyGradients');
    this.refuseWhileLoading('applyGradients');
    if (this.mode === 'eval') throw new Error(`webgpu-optim/tfjs: ${this.optimizerName}: the variables hold the averaged point (eval mode); call train() before training`);
    const grads = namedGradients(variableGradients);
    const variables = grads.map(({ name, tensor }) => checkedVariable(name, tensor));
    if (this.packed) {
      checkSameSet(this.packed, grads.map((g) => g.name), backend.device);
      checkSameVariables(this.packed, 'applyGradients');
    }
    const packed = this.packed ?? this.build(backend, variables);
    this.packed = packed;
    this.step(packed, grads);
    this.incrementIterations();
  }

  /**
   * Optimizers with train/eval modes (`adamw_schedule_free`): which point the variables hold.
   * Undefined for the others.
   */
  get mode(): 'train' | 'eval' | undefined {
    if (!getDefinition(this.optimizerName).modes) return undefined;
    return this.packed?.optimizer.mode ?? this.modeBeforeBuild;
  }

  /**
   * Schedule-Free: gives the variables the averaged point, to evaluate or predict with (one
   * dispatch and a copy per variable); training refuses until `train()`.
   */
  eval(): void {
    this.switchMode('eval');
  }

  /** Schedule-Free: gives the variables back the training point. */
  train(): void {
    this.switchMode('train');
  }

  /**
   * TF.js-style weights: `iter`, `step`, Prodigy's whole-set scalars as `setState.<name>`, then
   * `<variable>/<slot>` per state slot (PyTorch slot names). The caller owns the tensors.
   */
  async getWeights(): Promise<NamedTensor[]> {
    this.refuseInEval('getWeights');
    if (!this.packed) return [await this.saveIterations()];
    return weightsFromStateDict(await this.packed.optimizer.stateDict({ dequantize: true }), this.iterations);
  }

  /**
   * Restores `getWeights()` output, by position as TF.js does (the k-th variable's slots go to the
   * k-th variable updated). Checked in full first: on a mismatch nothing changes. Until it
   * resolves, `applyGradients`, `train()` and `eval()` refuse (they would run before the load). Before the first
   * step the state waits for it, checked against the sizes the weights give.
   */
  async setWeights(weights: NamedTensor[]): Promise<void> {
    this.refuseInEval('setWeights');
    this.loadsPending++;
    try {
      const packed = this.packed;
      if (packed) {
        const { stateDict, iterations } = await stateDictFromWeights(await packed.optimizer.stateDict({ dequantize: true }), weights);
        packed.optimizer.loadStateDict(stateDict);
        this.iterations_ = iterations;
        return;
      }
      const pending = await pendingState(this.optimizerName, this.options, weights);
      this.pending = pending.stateDict;
      this.iterations_ = pending.iterations;
    } finally {
      this.loadsPending--;
    }
  }

  /** TF.js serialization: the optimizer's name and options (plain, JSON-safe). */
  getConfig(): tf.serialization.ConfigDict {
    return { optimizer: this.optimizerName, options: structuredClone(this.options) as unknown as tf.serialization.ConfigDict };
  }

  static fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new (cls as unknown as new (name: unknown, options: unknown) => T)(config.optimizer, config.options);
  }

  /** Frees the packed buffers (the variables stay). A later applyGradients starts afresh. */
  dispose(): void {
    this.packed?.optimizer.destroy();
    this.packed?.params.destroy();
    this.packed = undefined;
    super.dispose();
  }

  /** Packs `variables` (copied on the GPU from their buffers) and creates the core optimizer. */
  private build(backend: Packed['backend'], variables: tf.Variable[]): Packed {
    const params = createParameterSet(
      backend.device,
      variables.map((v) => ({ name: v.name, data: new Float32Array(v.size), shape: v.shape })),
      { label: 'webgpu-optim/tfjs' },
    );
    let optimizer: Optimizer<any> | undefined;
    try {
      optimizer = createOptimizer(this.optimizerName, params, this.options as never);
      if (this.pending) optimizer.loadStateDict(this.pendingFor(variables, this.pending));
    } catch (error) {
      optimizer?.destroy();
      params.destroy();
      throw error;
    }
    const slotsFromParams = this.pending ? [] : [...(getDefinition(this.optimizerName).initialFromParams ?? [])];
    this.pending = undefined;
    return { backend, params, optimizer, variables, written: variables.map(() => ({})), index: new Map(variables.map((v, i) => [v.name, i])), slotsFromParams };
  }

  /** The state setWeights left for `variables`; weights with counts only give fresh slots at those counts. */
  private pendingFor(variables: tf.Variable[], pending: OptimizerStateDict<any>): OptimizerStateDict<any> {
    if (pending.tensors.length > 0) return renamedStateDict(checkedPending(pending, variables), variables.map((v) => v.name));
    const twin = createReferenceOptimizer(this.optimizerName, variables.map((v) => ({ name: v.name, data: new Float32Array(v.size), shape: v.shape })), this.options as never);
    return { ...twin.stateDict({ dequantize: true }), step: pending.step, stepCalls: pending.stepCalls };
  }

  /** One update: gradients in, one dispatch, new values out, in one submission. */
  private step(packed: Packed, grads: { name: string; tensor: tf.Tensor }[]): void {
    const sources = grads.map(({ name, tensor }) => ({ slot: packed.params.tensors[packed.index.get(name)!]!, buffer: bufferOf(packed.backend, tensor) }));
    record(packed, (encoder) => {
      for (const { slot, buffer } of sources) encoder.copyBufferToBuffer(buffer, 0, packed.params.gradBuffer, slot.byteOffset, slot.byteLength);
      packed.optimizer.step(encoder);
    });
  }

  private switchMode(to: 'train' | 'eval'): void {
    if (!getDefinition(this.optimizerName).modes) throw new Error(`webgpu-optim/tfjs: ${this.optimizerName} has no train/eval modes`);
    this.refuseWhileLoading(`${to}()`);
    const packed = this.packed;
    if (!packed) {
      this.modeBeforeBuild = to;
      return;
    }
    webgpuBackend(`${to}()`);
    checkSameVariables(packed, `${to}()`);
    if (packed.optimizer.mode !== to) record(packed, (encoder) => (to === 'eval' ? packed.optimizer.eval(encoder) : packed.optimizer.train(encoder)));
  }

  /** Calls are taken in order: a step while setWeights is pending would be overwritten by its load. */
  private refuseWhileLoading(what: string): void {
    if (this.loadsPending > 0) throw new Error(`webgpu-optim/tfjs: ${what}: setWeights is still pending; await it first (its load would overwrite what this call changes)`);
  }

  private refuseInEval(what: string): void {
    if (this.mode === 'eval') throw new Error(`webgpu-optim/tfjs: ${what}: the variables hold the averaged point (eval mode); call train() first`);
  }
}

/**
 * Records `body` into one command buffer between copying in the variables given new values since
 * our last write (model.setWeights, loading, assign) and copying every variable's new values out
 * into buffers from TF.js's pool; one submission, after the commands TF.js has recorded so far.
 */
function record(packed: Packed, body: (encoder: GPUCommandEncoder) => void): void {
  const { backend, params, variables, written } = packed;
  const changed = variables.flatMap((v, i) => (v.dataId === written[i] ? [] : [{ slot: params.tensors[i]!, buffer: bufferOf(backend, v) }]));
  flushTfjs(backend);
  const encoder = backend.device.createCommandEncoder({ label: 'webgpu-optim/tfjs:step' });
  for (const { slot, buffer } of changed) encoder.copyBufferToBuffer(buffer, 0, params.paramBuffer, slot.byteOffset, slot.byteLength);
  for (const slot of packed.slotsFromParams) encoder.copyBufferToBuffer(params.paramBuffer, 0, packed.optimizer.stateBuffers[slot]!, 0, params.paramBuffer.size);
  body(encoder); // may refuse: then nothing was submitted and the copies above are still to do
  packed.slotsFromParams.length = 0;
  const outputs = variables.map((v, i) => {
    const slot = params.tensors[i]!;
    const out = pooledTensor(backend, v.shape);
    encoder.copyBufferToBuffer(params.paramBuffer, slot.byteOffset, out.buffer, 0, slot.byteLength);
    return out.tensor;
  });
  backend.device.queue.submit([encoder.finish()]);
  variables.forEach((v, i) => {
    v.assign(outputs[i]!);
    outputs[i]!.dispose();
    written[i] = v.dataId;
  });
}
tf.serialization.registerClass(WebGPUOptimizer);

function namedGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): { name: string; tensor: tf.Tensor }[] {
  if (variableGradients === null || typeof variableGradients !== 'object') {
    throw new TypeError('webgpu-optim/tfjs: applyGradients needs a map { variableName: gradient } or an array of { name, tensor }');
  }
  const list = Array.isArray(variableGradients)
    ? variableGradients.map((g) => ({ name: g?.name, tensor: g?.tensor }))
    : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
  if (list.length === 0) throw new Error('webgpu-optim/tfjs: applyGradients got no gradients');
  const seen = new Set<string>();
  for (const { name } of list) {
    if (seen.has(name)) throw new Error(`webgpu-optim/tfjs: applyGradients got two gradients for "${name}"`);
    seen.add(name);
  }
  return list as { name: string; tensor: tf.Tensor }[];
}

/** The variable `name` names, after checking its gradient fits it. */
function checkedVariable(name: string, gradient: tf.Tensor | null | undefined): tf.Variable {
  const variable = tf.engine().registeredVariables[name];
  if (!variable) throw new Error(`webgpu-optim/tfjs: applyGradients: no variable named ${JSON.stringify(name)}`);
  if (!(gradient instanceof tf.Tensor)) {
    throw new TypeError(`webgpu-optim/tfjs: applyGradients: the gradient of "${name}" is ${gradient === null ? 'null' : typeof gradient}, not a tensor (every variable of the set needs one each step)`);
  }
  if (gradient.isDisposed) throw new Error(`webgpu-optim/tfjs: applyGradients: the gradient of "${name}" is disposed`);
  if (variable.dtype !== 'float32' || gradient.dtype !== 'float32') {
    throw new TypeError(`webgpu-optim/tfjs: "${name}": only float32 variables and gradients, got ${variable.dtype} and ${gradient.dtype}`);
  }
  if (!tf.util.arraysEqual(variable.shape, gradient.shape)) {
    throw new Error(`webgpu-optim/tfjs: the gradient of "${name}" has shape [${gradient.shape}], the variable [${variable.shape}]`);
  }
  return variable;
}

function checkSameSet(packed: Packed, names: string[], device: GPUDevice): void {
  if (device !== packed.params.device) {
    throw new Error('webgpu-optim/tfjs: the TF.js webgpu backend now runs on another GPUDevice than the one this optimizer packed its state on; create a new optimizer');
  }
  const given = new Set(names); // thousands of variables: no quadratic scan on every step
  const missing = packed.variables.map((v) => v.name).filter((n) => !given.has(n));
  const extra = names.filter((n) => !packed.index.has(n));
  if (missing.length || extra.length) {
    throw new Error(
      `webgpu-optim/tfjs: applyGradients must update the same variables every call (it packs them once): ` +
        `${missing.length ? `missing ${missing.map((n) => `"${n}"`).join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}` +
        `${extra.length ? `new ${extra.map((n) => `"${n}"`).join(', ')}` : ''}. Use one optimizer per set of variables.`,
    );
  }
}

/**
 * The variables packed are the ones TF.js knows under their names now. Names alone would let a
 * variable disposed and re-created under its name (a rebuilt model) be written through the dead
 * one while the live one never trains: such a call is refused before anything is written.
 */
function checkSameVariables(packed: Packed, what: string): void {
  const registered = tf.engine().registeredVariables;
  for (const variable of packed.variables) {
    const now = registered[variable.name];
    if (now === variable && !variable.isDisposed) continue;
    throw new Error(
      `webgpu-optim/tfjs: ${what}: variable "${variable.name}" is not the one this optimizer packed ` +
        `(it was disposed${now ? ' and a new variable took its name' : ''}); create a new optimizer for the new variables`,
    );
  }
}

/**
 * setWeights before the first step: the weights checked in full against a CPU twin over tensors
 * of the sizes they give (the variables are not known yet), as the state dict to load then.
 */
async function pendingState(name: OptimizerName, options: object, weights: NamedTensor[]) {
  if (!Array.isArray(weights)) throw new TypeError('webgpu-optim/tfjs: setWeights needs an array of { name, tensor }');
  const shapes = new Map<string, number[]>();
  for (const w of weights) {
    const cut = typeof w?.name === 'string' ? w.name.lastIndexOf('/') : -1;
    if (cut > 0 && w.tensor instanceof tf.Tensor && !shapes.has(w.name.slice(0, cut))) shapes.set(w.name.slice(0, cut), w.tensor.shape);
  }
  const twin = createReferenceOptimizer(name, [...shapes].map(([n, shape]) => ({ name: n, data: new Float32Array(tf.util.sizeFromShape(shape)), shape })), options as never);
  const result = await stateDictFromWeights(twin.stateDict({ dequantize: true }), weights);
  twin.loadStateDict(result.stateDict); // every remaining check of the core
  return result;
}

/** The pending state, if it fits `variables` (count and shapes, by position). */
function checkedPending(sd: OptimizerStateDict<any>, variables: tf.Variable[]): OptimizerStateDict<any> {
  const fits = sd.tensors.length === variables.length && sd.tensors.every((t, i) => tf.util.arraysEqual(t.shape ?? [t.length], variables[i]!.shape));
  if (!fits) {
    throw new Error(
      `webgpu-optim/tfjs: the state given to setWeights is for ${sd.tensors.length} variables of shapes ${sd.tensors.map((t) => `[${t.shape}]`).join(' ')}; ` +
        `this step updates ${variables.length} of shapes ${variables.map((v) => `[${v.shape}]`).join(' ')}`,
    );
  }
  return sd;
}
