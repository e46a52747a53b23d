/** Off-the-step-path copies from GPU buffers to the CPU (stateDict, read). */

/**
 * Copies `[offset, offset + byteLength)` of each source buffer to the CPU with one submit. A copy
 * the GPU refuses (a destroyed buffer, a lost device) rejects with the reason: it never resolves
 * to zeros.
 */
export async function readBuffers(
  device: GPUDevice,
  sources: readonly { buffer: GPUBuffer; offset?: number; byteLength: number }[],
  label: string,
): Promise<Float32Array[]> {
  device.pushErrorScope('validation');
  const staging = sources.map(({ byteLength }, i) =>
    device.createBuffer({ label: `${label}:staging${i}`, size: Math.max(4, byteLength), usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ }),
  );
  const encoder = device.createCommandEncoder({ label: `${label}:readback` });
  sources.forEach(({ buffer, offset = 0, byteLength }, i) => {
    if (byteLength > 0) encoder.copyBufferToBuffer(buffer, offset, staging[i]!, 0, byteLength);
  });
  device.queue.submit([encoder.finish()]);
  const refused = device.popErrorScope();
  try {
    const copies = await Promise.all(
      staging.map(async (buffer, i) => {
        await buffer.mapAsync(GPUMapMode.READ);
        const copy = new Float32Array(buffer.getMappedRange(0, sources[i]!.byteLength).slice(0));
        buffer.unmap();
        return copy;
      }),
    );
    const error = await refused;
    if (error) throw new Error(`webgpu-optim: reading ${label} failed: ${error.message}`);
    return copies;
  } catch (cause) {
    await refused.catch(() => undefined);
    if (cause instanceof Error && cause.message.startsWith('webgpu-optim:')) throw cause;
    throw new Error(`webgpu-optim: reading ${label} failed (${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}); was the device lost or the buffer destroyed?`);
  } finally {
    for (const buffer of staging) buffer.destroy();
  }
}
