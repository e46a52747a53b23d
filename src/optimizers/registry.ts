/**
 * THE list of built-in optimizers. Everything else derives from it: the option types by name, the
 * kernel sources, `optimizerNames`, the test records (typed so that an optimizer registered here
 * without one does not compile), and the benchmark's and demo's lists.
 * Adding a built-in optimizer = one folder under src/optimizers/ + one line here (README, "Adding an
 * optimizer"). An optimizer defined outside the library is added at run time by `registerOptimizer`.
 */
import { adadelta } from './adadelta/definition.js';
import { adafactor } from './adafactor/definition.js';
import { ademamix } from './ademamix/definition.js';
import { adagrad } from './adagrad/definition.js';
import { adam, adamw } from './adam/definition.js';
import { adamax } from './adamax/definition.js';
import { adamwScheduleFree } from './adamw_schedule_free/definition.js';
import { adamwScheduleFreePaper } from './adamw_schedule_free_paper/definition.js';
import { lamb } from './lamb/definition.js';
import { lars } from './lars/definition.js';
import { lion } from './lion/definition.js';
import { muon } from './muon/definition.js';
import { nadam } from './nadam/definition.js';
import { prodigy } from './prodigy/definition.js';
import { radam } from './radam/definition.js';
import { rprop } from './rprop/definition.js';
import { checkDefinition } from '../core/check-definition.js';
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
  adamw_schedule_free_paper: adamwScheduleFreePaper,
  lamb,
  lars,
  adafactor,
  ademamix,
  muon,
  prodigy,
} as const;

/** The names of the built-in optimizers (those added by `registerOptimizer` are not among them). */
export type BuiltinOptimizerName = keyof typeof registry;

type OptionsOf<D> = D extends OptimizerDefinition<infer H, infer _S> ? H : never;

/**
 * Option types of optimizers added with `registerOptimizer`, by name, for TypeScript: empty in the
 * library, augmented by the code that registers one, so that `createOptimizer` accepts its name
 * and checks its options:
 * ```ts
 * declare module 'webgpu-optim' {
 *   interface RegisteredOptimizers { signum: SignumOptions }
 * }
 * ```
 */
export interface RegisteredOptimizers {}

/**
 * The names `createOptimizer`, `createReferenceOptimizer` and the TF.js adapter accept in types:
 * the built-in optimizers and those declared in `RegisteredOptimizers`.
 */
export type OptimizerName = BuiltinOptimizerName | (keyof RegisteredOptimizers & string);

/** Options of each optimizer, by name (built-in, then those declared in `RegisteredOptimizers`). */
export type OptimizerOptionsMap = {
  [K in OptimizerName]: K extends BuiltinOptimizerName ? OptionsOf<(typeof registry)[K]> : K extends keyof RegisteredOptimizers ? RegisteredOptimizers[K] : never;
};

/** The built-in optimizers, in registry order. Fixed: `listOptimizers()` adds the registered ones. */
export const optimizerNames = Object.freeze(Object.keys(registry)) as readonly BuiltinOptimizerName[];

/** Optimizers added by `registerOptimizer`, in registration order. */
const registered = new Map<string, OptimizerDefinition<any, string>>();

/** Every optimizer name the library accepts now: `optimizerNames`, then the registered ones in registration order. */
export function listOptimizers(): string[] {
  return [...optimizerNames, ...registered.keys()];
}

/**
 * Adds an optimizer defined outside the library (a `defineOptimizer` definition with its WGSL kernel
 * and CPU twin, README "Adding an optimizer"): from then on `createOptimizer`,
 * `createReferenceOptimizer`, state dicts and the TF.js adapter accept its name. Refused, with the
 * field named and nothing registered, when the definition is malformed or its name (or its kernel's
 * name, which keys the pipeline cache) is already taken. For this module's lifetime: there is no
 * unregistering, as optimizers and state dicts made with it may still exist.
 */
export function registerOptimizer(definition: OptimizerDefinition<any, any>): void {
  checkDefinition(definition, 'registerOptimizer');
  const name = definition.name;
  if (Object.hasOwn(registry, name) || registered.has(name)) {
    throw new Error(`webgpu-optim: registerOptimizer: an optimizer named "${name}" exists already; known: ${listOptimizers().join(', ')}`);
  }
  const kernelOwner = [...Object.values(registry), ...registered.values()].find((d) => d.kernel.name === definition.kernel.name && d.kernel.source !== definition.kernel.source);
  if (kernelOwner) {
    throw new Error(`webgpu-optim: registerOptimizer: ${name}: kernel.name "${definition.kernel.name}" is ${kernelOwner.name}'s kernel, with another source; name the kernel after the optimizer`);
  }
  // A frozen copy: a later change to the caller's object cannot bypass the checks above.
  registered.set(name, Object.freeze({ ...definition }) as OptimizerDefinition<any, string>);
}

export function getDefinition(name: unknown): OptimizerDefinition<any, string> {
  if (typeof name === 'string' && Object.hasOwn(registry, name)) return registry[name as BuiltinOptimizerName] as unknown as OptimizerDefinition<any, string>;
  const added = typeof name === 'string' ? registered.get(name) : undefined;
  if (added) return added;
  throw new Error(`webgpu-optim: unknown optimizer ${JSON.stringify(name) ?? String(name)}; known: ${listOptimizers().join(', ')}`);
}
