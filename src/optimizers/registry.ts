import { adadelta, type AdadeltaOptions } from './adadelta.js';
import { adagrad, type AdagradOptions } from './adagrad.js';
import { adam, adamw, type AdamOptions } from './adam.js';
import type { OptimizerDefinition } from './definition.js';
import { rmsprop, type RmspropOptions } from './rmsprop.js';
import { emaMomentum, sgd, type EmaMomentumOptions, type SgdOptions } from './sgd.js';

/** Options of each optimizer, by name. */
export interface OptimizerOptionsMap {
  sgd: SgdOptions;
  adagrad: AdagradOptions;
  rmsprop: RmspropOptions;
  adadelta: AdadeltaOptions;
  adam: AdamOptions;
  adamw: AdamOptions;
  ema_momentum: EmaMomentumOptions;
}

export type OptimizerName = keyof OptimizerOptionsMap;

const definitions: { [K in OptimizerName]: OptimizerDefinition<OptimizerOptionsMap[K]> } = {
  sgd,
  adagrad,
  rmsprop,
  adadelta,
  adam,
  adamw,
  ema_momentum: emaMomentum,
};

export const optimizerNames = Object.keys(definitions) as OptimizerName[];

export function getDefinition(name: string): OptimizerDefinition<any> {
  if (!Object.hasOwn(definitions, name)) {
    throw new Error(`webgpu-optim: unknown optimizer "${name}"; known: ${optimizerNames.join(', ')}`);
  }
  return definitions[name as OptimizerName];
}
