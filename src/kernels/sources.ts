/**
 * WGSL assembly: every kernel's source is made here from the shared files of this folder, the
 * optimizer's own .wgsl and the generated parts (control structs, `struct Hyper`, bindings).
 */
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { bindingDeclarations, kernelBindings } from '../engine/bindings.js';
import { controlWgsl } from '../engine/control-block.js';
import { hyperWgsl } from '../engine/scalars.js';
import type { KernelDefines, OptimizerDefinition, SlotSpec } from '../optimizers/definition.js';
import { slotCodec, stateFormatOf } from '../state-format.js';
import accumulateSource from './accumulate.wgsl?raw';
import commonSource from './common.wgsl?raw';
import controlSource from './control.wgsl?raw';
import gradStatsSource_ from './grad-stats.wgsl?raw';
import layerwiseSource from './layerwise.wgsl?raw';
import stateFormatSource from './state-format.wgsl?raw';
import tensorSumsSource_ from './tensor-sums.wgsl?raw';

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

/**
 * The complete WGSL of one optimizer kernel variant (defines include MULTI_GROUP, GRAD_CONTROL and
 * LAYERWISE; a layer-wise kernel also gets the `tensorPartials` entry point of layerwise.wgsl).
 */
export function kernelSource(definition: OptimizerDefinition<any, any>, defines: KernelDefines): string {
  const slots = definition.slots(defines);
  const bindings = kernelBindings(slots, defines);
  const parts = [controlWgsl(), controlSource, hyperWgsl(definition), bindingDeclarations(bindings), commonSource];
  if (defines.LAYERWISE) parts.push(layerwiseSource);
  const format = stateFormatOf(defines);
  const packed = slots.filter((slot) => slotCodec(slot, format));
  if (packed.length > 0) {
    parts.push(stateFormatSource, ...packed.map((slot) => slotAccessors(slot, slotCodec(slot, format)!.root, defines.STOCHASTIC ? slots.indexOf(slot) : undefined)));
  }
  return preprocess([...parts, throughAccessors(definition.kernel.source, packed)].join('\n'), defines);
}

/**
 * Load and store functions of a 16-bit state slot: the kernel keeps seeing vec4<f32>. A slot of
 * squares stored as its root (f16) is squared on load and rooted on store. With stochastic
 * rounding, `noiseSlot` (the slot's index) keys the store's noise.
 */
function slotAccessors(slot: SlotSpec, root: boolean, noiseSlot: number | undefined): string {
  const name = slot.wgsl;
  const stored = root ? 'sqrt(x)' : 'x';
  const load = root ? `let s = unpackState(${name}[i]); return s * s;` : `return unpackState(${name}[i]);`;
  const pack = noiseSlot === undefined ? `packState(${stored})` : `packStateStochastic(${stored}, roundingNoise(i, ${noiseSlot}u))`;
  return [`fn ${name}Load(i: u32) -> vec4<f32> { ${load} }`, `fn ${name}Store(i: u32, x: vec4<f32>) { ${name}[i] = ${pack}; }`].join('\n');
}

/**
 * The optimizer's kernel with every access to a 16-bit slot going through its accessors: a store
 * `name[i] = x;` becomes `nameStore(i, x);`, a load `name[i]` becomes `nameLoad(i)`. The kernels
 * index their slots only as `name[index]` (any other use fails to compile, loudly).
 */
export function throughAccessors(source: string, slots: readonly SlotSpec[]): string {
  let out = source;
  for (const { wgsl: name } of slots) {
    out = out
      .replace(new RegExp(`\\b${name}\\[([^\\]]+)\\]\\s*=(?!=)\\s*([^;]+);`, 'g'), `${name}Store($1, $2);`)
      .replace(new RegExp(`\\b${name}\\[([^\\]]+)\\]`, 'g'), `${name}Load($1)`);
  }
  return out;
}

/** The per-tensor sums of chunk partials (layer-wise optimizers). */
export const tensorSumsSource: string = tensorSumsSource_;

/** The gradient statistics passes (chunkStats, groupStats, finalize). */
export function gradStatsSource(defines: KernelDefines): string {
  return preprocess(`${controlWgsl()}\n${controlSource}\n${gradStatsSource_}`, defines);
}

/** acc += grad. */
export const accumulateKernelSource: string = accumulateSource;
