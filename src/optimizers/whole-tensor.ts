/** A layer-wise twin (LAMB, LARS) updates whole tensors: its norms span every element. */
export function checkWholeTensor(optimizer: string, param: Float32Array, begin: number, end: number): void {
  if (begin !== 0 || end !== param.length) {
    throw new RangeError(`webgpu-optim: ${optimizer}'s twin updates whole tensors (per-tensor norms), got the range [${begin}, ${end}) of ${param.length}`);
  }
}
