/** The GPU buffers one MLP runner owns, every one labelled and destroyed with the runner. */

/** Activations and their gradients for a batch, the per-row loss and hits, and the readback staging buffer. */
export interface MlpBuffers {
  /** Rows of the dataset in the batch. */
  readonly indices: GPUBuffer;
  /** The gathered inputs [batch × layers[0]] and their labels. */
  readonly x0: GPUBuffer;
  readonly labels: GPUBuffer;
  /** Per layer: pre-activations, activations and the loss's gradient of the pre-activations. */
  readonly z: GPUBuffer[];
  readonly a: GPUBuffer[];
  readonly dz: GPUBuffer[];
  readonly loss: GPUBuffer;
  readonly correct: GPUBuffer;
  readonly staging: GPUBuffer;
  /** A uniform of one kernel's dimensions (batch, inputs, outputs, ReLU on the output). */
  dims(batch: number, inputs: number, outputs: number, relu: boolean): GPUBuffer;
  destroy(): void;
}

export function createMlpBuffers(device: GPUDevice, label: string, layers: readonly number[], batch: number): MlpBuffers {
  const owned: GPUBuffer[] = [];
  const buffer = (name: string, bytes: number, usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC) => {
    const b = device.createBuffer({ label: `${label}:${name}`, size: Math.max(16, bytes), usage });
    owned.push(b);
    return b;
  };
  const outputs = layers.slice(1);
  return {
    indices: buffer('batchIndex', batch * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST),
    x0: buffer('x', batch * layers[0]! * 4),
    labels: buffer('labels', batch * 4),
    z: outputs.map((o, l) => buffer(`z${l}`, batch * o * 4)),
    a: outputs.map((o, l) => buffer(`a${l}`, batch * o * 4)),
    dz: outputs.map((o, l) => buffer(`dz${l}`, batch * o * 4)),
    loss: buffer('loss', batch * 4),
    correct: buffer('correct', batch * 4),
    staging: buffer('staging', batch * Math.max(2, layers[layers.length - 1]!) * 4, GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ),
    dims(b, i, o, relu) {
      const u = buffer('dims', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      device.queue.writeBuffer(u, 0, Uint32Array.of(b, i, o, relu ? 1 : 0));
      return u;
    },
    destroy() {
      for (const b of owned) b.destroy();
    },
  };
}
