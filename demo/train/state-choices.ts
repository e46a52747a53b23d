/** Which stored-state choices of the train page an optimizer can take. */
import { resolveConfig } from '../../src/core/config.js';
import { getDefinition, type OptimizerName } from '../../src/optimizers/registry.js';

/** Whether a state format keeps block-wise 8- or 4-bit codes. */
export const isBlockwise = (format: string | undefined) => format === 'q8' || format === 'q4';

/**
 * Whether the optimizer with these options takes 8- and 4-bit state: not cautious updates (their
 * count reads the state outside the block-wise tiles), Prodigy or Muon. The definition's noQ8State
 * says why; q4 is refused exactly where q8 is.
 */
export function takesBlockwise(o: { name: OptimizerName; options: object }): boolean {
  const definition = getDefinition(o.name);
  return definition.noQ8State?.(resolveConfig(definition, ['x'], o.options as Record<string, unknown>).defines) === undefined;
}
