/** Off-the-step-path copies from GPU buffers to the CPU (stateDict, read). */

/** Copies `[offset, offset + byteLength)` of each source buffer to the CPU with one submit. */
export async function readBuffers(
  device: GPUDevice,
  sources: readonly { buffer: GPUBuffer; offset?: number; byteLength: number }[],
  label: string,
): Promise<Float32Array[]> {
  const staging = sources.map(({ byteLength }, i) =>
    device.createBuffer({ label: `${label}:staging${i}`, size: Math.max(4, byteLength), usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ }),
  );
  const encoder = device.createCommandEncoder({ label: `${label}:readback` });
  sources.forEach(({ buffer, offset = 0, byteLength }, i) => {
    if (byteLength > 0) encoder.copyBufferToBuffer(buffer, offset, staging[i]!, 0, byteLength);
  });
  device.queue.submit([encoder.finish()]);
  try {
    return await Promise.all(
      staging.map(async (buffer, i) => {
        await buffer.mapAsync(GPUMapMode.READ);
        const copy = new Float32Array(buffer.getMappedRange(0, sources[i]!.byteLength).slice(0));
        buffer.unmap();
        return copy;
      }),
    );
  } finally {
    for (const buffer of staging) buffer.destroy();
  }
}
