/**
 * What the GPU optimizer and the CPU twin keep between calls and change the same way: the resolved
 * config (each group's hyperparameters), the lr schedule, the train/eval mode and the step counts,
 * with the getters both expose over them.
 */
import { checkScheduleAllowed, updatedGroups, type ResolvedConfig } from '../core/config.js';
import { createBookkeeping, type Bookkeeping } from '../core/bookkeeping.js';
import type { OptimizerDefinition } from '../core/definition.js';
import { checkSchedule, type LrSchedule } from '../core/schedules.js';
import { packScalars, packTensorScalars } from '../core/scalars.js';
import type { LoadedState } from '../state/state-dict-load.js';
import type { ResolvedOptions } from './resolve.js';
import { createTensorSteps, gradientSkipRefusal, type TensorSteps } from './gradient-presence.js';
import { createWindowPresence, type WindowPresence } from './window-presence.js';

export type Mode = 'train' | 'eval';

export interface FrontState<H extends object> {
  readonly definition: OptimizerDefinition<H, any>;
  readonly config: ResolvedConfig<H>;
  readonly schedule: LrSchedule | undefined;
  /** Which point the parameters hold (optimizers with train/eval modes; else undefined). */
  mode: Mode | undefined;
  readonly book: Bookkeeping;
  /** Each tensor's own step count once a tensor was left without gradient (PyTorch's per-parameter `step`). */
  readonly tensorSteps: TensorSteps;
  /** Which tensors the pending micro-batches marked (gradient accumulation under PyTorch's step rule). */
  readonly window: WindowPresence;
  /** Checks `partial` (refused before anything changes) and applies it from the next step on; returns the new groups. */
  setHyperparameters(partial: Partial<H>, group?: number): readonly H[];
  /** Checks and replaces the lr schedule (undefined: the groups' `lr` as is). */
  setLrSchedule(next: LrSchedule | undefined): void;
  /** The f32 scalars of update `update` (1-based), every group's in turn: the schedule's lr, the device step when control is on. */
  stepScalars(update: number, out?: Float32Array<ArrayBuffer>): Float32Array<ArrayBuffer>;
  /**
   * The per-tensor path's rows of update `update`: one per tensor at its own step, `present`
   * marking the tensors that have a gradient (src/core/scalars.ts packTensorScalars).
   */
  tensorStepScalars(update: number, present: readonly boolean[], out?: Float32Array<ArrayBuffer>): Float32Array<ArrayBuffer>;
  /** The scalars a train/eval switch uses: the next update's, without the schedule. */
  switchScalars(out?: Float32Array<ArrayBuffer>): Float32Array<ArrayBuffer>;
  /** Takes a checked state dict's config, counts and mode. */
  restore(loaded: LoadedState<H>): void;
}

/** The front state of optimizer `definition` with these resolved options, before any step. */
export function createFrontState<H extends object>(definition: OptimizerDefinition<H, any>, resolved: ResolvedOptions<H>): FrontState<H> {
  const { training } = resolved;
  const book = createBookkeeping(training.accumulationSteps);
  let config = resolved.config;
  let schedule = training.schedule;
  const front: FrontState<H> = {
    definition,
    get config() {
      return config;
    },
    get schedule() {
      return schedule;
    },
    mode: definition.modes?.initial,
    book,
    window: createWindowPresence(config.tensorGroup.length, training.accumulationSteps, () => book.pendingMicroSteps),
    tensorSteps: createTensorSteps(`${definition.name}.step`, config.tensorGroup.length, gradientSkipRefusal(definition, resolved), definition.groupStepCount !== undefined, resolved.training.control),
    setHyperparameters(partial, group) {
      const groups = updatedGroups(config, partial, group, book.stepCount > 0);
      config = { ...config, groups };
      return groups;
    },
    setLrSchedule(next) {
      checkSchedule(next);
      checkScheduleAllowed(definition, next);
      schedule = next;
    },
    stepScalars: (update, out) => {
      const own = front.tensorSteps.uniform();
      return packScalars(definition, config.groups, update, { schedule, deviceStep: training.control, out, step: own === undefined ? update : own + 1 });
    },
    tensorStepScalars: (update, present, out) =>
      packTensorScalars(definition, config.groups, { tensorGroup: config.tensorGroup, tensorSteps: front.tensorSteps.before(update - 1), present, update, schedule, out }),
    switchScalars: (out) => packScalars(definition, config.groups, book.stepCount + 1, { deviceStep: training.control, out }),
    restore(loaded) {
      config = loaded.config;
      book.restore(loaded.stepCalls, loaded.pendingMicroSteps);
      front.tensorSteps.restore(loaded.tensorSteps);
      front.window.restore(loaded.accumulated?.map((g) => g !== null));
      front.mode = loaded.mode;
    },
  };
  return front;
}

/** The getters both front-ends expose over their front state. */
export interface FrontView<H extends object> {
  /** Updates made, skipped ones included (the lr schedule's position). */
  readonly stepCount: number;
  /** `step()` calls, micro-batches included. */
  readonly microStepCount: number;
  /** Resolved hyperparameters of each group, read-only (group 0 holds the tensors no group names). */
  readonly groups: readonly Readonly<H>[];
  /** Optimizers with train/eval modes: which point the parameters hold. */
  readonly mode?: Mode;
}

/** `target` with the front view's getters defined on it (live: each read sees the state now). */
export function withFrontView<H extends object, T extends object>(front: FrontState<H>, target: T): T & FrontView<H> {
  const view: FrontView<H> = {
    get stepCount() {
      return front.book.stepCount;
    },
    get microStepCount() {
      return front.book.microStepCount;
    },
    get groups() {
      return front.config.groups;
    },
    get mode() {
      return front.mode;
    },
  };
  return Object.defineProperties(target, Object.getOwnPropertyDescriptors(view)) as T & FrontView<H>;
}
