/**
 * Prodigy's global scalars on the GPU, and its pass: the per-tensor sums (src/passes/tensor-sums.ts)
 * with the scalars kept after their scratch, in the same binding, and the chunk → tensor table in it
 * too (TENSOR_SUMS_IN_SCRATCH): no binding of their own, so that with β₁ > 0 the kernel binds 8
 * storage buffers (hyper, param, grad, the scratch, exp_avg, exp_avg_sq, s, p0), within WebGPU's
 * default maxStorageBuffersPerShaderStage; then the dispatch that folds the per-tensor sums into
 * them (`prodigyFold` in prodigy.wgsl, one invocation, tensors in order: a fixed order, so the twin
 * matches it bit for bit). The scratch: the sums' own entries, the chunk table (one entry per
 * chunk), each tensor's first element (u32 bits, padded to a vec4: sliceP counts from it), each
 * tensor's group (u32 bits, padded to a vec4), then the 16 scalar words (d,
 * d_numerator, d_max, d̂, k, β₁ᵏ, β₂ᵏ, the step's dlr, whether it updated, the tensor count), the
 * last 4 entries. Everything is made once at creation; a step records the sums and one dispatch.
 */
import type { PassContext, PassDeclaration, StepPass } from '../../core/passes.js';
import { describeValue } from '../../core/describe-value.js';
import { readBuffers } from '../../core/readback.js';
import { scratchEntries } from '../../passes/tensor-reduction.js';
import { chunkTableEntries, createTensorSumsPass, TENSOR_SUMS_IN_SCRATCH, tensorSumsPass } from '../../passes/tensor-sums.js';

/** Indices of the scalars in the buffer (prodigy.wgsl's PRODIGY_* constants). */
export const PRODIGY_SCALARS = { d: 0, d_numerator: 1, d_max: 2, d_hat: 3, k: 4, beta1Power: 5, beta2Power: 6, dlr: 7, applied: 8, tensors: 9 } as const;

/** Where tensor 0's group sits (the scalars take the first 16 words). */
export const PRODIGY_TENSOR_GROUPS = 16;

/** The buffer's initial words: d = d_max = d0, powers 1, the rest 0, then each tensor's group (u32 bits). */
export function initialProdigyWords(d0: number, tensorGroup: readonly number[]): Float32Array<ArrayBuffer> {
  const words = new Float32Array(PRODIGY_TENSOR_GROUPS + tensorGroup.length);
  words[PRODIGY_SCALARS.d] = d0;
  words[PRODIGY_SCALARS.d_max] = d0;
  words[PRODIGY_SCALARS.d_hat] = NaN;
  words[PRODIGY_SCALARS.beta1Power] = 1;
  words[PRODIGY_SCALARS.beta2Power] = 1;
  const bits = new Uint32Array(words.buffer);
  bits[PRODIGY_SCALARS.tensors] = tensorGroup.length;
  bits.set(tensorGroup, PRODIGY_TENSOR_GROUPS);
  return words;
}

/** vec4 entries of the scratch's tail: the groups (padded), then the 16 scalar words. */
const tailEntries = (tensors: number) => Math.ceil(tensors / 4) + PRODIGY_TENSOR_GROUPS / 4;

/** The tail's words (groups padded, then scalars) from the words (scalars, then groups), and back. */
function tailOf(words: Float32Array): Float32Array<ArrayBuffer> {
  const tensors = words.length - PRODIGY_TENSOR_GROUPS;
  const tail = new Float32Array(tailEntries(tensors) * 4);
  tail.set(words.subarray(PRODIGY_TENSOR_GROUPS));
  tail.set(words.subarray(0, PRODIGY_TENSOR_GROUPS), tail.length - PRODIGY_TENSOR_GROUPS);
  return tail;
}
function wordsOf(tail: Float32Array, tensors: number): Float32Array {
  const words = new Float32Array(PRODIGY_TENSOR_GROUPS + tensors);
  words.set(tail.subarray(tail.length - PRODIGY_TENSOR_GROUPS));
  words.set(tail.subarray(0, tensors), PRODIGY_TENSOR_GROUPS);
  return words;
}

function createProdigyPass(context: PassContext): StepPass {
  const { device, label, tensorGroup, groups, layout } = context;
  const offsetEntries = Math.ceil(tensorGroup.length / 4);
  // The per-tensor build (PyTorch's step rule) binds the plain build's scratch: d and its companions
  // in the tail are one state, the tables there already written.
  const shared = context.plain && (context.plain.resources.tensorScratch!(0) as GPUBufferBinding).buffer;
  const sums = createTensorSumsPass(context, offsetEntries + tailEntries(tensorGroup.length), true, shared);
  const offset = (scratchEntries(layout) + chunkTableEntries(layout) + offsetEntries) * 16;
  const initial = tailOf(initialProdigyWords(Math.fround((groups[0] as { d0: number }).d0), tensorGroup));
  if (!shared) {
    // Each tensor's first element (u32 bits), where sliceP counts its elements from, after the table.
    const offsets = new Uint32Array(offsetEntries * 4);
    offsets.set(layout.tensors.map((t) => t.offset));
    device.queue.writeBuffer(sums.scratch, (scratchEntries(layout) + chunkTableEntries(layout)) * 16, offsets);
    device.queue.writeBuffer(sums.scratch, offset, initial);
  }
  const fold = context.kernelPipeline('prodigyFold');
  return {
    resources: sums.resources,
    allocatedBytes: sums.allocatedBytes,
    record(pass, kernelBindGroup) {
      sums.record!(pass, kernelBindGroup);
      const [group, offsets] = kernelBindGroup(0);
      pass.setPipeline(fold);
      pass.setBindGroup(0, group, offsets);
      pass.dispatchWorkgroups(1);
    },
    setWords: {
      read: async () => wordsOf((await readBuffers(device, [{ buffer: sums.scratch, offset, byteLength: initial.byteLength }], `${label}:prodigy`))[0]!, tensorGroup.length),
      write: (next) => device.queue.writeBuffer(sums.scratch, offset, tailOf(next)),
    },
    destroy: () => sums.destroy(),
  };
}

/** The most steps k counts exactly (an f32 word). */
const MAX_K = 2 ** 24;

/** A state dict's `setState`: the authors' names (d_hat once a step computed it). */
export function prodigyDictEntries(words: Float32Array): Record<string, number> {
  const dHat = words[PRODIGY_SCALARS.d_hat]!;
  return {
    d: words[PRODIGY_SCALARS.d]!,
    d_numerator: words[PRODIGY_SCALARS.d_numerator]!,
    d_max: words[PRODIGY_SCALARS.d_max]!,
    k: words[PRODIGY_SCALARS.k]!,
    ...(Number.isNaN(dHat) ? {} : { d_hat: dHat }),
  };
}

/**
 * The words a dict's `setState` gives (checked as a stranger's: the four names, and d_hat or not,
 * float32 values, d and d_max > 0, k a count); β₁ᵏ and β₂ᵏ are multiplied again k times in
 * f32, as the steps did.
 */
export function prodigyDictWords(entries: unknown, initial: Float32Array, betas: readonly [number, number], fail: (message: string) => never, step: number): Float32Array {
  if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) fail(`setState must be an object { d, d_numerator, d_max, k, d_hat? }, got ${describeValue(entries)}`);
  const e = entries as Record<string, unknown>;
  for (const key of Object.keys(e)) if (!['d', 'd_numerator', 'd_max', 'k', 'd_hat'].includes(key)) fail(`setState has an entry ${describeValue(key)}, which Prodigy does not keep`);
  // What a run can reach is taken back: a NaN or infinite gradient makes d_numerator and d̂ NaN (d
  // and d_max then stay, Python's max), an overflow makes d infinite; a finite value float32 cannot
  // hold is refused.
  const float32 = (name: string, positive: boolean) => {
    const v = e[name];
    if (typeof v !== 'number' || (Number.isFinite(v) && !Number.isFinite(Math.fround(v))) || (positive && !(v > 0))) fail(`setState.${name} must be a float32${positive ? ' > 0' : ''}, got ${describeValue(v)}`);
    return Math.fround(v as number);
  };
  const k = e.k;
  if (!Number.isSafeInteger(k) || (k as number) < 0 || (k as number) > MAX_K) fail(`setState.k must be an integer in [0, ${MAX_K}], got ${describeValue(k)}`);
  // k counts the steps that moved d: every step but the authors' early return (Σ|s| = 0), never more.
  if ((k as number) > step) fail(`setState.k is ${k as number}, more than the dict's step ${step} (k counts the steps that moved d)`);
  const words = initial.slice();
  words[PRODIGY_SCALARS.d] = float32('d', true);
  words[PRODIGY_SCALARS.d_numerator] = float32('d_numerator', false);
  words[PRODIGY_SCALARS.d_max] = float32('d_max', true);
  words[PRODIGY_SCALARS.d_hat] = e.d_hat === undefined ? NaN : float32('d_hat', false);
  words[PRODIGY_SCALARS.k] = k as number;
  const [b1, b2] = [Math.fround(betas[0]), Math.fround(betas[1])];
  for (let step = 0; step < (k as number); step++) {
    words[PRODIGY_SCALARS.beta1Power] = Math.fround(words[PRODIGY_SCALARS.beta1Power]! * b1);
    words[PRODIGY_SCALARS.beta2Power] = Math.fround(words[PRODIGY_SCALARS.beta2Power]! * b2);
  }
  return words;
}

/**
 * Prodigy's pass: the per-tensor sums of partials() (Σ g·(p0 − p), Σ|s|) with the chunk table and
 * the scalars in their scratch, then their fold. One declaration: the sums' flags and bindings with
 * the table in the scratch, their WGSL, and a check that counts the table and the tail.
 */
export const prodigyPass: PassDeclaration = {
  name: 'prodigy',
  flags: TENSOR_SUMS_IN_SCRATCH.flags,
  bindings: TENSOR_SUMS_IN_SCRATCH.bindings,
  wgsl: tensorSumsPass.wgsl!,
  check(what, layout, limits) {
    const bytes = (scratchEntries(layout) + chunkTableEntries(layout) + Math.ceil(layout.tensors.length / 4) + tailEntries(layout.tensors.length)) * 16;
    if (bytes > limits.maxStorageBufferBindingSize) {
      throw new RangeError(
        `webgpu-optim: ${what}: the per-tensor sums, chunk table and Prodigy's scalars of ${layout.tensors.length} tensors need a ${bytes}-byte scratch binding, over the ` +
          `device's maxStorageBufferBindingSize (${limits.maxStorageBufferBindingSize}); split the model into several parameter sets`,
      );
    }
  },
  create: createProdigyPass,
  perTensor: true,
  // The sums' vectorPartials reads the controlled gradient under GRAD_CONTROL (as tensorSumsPass's).
  perTensorControl: true,
};
