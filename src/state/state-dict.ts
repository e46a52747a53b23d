/**
 * The state dict shared by the GPU optimizer and its CPU reference, its checks on load, and an
 * exact JSON form. Every check runs before the caller changes anything.
 */
import { kernelDefines, resolveConfig, type ResolvedConfig } from '../core/config.js';
import { isStepScalar, type OptimizerDefinition } from '../core/definition.js';
import { elementCount } from '../core/tensors.js';
import type { ResolvedTraining } from '../control/training.js';
import { checkStateFormat, decodeState, slotCodec, type SlotCodec, type StateFormat } from './state-format.js';
import { getDefinition } from '../optimizers/registry.js';
import { tensorOffsets } from '../core/layout.js';
import { readStateDictJSON } from './state-dict-json.js';
import { decodeQ8, isQuantizedSlot, isQuantizedTensor, mapOf, Q8_MAPS, resolveQuantization, runOfElement, tensorRuns, type Quantization } from './q8.js';
import { describeValue, isThenable } from '../core/describe-value.js';
import { isCount, rethrownAs, type Fail } from '../core/refusal.js';

export const STATE_DICT_FORMAT = 'webgpu-optim/state-dict';
export const STATE_DICT_VERSION = 1;

/** A tensor's 8-bit slot: one code per element and the absmax of every block the tensor touches. */
export interface Q8Slot {
  codes: Uint8Array;
  absmax: Float32Array;
}

export interface OptimizerStateDict<H extends object = Record<string, unknown>> {
  /** `"webgpu-optim/state-dict"`, version 1 (absent in hand-made dicts: read as version 1). */
  format?: typeof STATE_DICT_FORMAT;
  version?: number;
  /** Optimizer name, e.g. "adam". */
  optimizer: string;
  /** Optimizer steps taken: PyTorch's `step` state (steps skipped for non-finite gradients do not count). */
  step: number;
  /** Updates made, skipped ones included: the lr schedule's position. Equal to `step` when absent. */
  stepCalls?: number;
  /** Name, length and shape of each tensor, in tensor order (shape absent in older dicts). */
  tensors: { name: string; length: number; shape?: number[] }[];
  /**
   * How the slots are stored: absent (f32), 'bf16', 'f16' or 'q8'. In a 16-bit dict every slot the
   * format applies to is a Uint16Array of the stored bits, exactly as on the GPU; in a q8 dict it is
   * a Q8Slot (codes and absmax) where the tensor is quantized. The slots that are always f32, such
   * as Schedule-Free's `z`, and those of tensors under minQuantizedElements stay Float32Arrays.
   */
  stateFormat?: Exclude<StateFormat, 'f32'>;
  /** stateFormat 'q8': the block size and the size under which tensors keep f32 state. */
  quantization?: Quantization;
  /**
   * `state[i]` holds tensor i's state slots by their PyTorch names (`exp_avg`, `sum`, …), and any
   * scalar state PyTorch keeps per tensor as a number (NAdam's `mu_product`).
   */
  state: Record<string, Float32Array | Uint16Array | Q8Slot | number>[];
  /** Hyperparameters: `groups[0]` is the default group, then the groups given at creation. */
  options: { groups: (H & { tensors: string[] })[] };
  /** Loss-scaler state (GradScaler's scale and growth tracker), with `lossScaling`. */
  scaler?: { scale: number; growthTracker: number };
  /** Gradients accumulated in an unfinished accumulation cycle, and how many micro-batches they hold. */
  accumulation?: { microSteps: number; grads: Float32Array[] };
  /** Optimizers with train/eval modes (Schedule-Free): which point the parameters held when saved. */
  mode?: 'train' | 'eval';
}

export interface TensorInfo {
  name: string;
  length: number;
  shape?: readonly number[];
}

/**
 * The slots tensor i has, with their shapes, given the config: PyTorch leaves some out (e.g. at
 * momentum 0); per-element slots have the tensor's shape, shaped ones (Adafactor's factors) their own.
 */
export function tensorSlots<H extends object>(config: ResolvedConfig<H>, tensor: TensorInfo, tensorIndex: number): readonly { name: string; shape: readonly number[] }[] {
  const group = config.groups[config.tensorGroup[tensorIndex]!]!;
  const shape = tensor.shape ?? [tensor.length];
  return [
    ...config.definition.groupSlots(group, config.defines).map((name) => ({ name, shape })),
    ...(config.definition.shapedSlots?.(shape) ?? []),
  ];
}


/** Tensor i's scalar state at `step` (e.g. NAdam's mu_product), by name. */
function scalarState<H extends object>(config: ResolvedConfig<H>, tensorIndex: number, step: number): Record<string, number> {
  const group = config.groups[config.tensorGroup[tensorIndex]!]!;
  return Object.fromEntries(Object.entries(config.definition.scalarState ?? {}).map(([name, value]) => [name, value(group, step)]));
}

/** The config a dict's `options.groups` describe, over tensors named `names` (group 0 is the default). */
function configOf<H extends object>(definition: OptimizerDefinition<H, any>, names: readonly string[], groups: OptimizerStateDict<H>['options']['groups']): ResolvedConfig<H> {
  const [base, ...rest] = groups;
  const { tensors: _defaultTensors, ...baseOptions } = base!;
  return resolveConfig(definition, names, { ...(baseOptions as Partial<H>), groups: rest.map((g) => ({ ...g })) } as never);
}

/** Each tensor's scalar state at `sd.step` under `sd`'s options (for dicts rebuilt from other forms). */
export function scalarStateOf<H extends object>(definition: OptimizerDefinition<H, any>, sd: OptimizerStateDict<H>): Record<string, number>[] {
  const config = configOf(definition, sd.tensors.map((t) => t.name), sd.options.groups);
  return sd.tensors.map((_, i) => scalarState(config, i, sd.step));
}

export interface Counts {
  step: number;
  stepCalls: number;
  scaler?: { scale: number; growthTracker: number };
  accumulation?: { microSteps: number; grads: Float32Array[] };
  mode?: 'train' | 'eval';
}

export function buildStateDict<H extends object>(
  config: ResolvedConfig<H>,
  tensors: readonly TensorInfo[],
  counts: Counts,
  slotData: (tensorIndex: number, slot: string) => Float32Array | Uint16Array | Q8Slot,
  stateFormat: StateFormat = 'f32',
  quantization?: Quantization,
): OptimizerStateDict<H> {
  const sd: OptimizerStateDict<H> = {
    format: STATE_DICT_FORMAT,
    version: STATE_DICT_VERSION,
    ...(stateFormat === 'f32' ? {} : { stateFormat }),
    ...(quantization ? { quantization: { ...quantization } } : {}),
    optimizer: config.definition.name,
    step: counts.step,
    stepCalls: counts.stepCalls,
    tensors: tensors.map(({ name, length, shape }) => ({ name, length, shape: [...(shape ?? [length])] })),
    state: tensors.map((_, i) => ({
      ...Object.fromEntries(tensorSlots(config, tensors[i]!, i).map(({ name }) => [name, slotData(i, name)])),
      ...scalarState(config, i, counts.step),
    })),
    options: {
      groups: config.groups.map((options, g) => ({
        ...structuredClone(options),
        tensors: tensors.filter((_, i) => config.tensorGroup[i] === g).map((t) => t.name),
      })),
    },
  };
  if (counts.scaler) sd.scaler = counts.scaler;
  if (counts.accumulation) sd.accumulation = counts.accumulation;
  if (counts.mode) sd.mode = counts.mode;
  return sd;
}

/** Options of `stateDict()`. */
export interface StateDictOptions {
  /** Slots in f32 (16-bit ones decoded exactly, 8-bit ones to the values the step loads) and no `stateFormat`: for PyTorch, TF.js or an f32 optimizer. */
  dequantize?: boolean;
}

/** Checks `stateDict()`'s options, naming the call. */
export function checkStateDictOptions(options: unknown, what: string): StateDictOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`webgpu-optim: ${what}: options must be an object, got ${describeValue(options)}`);
  for (const [key, value] of Object.entries(options)) {
    if (key !== 'dequantize') throw new Error(`webgpu-optim: ${what}: unknown option "${key}"; known: dequantize`);
    if (typeof value !== 'boolean') throw new TypeError(`webgpu-optim: ${what}: dequantize must be a boolean, got ${describeValue(value)}`);
  }
  return options as StateDictOptions;
}

/**
 * The same dict with every 16-bit and 8-bit slot decoded to f32 and no `stateFormat` (nor
 * `quantization`): what PyTorch, TF.js and an f32 optimizer read. 16-bit slots decode exactly; an
 * 8-bit slot gives the values the optimizer steps from (each code's map value times its block's
 * absmax). The dict is checked first as a load checks it, against its own tensors and groups: a
 * dict of an unknown format, without its quantization, or with a slot of the wrong type or length
 * is refused (nothing is truncated or made NaN). An f32 dict, once checked, is returned as it is.
 *
 * @example
 * const sd = await adam.stateDict();                      // adam created with stateFormat: 'q8'
 * const plain = dequantizeStateDict(sd);                  // plain.state[0].exp_avg: Float32Array
 */
export function dequantizeStateDict<H extends object>(sd: OptimizerStateDict<H>): OptimizerStateDict<H> {
  return checkedDequantized(sd, 'dequantizeStateDict');
}

/** dequantizeStateDict for the public call `what` (its errors name it). */
export function checkedDequantized<H extends object>(sd: OptimizerStateDict<H>, what: string): OptimizerStateDict<H> {
  const fail = (why: string): never => {
    throw new Error(`webgpu-optim: ${what}: ${why}`);
  };
  checkHeader(sd, fail);
  const definition = rethrownAs(() => getDefinition(sd.optimizer), fail);
  checkIdentity(definition, sd, fail);
  const tensors = ownTensors(sd, fail);
  checkSteps(sd, fail);
  const stored = checkStoredState(definition, tensors, groupsConfig(definition, tensors, sd, fail), sd, fail);
  if (sd.stateFormat === undefined) return sd;
  const { stateFormat: _format, quantization: _quantization, ...rest } = sd;
  const decoded = (i: number, name: string, value: unknown) => (typeof value === 'number' ? value : stored.slotValues(i, name)!);
  return { ...rest, state: sd.state.map((slots, i) => Object.fromEntries(Object.entries(slots).map(([name, value]) => [name, decoded(i, name, value)]))) };
}

/** A tensor's 8-bit slot as f32 values (the tensor at packed `offset`: its runs follow the blocks). */
export function decodeQ8Slot(slot: Q8Slot, map: Float32Array, offset: number, blockSize: number): Float32Array {
  return Float32Array.from(slot.codes, (code, e) => decodeQ8(map, code, slot.absmax[runOfElement(offset, e, blockSize)]!));
}

/** The codec of each per-element slot of this kernel variant in `format` (undefined: stored in f32, as are shaped slots). */
function slotCodecs(definition: OptimizerDefinition<any, any>, config: ResolvedConfig<any>, format: StateFormat): (slot: string) => SlotCodec | undefined {
  const codecs = new Map(definition.slots(config.defines).map((slot) => [slot.name, slotCodec(slot, format)]));
  return (slot) => codecs.get(slot);
}

/** What a checked state dict restores. */
export interface LoadedState<H extends object> {
  config: ResolvedConfig<H>;
  /** Tensor i's slot values in f32 (16- and 8-bit slots decoded), to be stored in the loading optimizer's format. */
  slotValues(tensorIndex: number, slot: string): Float32Array | undefined;
  /** A q8 dict's quantization: where it equals the loading optimizer's, it loads its stored form itself. */
  quantization?: Quantization;
  /** Tensor i's slot as the dict holds it. */
  storedValue(tensorIndex: number, slot: string): Q8Slot | Float32Array | undefined;
  step: number;
  stepCalls: number;
  scaler?: { scale: number; growthTracker: number };
  /** Micro-batches pending in the accumulator, and their summed gradients (tensor order). */
  pendingMicroSteps: number;
  accumulated?: Float32Array[];
  mode?: 'train' | 'eval';
}

function checkFloatArray(value: unknown, length: number, where: string, fail: Fail): void {
  if (!(value instanceof Float32Array) || value.length !== length) fail(`${where} must be a Float32Array of length ${length}`);
}

/** The dict's own tensors (for checks against itself): names, lengths and shapes that agree. */
function ownTensors(sd: OptimizerStateDict<any>, fail: Fail): TensorInfo[] {
  if (!Array.isArray(sd.tensors)) fail('tensors must be an array of { name, length, shape? }');
  return sd.tensors.map((t, i) => {
    if (typeof t?.name !== 'string' || !isCount(t.length)) fail(`tensor ${i} must have a name and a length (a count), got ${JSON.stringify(t)}`);
    const shapeOk = Array.isArray(t.shape) && t.shape.every(isCount) && elementCount(t.shape) === t.length;
    if (t.shape !== undefined && !shapeOk) fail(`tensor ${i} ("${t.name}") has shape ${JSON.stringify(t.shape)}, which does not hold its ${t.length} values`);
    return { name: t.name, length: t.length, shape: t.shape };
  });
}

/**
 * The dict is one of this library's: an object (a Promise is refused as a forgotten `await`, a
 * string as JSON text not yet read), in this format and version, naming its optimizer.
 */
function checkHeader(sd: unknown, fail: Fail): asserts sd is OptimizerStateDict<any> {
  if (isThenable(sd)) fail('the state dict is a Promise: did you forget await? (stateDict() is async: loadStateDict(await other.stateDict()))');
  if (typeof sd === 'string') fail(`the state dict must be an object, got ${describeValue(sd)}: JSON text is read with stateDictFromJSON(text)`);
  if (sd === null || typeof sd !== 'object' || Array.isArray(sd)) fail(`the state dict must be an object, got ${describeValue(sd)}`);
  const header = sd as Partial<OptimizerStateDict<any>>;
  if (header.format !== undefined && header.format !== STATE_DICT_FORMAT) fail(`its format is ${describeValue(header.format)}, not "${STATE_DICT_FORMAT}"`);
  if (header.version !== undefined && header.version !== STATE_DICT_VERSION) fail(`it is version ${describeValue(header.version)}; this library reads version ${STATE_DICT_VERSION}`);
  if (typeof header.optimizer !== 'string') {
    fail(`it names no optimizer ("optimizer" is ${describeValue(header.optimizer)}): not a state dict from stateDict() or stateDictFromJSON()`);
  }
}

/** The dict is one of this library's (checkHeader), of this optimizer. */
function checkIdentity(definition: OptimizerDefinition<any, any>, sd: OptimizerStateDict<any>, fail: Fail): void {
  checkHeader(sd, fail);
  if (sd.optimizer !== definition.name) fail(`it belongs to optimizer "${sd.optimizer}", not ${definition.name}`);
}

/** The dict's tensors are these: the same names and lengths, and the same shape where it has one. */
function checkTensors(tensors: readonly TensorInfo[], sd: OptimizerStateDict<any>, fail: Fail): void {
  if (!Array.isArray(sd.tensors) || sd.tensors.length !== tensors.length) {
    fail(`it has ${Array.isArray(sd.tensors) ? sd.tensors.length : 'no'} tensors, this optimizer ${tensors.length}`);
  }
  sd.tensors.forEach((t, i) => {
    if (t?.name !== tensors[i]!.name || t?.length !== tensors[i]!.length) {
      fail(`tensor ${i} is "${t?.name}" of length ${t?.length}, expected "${tensors[i]!.name}" of length ${tensors[i]!.length}`);
    }
    // Older dicts have no shape; a shape that is there must be this tensor's.
    const own = tensors[i]!.shape ?? [tensors[i]!.length];
    if (t.shape !== undefined && JSON.stringify(t.shape) !== JSON.stringify(own)) {
      fail(`tensor ${i} ("${t.name}") has shape ${JSON.stringify(t.shape)}, this optimizer's is ${JSON.stringify(own)}`);
    }
  });
}

function checkSteps(sd: OptimizerStateDict<any>, fail: Fail): void {
  if (!isCount(sd.step)) fail(`step ${String(sd.step)} is not a count (an integer 0 … 2^53)`);
  const stepCalls = sd.stepCalls ?? sd.step;
  if (!isCount(stepCalls) || stepCalls < sd.step) fail(`stepCalls ${String(sd.stepCalls)} must be a count ≥ step (${sd.step})`);
}

/** The loss scaler's and the accumulation's state fit this optimizer's training options. */
function checkTraining(sd: OptimizerStateDict<any>, training: ResolvedTraining, tensors: readonly TensorInfo[], fail: Fail) {
  if (sd.scaler !== undefined) {
    if (!training.scaling) fail('it holds a loss-scaler state but this optimizer has no lossScaling');
    const { scale, growthTracker } = sd.scaler ?? {};
    if (typeof scale !== 'number' || !(scale > 0) || !Number.isFinite(Math.fround(scale))) fail(`scaler.scale ${String(scale)} must be a finite float32 > 0`);
    if (!isCount(growthTracker) || growthTracker >= 2 ** 32) fail(`scaler.growthTracker ${String(growthTracker)} must be an integer ≥ 0`);
  } else if (training.scaling) {
    // Keeping the current scale would be a silent guess: the dict's run had its own.
    fail('it holds no loss-scaler state (scaler) but this optimizer has lossScaling; add the scaler ({ scale, growthTracker }) to the dict, e.g. from a stateDict() of this optimizer');
  }
  if (sd.accumulation !== undefined) {
    const k = training.accumulationSteps;
    const { microSteps, grads } = sd.accumulation ?? {};
    if (!Number.isSafeInteger(microSteps) || microSteps! < 1 || microSteps! >= k) {
      fail(`accumulation.microSteps ${String(microSteps)} must be an integer in [1, ${k - 1}] (this optimizer accumulates ${k})`);
    }
    if (!Array.isArray(grads) || grads.length !== tensors.length) fail(`accumulation.grads must hold one array per tensor (${tensors.length})`);
    grads!.forEach((g, i) => checkFloatArray(g, tensors[i]!.length, `accumulation.grads[${i}]`, fail));
  }
}

/**
 * State that follows from every step taken (NAdam's mu_product, Schedule-Free's averaging weights)
 * can be computed at the dict's step and the next one: a step count no fold reaches in bounded time
 * is refused here, before anything is loaded, not at the next step().
 */
function checkHistory<H extends object>(definition: OptimizerDefinition<H, any>, config: ResolvedConfig<H>, step: number, fail: Fail): void {
  for (const group of config.groups) {
    for (const spec of Object.values(definition.scalars) as Parameters<typeof isStepScalar<H>>[0][]) {
      if (isStepScalar(spec)) rethrownAs(() => (spec.exact ?? spec.perStep)(group, step + 1), fail);
    }
    for (const value of Object.values(definition.scalarState ?? {})) rethrownAs(() => value(group, step), fail);
  }
}

/** The config the dict's groups describe over these tensors (its option errors named as the dict's). */
function groupsConfig<H extends object>(definition: OptimizerDefinition<H, any>, tensors: readonly TensorInfo[], sd: OptimizerStateDict<H>, fail: Fail): ResolvedConfig<H> {
  if (!Array.isArray(sd.options?.groups) || sd.options.groups.length === 0) fail('options.groups is missing');
  return rethrownAs(() => configOf(definition, tensors.map((t) => t.name), sd.options.groups), (why) => fail(`options.groups: ${why}`));
}

/** The dict's stateFormat and quantization, checked. */
function storedFormat(sd: OptimizerStateDict<any>, fail: Fail): { format: StateFormat; quantization?: Quantization } {
  const format = sd.stateFormat === undefined ? 'f32' : rethrownAs(() => checkStateFormat(sd.stateFormat, 'the dict'), fail);
  if (format !== 'q8') {
    if (sd.quantization !== undefined) fail(`it has a quantization but stateFormat ${JSON.stringify(sd.stateFormat ?? 'f32')}`);
    return { format };
  }
  if (sd.quantization === undefined) fail("stateFormat 'q8' needs its quantization (blockSize, minQuantizedElements)");
  return { format, quantization: rethrownAs(() => resolveQuantization(sd.quantization, true, 'the dict')!, fail) };
}

/** What a dict's checked slots hold: each slot in f32 (16- and 8-bit ones decoded). */
interface StoredState {
  quantization?: Quantization;
  slotValues(tensorIndex: number, slot: string): Float32Array | undefined;
}

/**
 * The dict's state under `config`: one entry per tensor with exactly its slots, each of the type
 * and length its format stores (Float32Array, the Uint16Array of 16-bit bits, or an 8-bit slot's
 * codes and absmax), and the scalar state that follows from its step.
 */
function checkStoredState<H extends object>(definition: OptimizerDefinition<H, any>, tensors: readonly TensorInfo[], config: ResolvedConfig<H>, sd: OptimizerStateDict<H>, fail: Fail): StoredState {
  if (!Array.isArray(sd.state) || sd.state.length !== tensors.length) fail('state must have one entry per tensor');
  const { format, quantization } = storedFormat(sd, fail);
  const codecOf = slotCodecs(definition, config, format);
  const specs = new Map(definition.slots(config.defines).map((slot) => [slot.name, slot]));
  const offsets = tensorOffsets(tensors.map((t) => t.length));
  /** An 8-bit slot of tensor i in this dict (its tensor is large enough and the slot is quantized). */
  const isQ8 = (i: number, slot: string) => quantization !== undefined && specs.has(slot) && isQuantizedSlot(specs.get(slot)!) && isQuantizedTensor(tensors[i]!.length, quantization);
  const checkQ8 = (value: unknown, i: number, slot: string) => {
    const length = tensors[i]!.length;
    const runs = tensorRuns({ offset: offsets[i]!, length }, quantization!.blockSize);
    const q = value as Q8Slot | undefined;
    if (q === null || typeof q !== 'object' || !(q.codes instanceof Uint8Array) || q.codes.length !== length || !(q.absmax instanceof Float32Array) || q.absmax.length !== runs) {
      fail(`state[${i}].${slot} must be { codes: Uint8Array of length ${length}, absmax: Float32Array of length ${runs} } (stateFormat 'q8', blocks of ${quantization!.blockSize})`);
    }
  };
  const checkSlot = (value: unknown, i: number, name: string, shape: readonly number[]) => {
    if (isQ8(i, name)) checkQ8(value, i, name);
    else if (!codecOf(name)) checkFloatArray(value, elementCount(shape), `state[${i}].${name}`, fail);
    else if (!(value instanceof Uint16Array) || value.length !== elementCount(shape)) {
      fail(`state[${i}].${name} must be a Uint16Array of length ${elementCount(shape)} (the ${format} bits of stateFormat ${JSON.stringify(format)})`);
    }
  };
  sd.state.forEach((slots, i) => {
    const scalars = scalarState(config, i, sd.step);
    const own = tensorSlots(config, tensors[i]!, i);
    const expected = [...own.map((s) => s.name), ...Object.keys(scalars)].sort();
    const got = Object.keys(slots ?? {}).sort();
    if (JSON.stringify(expected) !== JSON.stringify(got)) {
      fail(`tensor "${tensors[i]!.name}" has slots [${got}], expected [${expected}]`);
    }
    for (const { name, shape } of own) checkSlot(slots[name], i, name, shape);
    for (const [name, value] of Object.entries(scalars)) {
      if (slots[name] !== value) {
        fail(`state[${i}].${name} is ${String(slots[name])}; at step ${sd.step} with these options it is ${value} (it follows from the steps taken)`);
      }
    }
  });
  return {
    quantization,
    slotValues(i, slot) {
      const value = sd.state[i]![slot];
      if (isQ8(i, slot)) return decodeQ8Slot(value as Q8Slot, Q8_MAPS[mapOf(specs.get(slot)!)], offsets[i]!, quantization!.blockSize);
      return value instanceof Uint16Array ? decodeState(codecOf(slot)!, value) : (value as Float32Array | undefined);
    },
  };
}

/**
 * Checks a state dict against this optimizer and these tensors and returns what it restores.
 * Throws (and the caller changes nothing) for another optimizer, other tensors, other group
 * membership, missing or extra slots, wrong lengths, bad counts or scaler state, or
 * hyperparameters that need another kernel variant.
 */
export function checkStateDict<H extends object>(
  definition: OptimizerDefinition<H, any>,
  tensors: readonly TensorInfo[],
  current: ResolvedConfig<H>,
  training: ResolvedTraining,
  sd: OptimizerStateDict<H>,
): LoadedState<H> {
  const fail = (why: string): never => {
    throw new Error(`webgpu-optim: ${definition.name}: cannot load this state dict: ${why}`);
  };
  checkIdentity(definition, sd, fail);
  checkTensors(tensors, sd, fail);
  checkSteps(sd, fail);
  checkTraining(sd, training, tensors, fail);
  if (sd.mode !== undefined && !(definition.modes && (sd.mode === 'train' || sd.mode === 'eval'))) {
    fail(definition.modes ? `mode must be "train" or "eval", got ${JSON.stringify(sd.mode)}` : `${definition.name} has no train/eval modes (mode ${JSON.stringify(sd.mode)})`);
  }
  const config = groupsConfig(definition, tensors, sd, fail);
  if (config.groups.length !== current.groups.length || config.tensorGroup.some((g, i) => g !== current.tensorGroup[i])) {
    fail('its groups hold other tensors than this optimizer\'s');
  }
  if (JSON.stringify(kernelDefines(definition, config.groups)) !== JSON.stringify(current.defines)) {
    fail('its options need another kernel variant (amsgrad, nesterov, centered, momentum or maximize differ)');
  }
  checkHistory(definition, config, sd.step, fail);
  const stored = checkStoredState(definition, tensors, config, sd, fail);
  return {
    config,
    slotValues: stored.slotValues,
    quantization: stored.quantization,
    storedValue: (i, slot) => sd.state[i]![slot] as Q8Slot | Float32Array | undefined,
    step: sd.step,
    stepCalls: sd.stepCalls ?? sd.step,
    scaler: sd.scaler ? { ...sd.scaler } : undefined,
    pendingMicroSteps: sd.accumulation?.microSteps ?? 0,
    accumulated: sd.accumulation?.grads,
    mode: definition.modes ? (sd.mode ?? 'train') : undefined,
  };
}

/**
 * A state dict as JSON text, exactly: every Float32Array is stored as the base64 of its bytes, so
 * NaN, ±Inf and −0 survive (plain `JSON.stringify` turns NaN and Infinity into null).
 *
 * @example
 * localStorage.setItem('ckpt', stateDictToJSON(await opt.stateDict()));
 * opt.loadStateDict(stateDictFromJSON(localStorage.getItem('ckpt')!));
 */
export function stateDictToJSON(sd: OptimizerStateDict<any>): string {
  // Hand-made dicts without the header get it: stateDictFromJSON requires it.
  const headed = { ...sd, format: sd.format ?? STATE_DICT_FORMAT, version: sd.version ?? STATE_DICT_VERSION };
  return JSON.stringify(headed, (_key, value) =>
    value instanceof Float32Array ? { float32: toBase64(value) } : value instanceof Uint16Array ? { uint16: toBase64(value) } : value instanceof Uint8Array ? { uint8: toBase64(value) } : value,
  );
}

/**
 * Reads what {@link stateDictToJSON} wrote, trusting nothing: strict JSON carrying the format
 * header (`format: "webgpu-optim/state-dict"`, `version: 1`), canonical base64 for every typed
 * array, no `__proto__` key. A refusal names the field and the value; `loadStateDict` then checks
 * the dict against the optimizer.
 */
export function stateDictFromJSON<H extends object = Record<string, unknown>>(json: string): OptimizerStateDict<H> {
  return readStateDictJSON(json, { format: STATE_DICT_FORMAT, version: STATE_DICT_VERSION }) as OptimizerStateDict<H>;
}

function toBase64(array: Float32Array | Uint16Array | Uint8Array): string {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
