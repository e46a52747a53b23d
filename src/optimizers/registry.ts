/**
 * THE list of optimizers. Everything else derives from it: the option types by name, the kernel
 * sources, `optimizerNames`, the test option matrices (typed so that an optimizer registered here
 * without one does not compile), and the benchmark's and demo's lists.
 * Adding an optimizer = one folder under src/optimizers/ + one line here.
 */
import { adadelta } from './adadelta/definition.js';
import { adafactor } from './adafactor/definition.js';
import { adagrad } from './adagrad/definition.js';
import { adam, adamw } from './adam/definition.js';
import { adamax } from './adamax/definition.js';
import { adamwScheduleFree } from './adamw_schedule_free/definition.js';
import { lamb } from './lamb/definition.js';
import { lars } from './lars/definition.js';
import { lion } from './lion/definition.js';
import { nadam } from './nadam/definition.js';
import { radam } from './radam/definition.js';
import { rprop } from './rprop/definition.js';
import type { OptimizerDefinition } from '../core/definition.js';
import { rmsprop } from './rmsprop/definition.js';
import { emaMomentum, sgd } from './sgd/definition.js';

export const registry = {
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
  lamb,
  lars,
  adafactor,
} as const;

export type OptimizerName = keyof typeof registry;

type OptionsOf<D> = D extends OptimizerDefinition<infer H, infer _S> ? H : never;

/** Options of each optimizer, by name. */
export type OptimizerOptionsMap = { [K in OptimizerName]: OptionsOf<(typeof registry)[K]> };

export const optimizerNames = Object.keys(registry) as OptimizerName[];

export function getDefinition(name: unknown): OptimizerDefinition<any, string> {
  if (typeof name !== 'string' || !Object.hasOwn(registry, name)) {
    throw new Error(`webgpu-optim: unknown optimizer ${JSON.stringify(name) ?? String(name)}; known: ${optimizerNames.join(', ')}`);
  }
  return registry[name as OptimizerName] as unknown as OptimizerDefinition<any, string>;
}
