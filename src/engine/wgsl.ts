/**
 * WGSL assembly: every update kernel's source is made here from the shared files of shaders/, the
 * optimizer's own .wgsl and the generated parts (control structs, `struct Hyper`, bindings).
 */
import { preprocess } from '../core/wgsl-preprocess.js';
import { bindingDeclarations, kernelBindings } from './bindings.js';
import { controlWgsl } from '../control/control-block.js';
import { hyperWgsl } from '../core/scalars.js';
import type { SlotSpec } from '../core/definition.js';
import type { KernelVariant } from './kernel-variant.js';
import { slotCodec } from '../state/state-format.js';
import commonSource from '../../shaders/common.wgsl?raw';
import controlSource from '../../shaders/control.wgsl?raw';
import stateFormatSource from '../../shaders/state-format.wgsl?raw';
import q8Source from '../../shaders/q8.wgsl?raw';
import { isQuantizedSlot, mapOf, Q8_MAPS, zeroCode } from '../state/q8.js';


/**
 * The complete WGSL of one kernel variant: the shared parts, the WGSL of its passes, its state
 * format's accessors, and the optimizer's kernel. With 8-bit state, the source of a tile pipeline
 * holds as many private values per slot as its lanes hold vec4s (q8TileShape in src/state/q8.ts);
 * the module's other entry points do not use them.
 */
export function kernelSource(variant: KernelVariant): string {
  const { definition, flags: defines, stateFormat: format } = variant;
  const slots = definition.slots(defines);
  // 8-bit state that a pass's entry points store (LAMB's moments) is quantized there, by tiles.
  const blockwise = format === 'q8' && definition.partialsStore !== undefined;
  const passes = (definition.passes ?? []).flatMap((pass) => (pass.wgsl ? [pass.wgsl({ blockwise })] : []));
  const parts = [controlWgsl(), controlSource, hyperWgsl(definition), bindingDeclarations(kernelBindings(variant)), commonSource, ...passes];
  if (format === 'q8') {
    const quantized = slots.filter(isQuantizedSlot);
    const lanes = laneKs(variant.grid.kind === 'tile' ? variant.grid.tile.laneVectors : Q8_MAX_LANE_VECTORS);
    parts.push(q8Source, ...quantized.map((slot) => q8Accessors(slot, lanes)), q8Finish(quantized, lanes));
    return preprocess([...parts, throughAccessors(definition.kernel.source, quantized)].join('\n'), defines);
  }
  const packed = slots.filter((slot) => slotCodec(slot, format));
  if (packed.length > 0) {
    parts.push(stateFormatSource, ...packed.map((slot) => slotAccessors(slot, slotCodec(slot, format)!.root, defines.STOCHASTIC ? slots.indexOf(slot) : undefined)));
  }
  return preprocess([...parts, throughAccessors(definition.kernel.source, packed)].join('\n'), defines);
}

/**
 * Load and store functions of an 8-bit slot (shaders/q8.wgsl): loads decode (or read the side
 * value), stores keep the value in one private vec4 per vec4 of the lane (or write the side value)
 * and mark the slot stored. Once settled (q8-layerwise.wgsl), stores are dropped and loads give
 * the values as stored.
 */
function q8Accessors(slot: SlotSpec, lanes: readonly number[]): string {
  const name = slot.wgsl;
  const { base } = q8MapOf(slot);
  const pending = lanes.map((k) => `var<private> ${name}Pending${k}: vec4<f32>;`).join('\n');
  const keep = lanes.map((k) => `    case ${k}u: { ${name}Pending${k} = x; }`).join('\n');
  const kept = lanes.map((k) => `    case ${k}u: { return ${name}Pending${k}; }`).join('\n');
  return `${pending}
var<private> ${name}Stored: bool;
var<private> ${name}Absmax: f32;
fn ${name}Load(i: u32) -> vec4<f32> {
  if (!q8IsQuantized()) {
    let w = q8SideWord(i);
    return bitcast<vec4<f32>>(vec4<u32>(${name}[w], ${name}[w + 1u], ${name}[w + 2u], ${name}[w + 3u]));
  }
  if (!q8HasRun()) {
    return vec4<f32>(0.0);
  }
  // Settled: the code this invocation just stored, with its run's absmax as the tile took it (the
  // absmax in memory is another invocation's store, not yet visible here).
  let settled = q8Settled && ${name}Stored;
  return q8Decode(${base}u, ${name}[q8CodeWord(i)], select(bitcast<f32>(${name}[q8AbsmaxBase() + q8Entry.z]), ${name}Absmax, settled));
}
fn ${name}Store(i: u32, x: vec4<f32>) {
  if (q8Settled) {
    return;
  }
  if (!q8IsQuantized()) {
    let w = q8SideWord(i);
    let b = bitcast<vec4<u32>>(x);
    ${name}[w] = b.x;
    ${name}[w + 1u] = b.y;
    ${name}[w + 2u] = b.z;
    ${name}[w + 3u] = b.w;
    return;
  }
  ${name}Stored = true;
  switch q8K {
${keep}
    default: {}
  }
}
fn ${name}Kept(k: u32) -> vec4<f32> {
  switch k {
${kept}
    default: { return vec4<f32>(0.0); }
  }
}`;
}

/** The most vec4s a lane of an 8-bit tile holds (q8TileShape in src/state/q8.ts). */
const Q8_MAX_LANE_VECTORS = 4;

/**
 * The indices of a lane's vec4s (LANE_VECTORS in q8.wgsl), each kept in its own private value
 * (registers, not an indexed array). The source has exactly as many as the pipeline's lanes hold:
 * on an H100, four values per slot where two were used made Adam's 16M step 7 % slower.
 */
function laneKs(laneVectors: number): number[] {
  if (![1, 2, 4].includes(laneVectors)) throw new Error(`webgpu-optim: 8-bit tiles hold 1, 2 or 4 vec4s per lane, got ${laneVectors}`);
  return Array.from({ length: laneVectors }, (_, k) => k);
}

/** A slot's map in the kernel's map table (signed first, then unsigned) and the code of 0 in it. */
function q8MapOf(slot: SlotSpec): { base: number; zero: number } {
  const map = mapOf(slot);
  return { base: map === 'signed' ? 0 : 256, zero: zeroCode(Q8_MAPS[map]) };
}

/**
 * The tile's two phases over the quantized slots a lane stored: its max |x| bits into its run's
 * atomic, then (after the barrier) the codes and the run's absmax. A slot the update only loads
 * (LAMB's moments in its update pass) is left as it is.
 */
function q8Finish(slots: readonly SlotSpec[], lanes: readonly number[]): string {
  const maxes = slots.map((s, n) => {
    const bits = lanes.map((k) => `q8AbsBits(${s.wgsl}Pending${k}, ${k}u)`).reduce((x, y) => `max(${x}, ${y})`);
    return `  if (${s.wgsl}Stored) {
    atomicMax(&q8RunMax[q8RunSlot(${n}u)], ${bits});
  }`;
  });
  const stores = slots.map((s, n) => {
    const { base, zero } = q8MapOf(s);
    return `  if (${s.wgsl}Stored) {
    let absmax = q8Absmax(atomicLoad(&q8RunMax[q8RunSlot(${n}u)]));
    ${s.wgsl}Absmax = absmax;
    for (var k = 0u; k < LANE_VECTORS; k++) {
      ${s.wgsl}[q8CodeWord(first + CHUNK_LANES * k)] = q8Encode(${base}u, ${zero}u, ${s.wgsl}Kept(k), absmax);
    }
    if (storesAbsmax) {
      ${s.wgsl}[q8AbsmaxBase() + q8Entry.z] = bitcast<u32>(absmax);
    }
  }`;
  });
  return `const LANE_VECTORS = ${lanes.length}u;
const Q8_SLOTS = ${slots.length}u;
fn q8RunMaxes() {
${maxes.join('\n')}
}
fn q8StoreCodes(first: u32, storesAbsmax: bool) {
${stores.join('\n')}
}`;
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
