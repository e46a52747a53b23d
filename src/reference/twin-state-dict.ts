/** The CPU twin's stateDict() and loadStateDict(): the shared state-dict flow over the twin's own state. */
import type { FrontState } from '../front/front-state.js';
import { loadStateDictInto, stateDictOf } from '../front/state-dict-flow.js';
import { checkStateDictOptions } from '../state/state-dict-dequantize.js';
import type { OptimizerStateDict } from '../state/state-dict-types.js';
import { initialControlState } from './gradient-control.js';
import type { TwinState } from './twin-state.js';

/** The twin's state dict now: slots in their stored form, or f32 with `{ dequantize: true }`. */
export function twinStateDict<H extends object>(front: FrontState<H>, twin: TwinState, options: unknown): OptimizerStateDict<H> {
  const what = `${twin.name}.stateDict`;
  const checked = checkStateDictOptions(options, what);
  const { accumulated, q8, rounding, state } = twin;
  const source = {
    config: front.config,
    tensors: twin.tensors,
    training: twin.training,
    stepCalls: front.book.stepCount,
    tensorSteps: front.tensorSteps.counts,
    control: twin.control,
    pendingMicroSteps: front.book.pendingMicroSteps,
    written: front.window.written,
    accumulated: accumulated && ((i: number) => accumulated[i]!.slice()),
    mode: front.mode,
    stateFormat: twin.stateFormat,
    quantization: twin.quantization,
    slotData: (i: number, slot: string) => q8?.stored(i, slot) ?? rounding.encoded(slot, state[i]![slot]!),
    setState: twin.setState && twin.definition.setStateDict?.read(twin.setState),
  };
  return stateDictOf(source, checked, what);
}

/** Loads `sd` into the twin, checked in full first; slot values are rounded to the twin's format. */
export function loadTwinStateDict<H extends object>(front: FrontState<H>, twin: TwinState, sd: OptimizerStateDict<H>): void {
  const { training, accumulated, q8 } = twin;
  loadStateDictInto({ definition: twin.definition, tensors: twin.tensors, config: front.config, training, quantization: twin.quantization, skipRefusal: front.tensorSteps.refusal }, sd, {
    counts: (loaded) => front.restore(loaded),
    accumulated: accumulated && ((grads) => accumulated.forEach((acc, i) => (grads?.[i] ? acc.set(grads[i]!) : acc.fill(0)))),
    control: twin.control && ((restored) => (twin.control = { ...initialControlState(training, front.config.groups.length), ...restored })),
    slots(values, stored) {
      twin.state.forEach((slotsOfTensor, i) => {
        for (const [slot, v] of Object.entries(slotsOfTensor)) v.set(values(i, slot) ?? new Float32Array(v.length));
        twin.rounding.roundSlots(slotsOfTensor, i);
      });
      // A q8 dict of the same quantization: its stored form itself (requantizing is not idempotent).
      if (stored) q8!.load(stored);
      else q8?.store();
    },
    setState: (words) => twin.setState!.set(words),
  });
}
