/**
 * The GPU optimizer's `stateDict()` and `loadStateDict()`: the shared flow (src/front/
 * state-dict-flow.ts) over what the GPU holds. A dict is the state at the call: every copy it needs
 * is submitted at once, and it waits for the GPU's verdict on the work recorded before it, never
 * claiming a step the GPU refused. A load is checked in full before anything changes.
 */
import type { Lifecycle } from '../core/lifecycle.js';
import type { ResolvedTraining } from '../control/training.js';
import type { FrontState } from '../front/front-state.js';
import { loadStateDictInto, stateDictOf, type LoadSinks } from '../front/state-dict-flow.js';
import type { Quantization } from '../state/q8.js';
import { checkStateDictOptions, type StateDictOptions } from '../state/state-dict-dequantize.js';
import type { OptimizerStateDict, TensorInfo } from '../state/state-dict-types.js';
import type { StateFormat } from '../state/state-format.js';
import type { GpuOutcomes } from './gpu-outcomes.js';
import type { OptimizerModules } from './optimizer-modules.js';
import type { RecordedEncoders } from './recorded-encoders.js';

export interface StateDictMethods<H extends object> {
  stateDict(options?: StateDictOptions): Promise<OptimizerStateDict<H>>;
  loadStateDict(sd: OptimizerStateDict<H>): void;
}

/** Where each part of a checked dict goes on the GPU. */
function loadSinks(front: FrontState<any>, modules: OptimizerModules, tensors: readonly { readonly offset: number }[], paddedLength: number): LoadSinks<any> {
  const { state, q8State, control, accumulator, shapedState, setWords } = modules;
  return {
    setState: setWords && ((words) => setWords.write(words)),
    counts: (loaded) => front.restore(loaded),
    control:
      control &&
      ((restored) => {
        control.refresh(front.config.groups);
        // Loaded counts first (the counts sink): the steps each tensor missed, where the device counts them.
        control.restore({ ...restored, tensorMissed: front.tensorSteps.counts?.map((c) => restored.step - c) });
      }),
    accumulated:
      accumulator &&
      ((grads) => {
        const packed = new Float32Array(paddedLength);
        grads?.forEach((g, i) => g && packed.set(g, tensors[i]!.offset));
        accumulator.write(packed);
      }),
    slots(values, stored) {
      // A q8 dict of the same quantization loads its stored form (requantizing is not idempotent).
      if (stored) q8State!.writeStored(stored);
      else state.write(values);
      shapedState?.write(values);
    },
  };
}

/** Each tensor's steps: the device step less the steps it missed (undefined while none missed any: all equal). */
const deviceTensorSteps = (step: number, missed: readonly number[]) => (missed.some((m) => m !== 0) ? missed.map((m) => step - m) : undefined);

export function stateDictMethods<H extends object>(args: {
  name: string;
  front: FrontState<H>;
  modules: OptimizerModules;
  tensors: readonly (TensorInfo & { readonly offset: number })[];
  paddedLength: number;
  training: ResolvedTraining;
  stateFormat: StateFormat;
  quantization: Quantization | undefined;
  lifecycle: Lifecycle;
  outcomes: GpuOutcomes;
  recorded: RecordedEncoders;
}): StateDictMethods<H> {
  const { name, front, modules, tensors, training, lifecycle, outcomes, recorded } = args;
  const { state, control, accumulator, shapedState } = modules;
  const slotNames = new Set(front.definition.slots(front.config.defines).map((slot) => slot.name));

  /** Every copy a state dict needs, submitted now, in one go. */
  const readState = async () => {
    const pending = front.book.pendingMicroSteps;
    const written = front.window.written;
    const reads = [control?.read(), state.read(), pending > 0 ? accumulator!.read() : undefined, shapedState?.read(), modules.setWords?.read(), control?.readMissed()] as const;
    const [snapshot, packed, accumulated, shaped, setWords, missed] = await Promise.all(reads);
    return { snapshot, packed, accumulated, pending, written, shaped, setWords, missed };
  };

  return {
    async stateDict(dictOptions) {
      lifecycle.check();
      const { dequantize } = checkStateDictOptions(dictOptions, `${name}.stateDict`);
      const open = recorded.openError(`${name}.stateDict`);
      const verdict = outcomes.settled();
      if (open) {
        // An encoder finished before this optimizer saw it looks open: the GPU's refusal names it.
        await verdict;
        lifecycle.check();
        throw open;
      }
      const { config, mode } = front;
      const stepCalls = front.book.stepCount;
      const { snapshot, packed, accumulated, pending, written, shaped, setWords, missed } = await readState();
      // Where the device decides whether a step is taken (non-finite skipping), each tensor's count is its own.
      const tensorSteps = missed ? deviceTensorSteps(snapshot!.step, missed) : front.tensorSteps.counts;
      // A step or mode switch the GPU refused is never reported as done.
      await verdict;
      lifecycle.check();
      const source = {
        config,
        tensors,
        training,
        stepCalls,
        tensorSteps,
        control: snapshot,
        pendingMicroSteps: pending,
        written,
        accumulated: accumulated && ((i: number) => accumulated.slice(tensors[i]!.offset, tensors[i]!.offset + tensors[i]!.length)),
        mode,
        stateFormat: args.stateFormat,
        quantization: args.quantization,
        slotData: (i: number, slot: string) => (slotNames.has(slot) ? packed(i, slot) : shaped!(i, slot)),
        setState: setWords && front.definition.setStateDict?.read(setWords),
      };
      return stateDictOf(source, { dequantize }, `${name}.stateDict`);
    },
    loadStateDict(sd) {
      lifecycle.check(true);
      const open = recorded.openError(`${name}.loadStateDict`);
      if (open) throw open;
      loadStateDictInto({ definition: front.definition, tensors, config: front.config, training, quantization: args.quantization, skipRefusal: front.tensorSteps.refusal }, sd, loadSinks(front, modules, tensors, args.paddedLength));
      lifecycle.recover();
    },
  };
}
