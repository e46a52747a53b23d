/**
 * A pass written outside the library, through the public pass contract alone: Σg² of each tensor,
 * summed before the update by an entry point of the optimizer's own WGSL, into a buffer the
 * update kernel binds. It proves that an optimizer needing a new kind of pass is its folder plus a
 * pass module, with no engine file touched.
 */
import type { PackedLayout, PassContext, PassDeclaration, StepPass } from '../../../src/index.js';

/** Bytes between the segments' entries of the segment uniform (a uniform offset alignment). */
const SEGMENT_STRIDE = 256;
const WORKGROUP = 64;

/** Per 64-element chunk of the set, its tensor (padding chunks: tensor 0, whose g there is 0). */
function chunkTensors(layout: PackedLayout): Uint32Array<ArrayBuffer> {
  const table = new Uint32Array(Math.max(64, Math.ceil(layout.paddedLength / 64 / 64) * 64));
  layout.tensors.forEach((t, i) => table.fill(i, t.offset / 64, t.offset / 64 + Math.ceil(t.length / 64)));
  return table;
}

function createTensorGradSquares(context: PassContext): StepPass {
  const { device, label, layout } = context;
  const upload = (name: string, data: Uint32Array<ArrayBuffer>, usage: number) => {
    const buffer = device.createBuffer({ label: `${label}:${name}`, size: data.byteLength, usage: usage | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };
  const chunks = upload('nsgdChunks', chunkTensors(layout), GPUBufferUsage.STORAGE);
  const tensors = upload('nsgdTensors', Uint32Array.from(layout.tensors.flatMap((t, i) => [t.offset, t.length, context.tensorGroup[i]!, 0])), GPUBufferUsage.STORAGE);
  const segments = new Uint32Array((layout.segments.length * SEGMENT_STRIDE) / 4);
  layout.segments.forEach((segment, s) => segments.set([segment.firstElement, segment.elementCount], (s * SEGMENT_STRIDE) / 4));
  const segmentInfo = upload('nsgdSegment', segments, GPUBufferUsage.UNIFORM);
  const sums = device.createBuffer({ label: `${label}:nsgdSums`, size: Math.max(16, layout.tensors.length * 4), usage: GPUBufferUsage.STORAGE });
  const pipeline = context.kernelPipeline('tensorGradSquares');
  const workgroups = Math.ceil(layout.tensors.length / WORKGROUP);
  return {
    resources: {
      nsgdChunks: (s) => ({ buffer: chunks, offset: (layout.segments[s]!.firstElement / 64) * 4, size: (layout.segments[s]!.elementCount / 64) * 4 }),
      nsgdTensors: () => ({ buffer: tensors }),
      nsgdSums: () => ({ buffer: sums }),
      nsgdSegment: (s) => ({ buffer: segmentInfo, offset: s * SEGMENT_STRIDE, size: 16 }),
    },
    record(pass, bindGroup) {
      if (workgroups === 0) return;
      pass.setPipeline(pipeline);
      layout.segments.forEach((_, s) => {
        pass.setBindGroup(0, ...bindGroup(s));
        pass.dispatchWorkgroups(workgroups);
      });
    },
    allocatedBytes: [chunks, tensors, segmentInfo, sums].reduce((n, b) => n + b.size, 0),
    destroy() {
      for (const buffer of [chunks, tensors, segmentInfo, sums]) buffer.destroy();
    },
  };
}

export const tensorGradSquaresPass: PassDeclaration = {
  name: 'tensorGradSquares',
  flags: {},
  bindings: [
    { name: 'nsgdChunks', declaration: 'var<storage, read> nsgdChunks: array<u32>', type: 'read-only-storage' },
    { name: 'nsgdTensors', declaration: 'var<storage, read> nsgdTensors: array<vec4<u32>>', type: 'read-only-storage' },
    { name: 'nsgdSums', declaration: 'var<storage, read_write> nsgdSums: array<f32>', type: 'storage' },
    { name: 'nsgdSegment', declaration: 'var<uniform> nsgdSegment: vec4<u32>', type: 'uniform' },
  ],
  check(what, layout, limits) {
    if (Math.ceil(layout.tensors.length / WORKGROUP) > limits.maxComputeWorkgroupsPerDimension) {
      throw new RangeError(`${what}: ${layout.tensors.length} tensors are more than one dispatch of tensorGradSquares covers`);
    }
  },
  create: createTensorGradSquares,
};
