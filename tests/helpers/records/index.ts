/**
 * The test record of every tested optimizer, by name: the built-in ones (typed from the registry)
 * and the test-only ones the tests register (importing this module registers them). A registered
 * optimizer without a record does not compile, and one registered at run time without a record
 * (or a record without its optimizer) fails here, at import, in every suite that reads records.
 */
import { listOptimizers } from '../../../src/index.js';
import '../test-optimizers.js';
import { adadelta } from './adadelta.js';
import { adafactor } from './adafactor.js';
import { ademamix } from './ademamix.js';
import { adagrad } from './adagrad.js';
import { adam, adamw } from './adam.js';
import { adamax } from './adamax.js';
import { adamwScheduleFree } from './adamw-schedule-free.js';
import { adamwScheduleFreePaper } from './adamw-schedule-free-paper.js';
import { lamb } from './lamb.js';
import { lars } from './lars.js';
import { lion } from './lion.js';
import { muon } from './muon.js';
import { nadam } from './nadam.js';
import { nsgd } from './nsgd.js';
import { prodigy } from './prodigy.js';
import { radam } from './radam.js';
import type { OptionRow, TestOptimizerName, TestRecord } from './record.js';
import { rmsprop } from './rmsprop.js';
import { rprop } from './rprop.js';
import { emaMomentum, sgd } from './sgd.js';
import { signum } from './signum.js';

export type { TestOptimizerName, TestOptionsMap, TestRecord } from './record.js';

export const RECORDS: { readonly [K in TestOptimizerName]: TestRecord<K> } = {
  sgd,
  ema_momentum: emaMomentum,
  adagrad,
  rmsprop,
  adadelta,
  adam,
  adamw,
  adamax,
  nadam,
  radam,
  rprop,
  lion,
  adamw_schedule_free: adamwScheduleFree,
  adamw_schedule_free_paper: adamwScheduleFreePaper,
  lamb,
  lars,
  adafactor,
  ademamix,
  muon,
  prodigy,
  signum,
  nsgd,
};

/**
 * Every optimizer the library accepts now (built-in, then registered), each of which has a record:
 * the suites iterate these names, so a registered optimizer is in every suite.
 */
export const TESTED: readonly TestOptimizerName[] = (() => {
  const names = listOptimizers();
  const unrecorded = names.filter((name) => !Object.hasOwn(RECORDS, name));
  const unregistered = Object.keys(RECORDS).filter((name) => !names.includes(name));
  if (unrecorded.length > 0 || unregistered.length > 0) {
    throw new Error(`test records: registered without a record: [${unrecorded.join(', ')}]; recorded but not registered: [${unregistered.join(', ')}]`);
  }
  return names as TestOptimizerName[];
})();

/** The option matrix of one optimizer: its rows, with the eps-sensitive row (if any) before the richest. */
export function optionMatrix<K extends TestOptimizerName>(name: K): readonly OptionRow<K>[] {
  const { rows, epsSensitive } = RECORDS[name] as TestRecord<K>;
  if (epsSensitive === undefined) return rows;
  return [...rows.slice(0, -1), epsSensitive as OptionRow<K>, rows[rows.length - 1]!];
}
