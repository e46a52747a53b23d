/**
 * The safetensors file format, float32 only: an 8-byte little-endian header length, a JSON header
 * (`{name: {dtype, shape, data_offsets}}` plus `__metadata__`, a string → string map), then the
 * raw little-endian data. Small enough to read anywhere: the `safetensors` package, or ten lines
 * of numpy (python/webgpu_optim_torch.py).
 */

export interface SafetensorsContent {
  tensors: Record<string, { shape: number[]; data: Float32Array }>;
  metadata: Record<string, string>;
}

/** One file from float32 tensors and string metadata; tensors in name order, 8-byte aligned header. */
export function encodeSafetensors(content: SafetensorsContent): Uint8Array {
  const names = Object.keys(content.tensors).sort();
  const header: Record<string, unknown> = { __metadata__: content.metadata };
  let offset = 0;
  for (const name of names) {
    const { shape, data } = content.tensors[name]!;
    if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new RangeError(`webgpu-optim: safetensors tensor "${name}": shape [${shape}] does not hold ${data.length} values`);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  json = Uint8Array.from([...json, ...new Array<number>(padded - json.length).fill(0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const name of names) {
    const { data } = content.tensors[name]!;
    for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i]!, true);
    at += data.byteLength;
  }
  return out;
}

/** Reads a safetensors file of float32 tensors; anything else is refused with the reason. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContent {
  const fail = (why: string): never => {
    throw new Error(`webgpu-optim: not a float32 safetensors file: ${why}`);
  };
  if (!(bytes instanceof Uint8Array) || bytes.length < 8) fail('shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) fail(`header length ${headerLength} runs past the end`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    return fail(`the header is not JSON (${(error as Error).message})`);
  }
  const base = 8 + headerLength;
  const tensors: SafetensorsContent['tensors'] = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [begin, end] = [] } = entry as { dtype: string; shape: number[]; data_offsets: number[] };
    if (dtype !== 'F32') fail(`tensor "${name}" is ${dtype}, not F32`);
    if (!(begin! >= 0 && end! >= begin! && base + end! <= bytes.length && (end! - begin!) % 4 === 0)) fail(`tensor "${name}" has bad data offsets`);
    const data = new Float32Array((end! - begin!) / 4);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(base + begin! + 4 * i, true);
    tensors[name] = { shape, data };
  }
  return { tensors, metadata: (header.__metadata__ as Record<string, string>) ?? {} };
}
