/**
 * The optimizers the tests add to the library from outside src, through the public
 * `registerOptimizer`, as a user would (README, "Adding an optimizer"). Importing this module
 * registers them; the test records (records/index.ts) import it, so every registry-driven suite
 * runs them beside the built-in ones. Adding one here asks for its record (records/record.ts).
 */
import { registerOptimizer, type OptimizerDefinition } from '../../src/index.js';
import { nsgd } from './nsgd/definition.js';
import { signum } from './signum/definition.js';

export const TEST_OPTIMIZERS = { signum, nsgd } as const;

/** The options type of a definition. */
export type OptionsOf<D> = D extends OptimizerDefinition<infer H, infer _S> ? H : never;

for (const definition of Object.values(TEST_OPTIMIZERS)) registerOptimizer(definition);
