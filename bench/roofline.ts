/**
 * The roofline: a copy-style kernel that moves exactly the bytes an optimizer must move (reads
 * `reads` f32 arrays, writes `writes`) in the optimizer kernels' shape (vec4s,
 * `vectorsPerInvocation` of them per invocation), so the optimizer's time can be read as a
 * fraction of what memory traffic alone costs.
 */
export interface RooflineKernel {
  record(encoder: GPUCommandEncoder, timestampWrites?: GPUComputePassTimestampWrites): void;
  destroy(): void;
}

/**
 * The WGSL of the roofline kernel. Each written array is a buffer of its own; the read-only ones
 * too while the device's storage-buffer limit allows, the rest as regions of one last buffer (an
 * optimizer over the limit splits its bindings the same way: the bytes moved are what count).
 */
function rooflineCode(reads: number, writes: number, bindings: number, vec4s: number): string {
  const packed = reads - bindings + 1;
  const decls: string[] = [];
  for (let b = 0; b < bindings; b++) {
    decls.push(`@group(0) @binding(${b}) var<storage, ${b < writes ? 'read_write' : 'read'}> b${b}: array<vec4<f32>>;`);
  }
  const loads = Array.from({ length: reads }, (_, r) => (r < bindings - 1 || packed === 1 ? `b${r}[i]` : `b${bindings - 1}[i + ${(r - bindings + 1) * vec4s}u]`));
  const stores = Array.from({ length: writes }, (_, b) => `  b${b}[i] = s * ${(b + 1) * 0.5};`).join('\n');
  return `${decls.join('\n')}
override WG: u32 = 256u;
override V: u32 = 1u;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = (wid.y * nwg.x + wid.x) * WG * V + lid;
  for (var k = 0u; k < V; k++) {
    let i = first + k * WG;
    if (i >= arrayLength(&b0)) { return; }
    let s = ${loads.join(' + ')};
  ${stores}
  }
}`;
}

export function createRoofline(device: GPUDevice, elements: number, reads: number, writes: number, workgroupSize = 256, vectorsPerInvocation = 1): RooflineKernel {
  const vec4s = Math.ceil(elements / 4);
  const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
  const workgroups = Math.ceil(vec4s / (workgroupSize * vectorsPerInvocation));
  const x = Math.min(workgroups, maxDim);
  const y = Math.ceil(workgroups / x);
  // Buffers 0..writes-1 are read and written (like p, m, v); the rest are read only (like g).
  const bindings = Math.min(reads, device.limits.maxStorageBuffersPerShaderStage);
  if (writes >= bindings && reads > bindings) throw new Error(`bench: a roofline of ${writes} written arrays needs more than ${bindings} storage buffers`);
  const code = rooflineCode(reads, writes, bindings, vec4s);
  const label = `bench:roofline:${reads}r${writes}w`;
  const module = device.createShaderModule({ label, code });
  const pipeline = device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint: 'main', constants: { WG: workgroupSize, V: vectorsPerInvocation } } });
  const buffers = Array.from({ length: bindings }, (_, b) =>
    device.createBuffer({ label: `${label}:buffer${b}`, size: vec4s * 16 * (b === bindings - 1 ? reads - bindings + 1 : 1), usage: GPUBufferUsage.STORAGE }),
  );
  const bindGroup = device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  return {
    record(encoder, timestampWrites) {
      const pass = encoder.beginComputePass({ label, timestampWrites });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y);
      pass.end();
    },
    destroy() {
      for (const b of buffers) b.destroy();
    },
  };
}
