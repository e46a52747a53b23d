/**
 * Prodigy's global scalars on the GPU: one small buffer, `prodigy`, that the optimizer owns and
 * carries between steps (d, d_numerator, d_max, d̂, k, the powers β₁ᵏ and β₂ᵏ, the step's dlr and
 * whether it updated; then each tensor's group), and the dispatch that folds the per-tensor sums
 * into them (`prodigyFold` in prodigy.wgsl, one invocation, tensors in order: a fixed order, so the
 * twin matches it bit for bit). Made once at creation; a step records one dispatch.
 */
import type { PassContext, PassDeclaration, StepPass } from '../../core/passes.js';

/** Indices of the scalars in the buffer (prodigy.wgsl's PRODIGY_* constants). */
export const PRODIGY_SCALARS = { d: 0, d_numerator: 1, d_max: 2, d_hat: 3, k: 4, beta1Power: 5, beta2Power: 6, dlr: 7, applied: 8 } as const;

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
  new Uint32Array(words.buffer).set(tensorGroup, PRODIGY_TENSOR_GROUPS);
  return words;
}

function createProdigyScalarsPass(context: PassContext): StepPass {
  const { device, label, tensorGroup, groups } = context;
  const words = initialProdigyWords((groups[0] as { d0: number }).d0, tensorGroup);
  const buffer = device.createBuffer({ label: `${label}:prodigy`, size: words.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  device.queue.writeBuffer(buffer, 0, words);
  const fold = context.kernelPipeline('prodigyFold');
  return {
    resources: { prodigy: () => ({ buffer }) },
    record(pass, kernelBindGroup) {
      const [group, offsets] = kernelBindGroup(0);
      pass.setPipeline(fold);
      pass.setBindGroup(0, group, offsets);
      pass.dispatchWorkgroups(1);
    },
    destroy: () => buffer.destroy(),
  };
}

/** The global scalars and their fold; declared after the per-tensor sums, whose results it reads. */
export const prodigyScalarsPass: PassDeclaration = {
  name: 'prodigyScalars',
  flags: {},
  bindings: [{ name: 'prodigy', declaration: 'var<storage, read_write> prodigy: array<f32>', type: 'storage' }],
  create: createProdigyScalarsPass,
};
