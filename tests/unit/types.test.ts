/**
 * The option interfaces src/index.ts exports are the registry's: each equals its optimizer's
 * options in OptimizerOptionsMap (checked by the compiler, `npx tsc --noEmit`), the map below names
 * every built-in optimizer (a new one without an entry does not compile), and every options
 * interface an optimizer folder declares is exported (a forgotten export fails here).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, expectTypeOf, test } from 'vitest';
import type * as api from '../../src/index.js';

/** The exported options interface of each built-in optimizer, by name. */
type Exported = {
  sgd: api.SgdOptions;
  ema_momentum: api.EmaMomentumOptions;
  adagrad: api.AdagradOptions;
  rmsprop: api.RmspropOptions;
  adadelta: api.AdadeltaOptions;
  adam: api.AdamOptions;
  adamw: api.AdamOptions;
  adamax: api.AdamaxOptions;
  nadam: api.NadamOptions;
  radam: api.RadamOptions;
  rprop: api.RpropOptions;
  lion: api.LionOptions;
  adamw_schedule_free: api.ScheduleFreeOptions;
  adamw_schedule_free_paper: api.ScheduleFreePaperOptions;
  lamb: api.LambOptions;
  lars: api.LarsOptions;
  adafactor: api.AdafactorOptions;
  ademamix: api.AdemamixOptions;
  muon: api.MuonOptions;
  prodigy: api.ProdigyOptions;
};

test('each exported options interface is its optimizer\'s options in OptimizerOptionsMap, for every built-in optimizer', () => {
  expectTypeOf<Exported>().toEqualTypeOf<{ [K in api.BuiltinOptimizerName]: api.OptimizerOptionsMap[K] }>();
  // Nothing declared in RegisteredOptimizers by the library itself: OptimizerName is the built-in names.
  expectTypeOf<api.OptimizerName>().toEqualTypeOf<api.BuiltinOptimizerName>();
});

test('every options interface an optimizer folder declares is exported from src/index.ts', () => {
  const src = resolve(__dirname, '../../src');
  const index = readFileSync(join(src, 'index.ts'), 'utf8');
  const folders = readdirSync(join(src, 'optimizers'), { withFileTypes: true }).filter((entry) => entry.isDirectory());
  const declared = folders.flatMap((folder) => {
    const text = readFileSync(join(src, 'optimizers', folder.name, 'definition.ts'), 'utf8');
    return [...text.matchAll(/^export interface (\w+Options)\b/gm)].map((m) => m[1]!);
  });
  expect(declared.length).toBeGreaterThanOrEqual(folders.length);
  const exported = new Set([...index.matchAll(/\btype (\w+Options)\b|[{,]\s*(\w+Options)\b/g)].map((m) => m[1] ?? m[2]));
  expect(declared.filter((name) => !exported.has(name))).toEqual([]);
});
