/**
 * What an optimizer's calls change after creation, in one place that its parts share: the groups'
 * hyperparameters, the lr schedule and (Schedule-Free) which point the parameters hold.
 */
import type { ResolvedConfig } from '../core/config.js';
import type { LrSchedule } from '../core/schedules.js';

export interface LiveSettings {
  config: ResolvedConfig<any>;
  schedule: LrSchedule | undefined;
  mode: 'train' | 'eval' | undefined;
}
