import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import adadeltaSource from '../shaders/adadelta.wgsl?raw';
import adagradSource from '../shaders/adagrad.wgsl?raw';
import adamSource from '../shaders/adam.wgsl?raw';
import accumulateSource from '../shaders/accumulate.wgsl?raw';
import commonSource from '../shaders/common.wgsl?raw';
import controlSource from '../shaders/control.wgsl?raw';
import gradStatsSource_ from '../shaders/grad-stats.wgsl?raw';
import rmspropSource from '../shaders/rmsprop.wgsl?raw';
import sgdSource from '../shaders/sgd.wgsl?raw';

/** Kernel families: one WGSL file each in `shaders/`. */
export type KernelFamily = 'sgd' | 'adagrad' | 'rmsprop' | 'adadelta' | 'adam';

const familySources: Record<KernelFamily, string> = {
  sgd: sgdSource,
  adagrad: adagradSource,
  rmsprop: rmspropSource,
  adadelta: adadeltaSource,
  adam: adamSource,
};

/** Pipeline-creation flags of a kernel (`#if NAME` in the .wgsl files). */
export type KernelDefines = Readonly<Record<string, boolean>>;

const directive = /#(if|elif)[ \t]+([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Resolves `#if NAME` / `#elif NAME` / `#else` / `#endif` in a .wgsl source with wgsl-preprocessor.
 * The .wgsl files name their flags; wgsl-preprocessor wants a template value right after `#if`,
 * so the source is cut at each directive and the flag's value is passed as that template value.
 */
export function preprocess(source: string, defines: KernelDefines): string {
  const strings: string[] = [];
  const values: boolean[] = [];
  let last = 0;
  for (const match of source.matchAll(directive)) {
    const name = match[2]!;
    if (!(name in defines)) {
      throw new Error(`webgpu-optim: shader flag ${name} has no value`);
    }
    strings.push(source.slice(last, match.index) + `#${match[1]} `);
    values.push(defines[name]!);
    last = match.index! + match[0].length;
  }
  strings.push(source.slice(last));
  return wgsl(strings, ...values);
}

/** The complete WGSL of one kernel variant. */
export function kernelSource(family: KernelFamily, defines: KernelDefines): string {
  return preprocess(`${controlSource}\n${commonSource}\n${familySources[family]}`, defines);
}

/** The gradient statistics passes (chunkStats, groupStats, finalize). */
export function gradStatsSource(defines: KernelDefines): string {
  return preprocess(`${controlSource}\n${gradStatsSource_}`, defines);
}

/** acc += grad. */
export const accumulateKernelSource: string = accumulateSource;
