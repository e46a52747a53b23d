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
import q8Source from './q8.wgsl?raw';
import { isQuantizedSlot, mapOf, Q8_MAPS, zeroCode } from '../q8.js';
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
  if (format === 'q8') {
    const quantized = slots.filter(isQuantizedSlot);
    parts.push(q8Source, ...quantized.map(q8Accessors), q8Finish(quantized));
    return preprocess([...parts, throughAccessors(definition.kernel.source, quantized)].join('\n'), defines);
  }
  const packed = slots.filter((slot) => slotCodec(slot, format));
  if (packed.length > 0) {
    parts.push(stateFormatSource, ...packed.map((slot) => slotAccessors(slot, slotCodec(slot, format)!.root, defines.STOCHASTIC ? slots.indexOf(slot) : undefined)));
  }
  return preprocess([...parts, throughAccessors(definition.kernel.source, packed)].join('\n'), defines);
}

/**
 * Load, store and finish functions of an 8-bit slot (src/kernels/q8.wgsl): loads decode (or read
 * the side value), stores keep the value for the block's finish (or write the side value), and
 * the finish takes the block's absmax and stores the codes.
 */
function q8Accessors(slot: SlotSpec): string {
  const name = slot.wgsl;
  const map = mapOf(slot);
  const base = map === 'signed' ? 0 : 64;
  return `var<private> ${name}Pending: vec4<f32>;
fn ${name}Load(i: u32) -> vec4<f32> {
  let chunk = q8Chunk(i);
  if (!q8IsQuantized(chunk)) {
    let w = q8SideWord(i, chunk);
    return bitcast<vec4<f32>>(vec4<u32>(${name}[w], ${name}[w + 1u], ${name}[w + 2u], ${name}[w + 3u]));
  }
  return q8Decode(${base}u, ${name}[i], bitcast<f32>(${name}[q8AbsmaxBase() + q8Run(i)]));
}
fn ${name}Store(i: u32, x: vec4<f32>) {
  let chunk = q8Chunk(i);
  if (!q8IsQuantized(chunk)) {
    let w = q8SideWord(i, chunk);
    let b = bitcast<vec4<u32>>(x);
    ${name}[w] = b.x;
    ${name}[w + 1u] = b.y;
    ${name}[w + 2u] = b.z;
    ${name}[w + 3u] = b.w;
    return;
  }
  ${name}Pending = x;
}
fn ${name}Finish(i: u32, lid: u32, block: u32, live: bool) {
  let absmax = q8RunMax(q8LaneMax(i, ${name}Pending, live), lid, block);
  // A run's first lane in the block stores its absmax (padding-only chunks have no run).
  let chunk = select(0u, q8Chunk(i), live);
  if (live && q8IsQuantized(chunk)) {
    ${name}[i] = q8Encode(${base}u, ${zeroCode(Q8_MAPS[map])}u, ${name}Pending, absmax);
    if ((chunk & 0x7fu) > 0u && (lid == 0u || (lid % CHUNK_VECTORS == 0u && q8Run(i - 1u) != q8Run(i)))) {
      ${name}[q8AbsmaxBase() + q8Run(i)] = bitcast<u32>(absmax);
    }
  }
}`;
}

function q8Finish(slots: readonly SlotSpec[]): string {
  return `fn q8Finish(i: u32, lid: u32, block: u32, live: bool) {\n${slots.map((s) => `  ${s.wgsl}Finish(i, lid, block, live);`).join('\n')}\n}`;
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
