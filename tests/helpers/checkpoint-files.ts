/** Hand-made safetensors files for the checkpoint tests: any header (valid or not) over any bytes. */
import { createReferenceOptimizer, toTorchCheckpoint } from '../../src/index.js';

/** A file of `header` (an object, or raw JSON text) padded with spaces, then `data`. */
export function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerLength?: number): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** The header and data area of a file (for rewriting one field). */
export function splitFile(file: Uint8Array): { header: Record<string, any>; data: Uint8Array } {
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length))), data: file.slice(8 + length) };
}

/** `file` with its header changed by `edit` (same data). */
export function withHeader(file: Uint8Array, edit: (header: Record<string, any>) => void): Uint8Array {
  const { header, data } = splitFile(file);
  edit(header);
  return rawFile(header, data);
}

/** `file` with metadata key `key` set to `text` (or removed when undefined). */
export function withMetadata(file: Uint8Array, key: string, text: string | undefined): Uint8Array {
  return withHeader(file, (h) => {
    if (text === undefined) delete h.__metadata__[key];
    else h.__metadata__[key] = text;
  });
}

/** Float32 bytes of `values`, little-endian. */
export const f32Bytes = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

/** Tensors `v` (5) and `m` (2 × 3) in two groups, as the torch-checkpoint tests use them. */
export const TENSORS = () => [
  { name: 'v', data: Float32Array.from([1, -2, 3, -4, 5]), shape: [5] },
  { name: 'm', data: Float32Array.from([0.5, 1, 1.5, 2, 2.5, 3]), shape: [2, 3] },
];
const GRADS = [Float32Array.from([0.1, 0.2, -0.3, 0.4, -0.5]), Float32Array.from([1, -1, 2, -2, 3, -3])];

/** An optimizer of `name` over TENSORS (two groups), `steps` steps taken. */
export function trained(name: 'adam' | 'sgd' | 'nadam' | 'rmsprop', steps: number, options: Record<string, unknown> = {}) {
  const base = name === 'sgd' ? { lr: 0.1, momentum: 0.9 } : {};
  const opt = createReferenceOptimizer(name, TENSORS(), { ...base, ...options, groups: [{ tensors: ['m'], lr: 0.05 }] } as never);
  for (let k = 0; k < steps; k++) opt.step(GRADS);
  return opt;
}

/** A valid checkpoint of Adam after 3 steps, and a fresh Adam to load it into. */
export function adamCheckpoint() {
  return { file: toTorchCheckpoint(trained('adam', 3).stateDict()), target: trained('adam', 0) };
}
