// Why a figure that looks wrong is what it is: the footnotes the benchmark's tables put under a
// surprising figure, each with the rule that calls for it (undefined: nothing to explain).

/** Below this many elements a tensor keeps f32 state under stateFormat 'q8' or 'q4' (src/state/q8.ts DEFAULT_QUANTIZATION). */
export const MIN_QUANTIZED_ELEMENTS = 4096;

/** A step faster than the copy kernel that is its roofline. */
export function rooflineNote(fraction, software) {
  if (!(fraction > 1)) return undefined;
  if (software) {
    return 'Over 100 % of the "roofline" on a software adapter: there the copy kernel bounds nothing. SwiftShader runs both kernels as code on the host CPU, bound by the emulation of their invocations rather than by memory (Adam moves well under 1 GB/s here, where a plain host copy moves several GB/s), and a reading of the copy kernel can come out slower than the optimizer\'s. The figure is kept as measured; a host-memory roofline would not bound the emulator either, so the column means something on a GPU only.';
  }
  return 'Over 100 % of the roofline: the step and the copy kernel moving the same bytes are timed separately (a median each), so within their spread they take the same time.';
}

/** The plain-JS CPU loop faster than the packed step. */
export function cpuNote(ratio, software) {
  if (!(ratio < 1) || !software) return undefined;
  return 'Below 1×: the plain-JS loop beats a software adapter, which emulates the GPU on the same CPU cores (CPU timings, not GPU speed).';
}

/** A 16- or 8-bit state step slower than the f32 one. */
export function stateFormatNote(mode, ratio, software) {
  if (!(ratio > 1.1) || !software) return undefined;
  if (mode === 'fusedQ4') return 'q4 step slower than f32 on a software adapter: as for q8, each block\'s fixed work (the map copy, barriers, atomics) and here the packing of two codes per byte are emulated lane by lane; SwiftShader timings are CPU timings, not GPU speed.';
  if (mode === 'fusedQ8') return 'q8 step slower than f32 on a software adapter: each block\'s fixed work (the map copy, barriers, atomics) is emulated lane by lane; on a GPU the smaller state makes the step faster (see the H100 sections).';
  return '16-bit step slower than f32 on a software adapter: the packing and unpacking are emulated per lane; on a GPU the smaller state makes the step faster (see the H100 sections).';
}

/**
 * A row's bytes per parameter by state format counting every buffer the optimizer holds
 * (`allocatedBytesPerParam`); a row measured before that figure existed gives its state buffers
 * only (`stateBytesPerParam`), with `stateOnly` set (the report marks it with STATE_ONLY_NOTE).
 */
export function bytesPerParam(row) {
  if (row.allocatedBytesPerParam) return { bytes: row.allocatedBytesPerParam, stateOnly: false };
  if (row.stateBytesPerParam) return { bytes: row.stateBytesPerParam, stateOnly: true };
  return undefined;
}

export const STATE_ONLY_NOTE =
  'State buffers only (`Optimizer.stateBytes`): measured before the benchmark counted every buffer (`Optimizer.allocatedBytes`); q8 then also held a chunk table of 0.25 byte per parameter, not counted here.';

/** q8 (or q4) state that saves little or nothing: the workload's tensors are under the quantization threshold. */
export function q8BytesNote(q8, f32, format = 'q8') {
  if (q8 === undefined || f32 === undefined || q8 <= 0.5 * f32) return undefined;
  const more = format === 'q8' && q8 > f32 ? ' Above f32: runs before 2026-11-27 06:00 UTC also gave such tensors 8-bit codes they did not use (since then they cost their f32 values only).' : '';
  return `${format} saves little or nothing here: a tensor under minQuantizedElements (${MIN_QUANTIZED_ELEMENTS} elements by default, bitsandbytes' min_8bit_size) keeps f32 state, since for it the per-block scale and the encoding cost more than they save, and this workload's tensors are (mostly) that small.${more}`;
}

/**
 * Why cells have no figure, one note per column (mode → note): "n/a: TF.js has no adamw, nadam."
 * Reasons that differ in their last word only (the optimizer's name) are said once.
 */
export function skippedNotes(rows) {
  const byMode = new Map();
  for (const row of rows) {
    for (const [mode, outcome] of Object.entries(row.results)) {
      if (!outcome?.skipped) continue;
      if (!byMode.has(mode)) byMode.set(mode, new Map());
      const reason = outcome.skipped.trim();
      const cut = reason.lastIndexOf(' ');
      const [head, last] = cut > 0 ? [reason.slice(0, cut), reason.slice(cut + 1)] : [reason, ''];
      const heads = byMode.get(mode);
      if (!heads.has(head)) heads.set(head, []);
      if (!heads.get(head).includes(last)) heads.get(head).push(last);
    }
  }
  return new Map([...byMode].map(([mode, heads]) => [mode, `n/a: ${[...heads].map(([head, lasts]) => `${head} ${lasts.join(', ')}`.trim()).join('; ')}.`]));
}

/**
 * The caveat of a `model.fit` comparison (`theirs`, `ours`: its two entries): how many epochs were
 * timed, whether their ranges overlap, and that a software adapter emulates the convolutions that
 * dominate an epoch.
 */
export function fitNote(theirs, ours, software) {
  const timed = Math.min(theirs.epochMs?.length ?? 0, ours.epochMs?.length ?? 0);
  const reasons = [];
  if (timed < 3) reasons.push(`only ${timed === 1 ? 'one epoch was' : `${timed} epochs were`} timed (a quick run), so one slow epoch on a busy machine decides the ratio`);
  const range = (f) => [Math.min(...f.epochMs), Math.max(...f.epochMs)];
  if (timed > 1 && range(theirs)[0] <= range(ours)[1] && range(ours)[0] <= range(theirs)[1]) reasons.push('the two implementations\' epoch times overlap: the same speed within this run\'s spread');
  if (software) reasons.push('on a software adapter an epoch is dominated by emulated convolutions, not by the optimizer\'s step');
  if (!software && timed >= 3) return undefined;
  return `Not a speed comparison of the optimizers: ${reasons.join('; ')}. bench/RESULTS.md's GPU sections hold the comparison.`;
}

/** A peer many hundreds of times slower: its cost per tensor, spelled out. */
export function perTensorPeerNote(peerMs, tensors) {
  if (peerMs === undefined || tensors < 2) return undefined;
  return `The peer's step takes ${peerMs >= 1000 ? `${(peerMs / 1000).toPrecision(3)} s` : `${peerMs.toPrecision(3)} ms`} for ${tensors} tensors (${(peerMs / tensors).toPrecision(2)} ms per tensor): a host cost per tensor and op, not per byte, as measured.`;
}

/** PyTorch CUDA far slower than the packed step: its per-step host work. */
export function torchNote(ratio) {
  if (!(ratio > 3)) return undefined;
  return 'PyTorch is host-bound here: torch.optim walks its parameter list in Python every step and its CUDA events count the GPU\'s wait, where webgpu-optim\'s figure is the GPU time of its passes.';
}

/** A GPU step far under the roofline that another run of the same adapter measured at it. */
export function otherReadingNote(fraction, software, other) {
  if (software || !(fraction < 0.9) || !other || !(other.fraction > fraction + 0.2)) return undefined;
  return `Another run on this adapter (${other.date}) measured ${other.ms.toPrecision(3)} ms, ${(other.fraction * 100).toFixed(0)} % of the roofline, on the same workload; both readings are real and RESULTS.notes.md discusses them.`;
}
