/**
 * The safetensors file format, float32 only: an 8-byte little-endian header length, a JSON header
 * (`{name: {dtype, shape, data_offsets}}` plus `__metadata__`, a string → string map), then the
 * raw little-endian data. Small enough to read anywhere: the `safetensors` package, or a few lines
 * of numpy (the Python package in python/).
 *
 * Reading trusts nothing in the file (docs/checkpoint-format.md): the header length is bounded
 * before the header is decoded, every entry is checked (dtype, an integer shape whose product is
 * the number of values, integer offsets that tile the data area exactly), and the result is
 * prototype-free, so a tensor named `__proto__` is a name like any other.
 */
import { isCount, isObject, refusal, shown, type Fail } from '../core/refusal.js';
import { parseStrictJson } from '../core/strict-json.js';

/** Tensors by name and string metadata; a decoded file's records have no prototype. */
export interface SafetensorsContent {
  tensors: Record<string, { shape: number[]; data: Float32Array }>;
  metadata: Record<string, string>;
}

/** The largest header read: 100 MiB, as the safetensors package allows. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const METADATA = '__metadata__';
const ENTRY_KEYS = ['data_offsets', 'dtype', 'shape'];
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Refuses a tensor name or shape this library would not read back. */
function checkTensorToWrite(name: string, shape: unknown, length: number, fail: Fail): void {
  if (name === '' || name === METADATA) fail(`tensor name ${JSON.stringify(name)} is reserved or empty`);
  if (!Array.isArray(shape) || !shape.every(isCount)) fail(`tensor "${name}": shape must be an array of integers >= 0, got ${shown(shape)}`);
  if ((shape as number[]).reduce((a, b) => a * b, 1) !== length) fail(`tensor "${name}": shape ${shown(shape)} does not hold ${length} values`);
}

/** One file from float32 tensors and string metadata; tensors in name order, 8-byte aligned header. */
export function encodeSafetensors(content: SafetensorsContent): Uint8Array {
  const fail = refusal('encodeSafetensors');
  if (!isObject(content) || !isObject(content.tensors)) fail('content must be { tensors, metadata }');
  const metadata = content.metadata ?? {};
  if (!isObject(metadata)) fail(`metadata must be an object of strings, got ${shown(metadata)}`);
  const header: Record<string, unknown> = Object.create(null);
  header[METADATA] = Object.assign(Object.create(null), metadata);
  for (const [key, value] of Object.entries(metadata)) if (typeof value !== 'string') fail(`metadata["${key}"] must be a string, got ${shown(value)}`);
  const names = Object.keys(content.tensors).sort();
  let offset = 0;
  for (const name of names) {
    const tensor = content.tensors[name];
    if (!isObject(tensor) || !(tensor.data instanceof Float32Array)) fail(`tensor "${name}" must be { shape, data: Float32Array }`);
    const { shape, data } = tensor as { shape: number[]; data: Float32Array };
    checkTensorToWrite(name, shape, data.length, fail);
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset).fill(0x20, 8 + json.length, 8 + headerLength);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  let at = 8 + headerLength;
  for (const name of names) {
    const { data } = content.tensors[name]!;
    if (LITTLE_ENDIAN) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    else for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i]!, true);
    at += data.byteLength;
  }
  return out;
}

/** Reads a safetensors file of float32 tensors; anything else is refused with the field and value. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContent {
  return readSafetensors(bytes, 'decodeSafetensors');
}

/** One checked header entry. */
interface Entry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

/** decodeSafetensors for the public call `what` (its refusals name it). */
export function readSafetensors(bytes: Uint8Array, what: string): SafetensorsContent {
  const refuse = refusal(what);
  const fail: Fail = (why) => refuse(`not a float32 safetensors file: ${why}`);
  if (!(bytes instanceof Uint8Array)) fail(`the file must be a Uint8Array, got ${shown(bytes)}`);
  if (bytes.length < 8) fail(`${bytes.length} bytes, shorter than its 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const claimed = view.getBigUint64(0, true);
  if (claimed > BigInt(MAX_HEADER_BYTES)) fail(`header length ${claimed} is over the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(claimed);
  if (8 + headerLength > bytes.length) fail(`header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  const header = parseHeader(bytes.subarray(8, 8 + headerLength), fail);
  const dataBytes = bytes.length - 8 - headerLength;
  const metadata = readMetadata(header[METADATA], fail);
  const entries = Object.entries(header).filter(([name]) => name !== METADATA).map(([name, entry]) => checkedEntry(name, entry, dataBytes, fail));
  checkTiling(entries, dataBytes, fail);
  const tensors: SafetensorsContent['tensors'] = Object.create(null);
  const base = bytes.byteOffset + 8 + headerLength;
  for (const { name, shape, begin, end } of entries) tensors[name] = { shape, data: floats(bytes.buffer, base + begin, base + end) };
  return { tensors, metadata };
}

/** The header's JSON object (strict UTF-8, strict JSON). */
function parseHeader(raw: Uint8Array, fail: Fail): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    return fail('the header is not UTF-8');
  }
  const header = parseStrictJson(text, 'the header', fail);
  if (!isObject(header)) fail(`the header must be a JSON object, got ${shown(header)}`);
  return header as Record<string, unknown>;
}

/** `__metadata__`: absent, or an object of strings, copied into a prototype-free record. */
function readMetadata(value: unknown, fail: Fail): Record<string, string> {
  const metadata: Record<string, string> = Object.create(null);
  if (value === undefined) return metadata;
  if (!isObject(value)) fail(`__metadata__ must be an object of strings, got ${shown(value)}`);
  for (const [key, text] of Object.entries(value as object)) {
    if (typeof text !== 'string') fail(`__metadata__[${JSON.stringify(key)}] must be a string, got ${shown(text)}`);
    metadata[key] = text;
  }
  return metadata;
}

/** One tensor's entry: exactly dtype F32, an integer shape holding its bytes, integer in-bounds offsets. */
function checkedEntry(name: string, entry: unknown, dataBytes: number, fail: Fail): Entry {
  const where = `tensor ${JSON.stringify(name)}`;
  if (name === '') fail('a tensor has an empty name');
  if (!isObject(entry)) fail(`${where} must be { dtype, shape, data_offsets }, got ${shown(entry)}`);
  const keys = Object.keys(entry as object).sort();
  if (keys.join() !== ENTRY_KEYS.join()) fail(`${where} must have exactly the keys dtype, shape, data_offsets, got ${shown(keys)}`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (dtype !== 'F32') fail(`${where}: dtype is ${shown(dtype)}, not "F32" (the only dtype this library reads)`);
  if (!Array.isArray(shape) || !shape.every(isCount)) fail(`${where}: shape must be an array of integers >= 0, got ${shown(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) fail(`${where}: data_offsets must be [begin, end], integers >= 0, got ${shown(offsets)}`);
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataBytes) fail(`${where}: data_offsets ${shown(offsets)} must satisfy begin <= end <= ${dataBytes} (the data area's size)`);
  const values = (end - begin) / 4;
  if (elementsOf(shape as number[], values) !== values) fail(`${where}: shape ${shown(shape)} does not hold the ${end - begin} bytes of data_offsets ${shown(offsets)} (${values} float32 values)`);
  return { name, shape: [...(shape as number[])], begin, end };
}

/** The product of `shape`, or a number over `limit` as soon as it exceeds it (no overflow, no huge loop). */
function elementsOf(shape: readonly number[], limit: number): number {
  if (shape.includes(0)) return 0;
  let product = 1;
  for (const d of shape) {
    product *= d;
    if (product > limit) return product;
  }
  return product;
}

/** The tensors, in offset order, cover the data area exactly: the first at 0, no overlap, no hole, the last at the end. */
function checkTiling(entries: readonly Entry[], dataBytes: number, fail: Fail): void {
  const ordered = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const { name, begin, end } of ordered) {
    if (begin < at) fail(`tensor ${JSON.stringify(name)}: data_offsets [${begin}, ${end}] overlap another tensor's bytes (up to ${at})`);
    if (begin > at) fail(`tensor ${JSON.stringify(name)}: data_offsets [${begin}, ${end}] leave bytes ${at} … ${begin} of the data area unread`);
    at = end;
  }
  if (at !== dataBytes) fail(`the tensors end at byte ${at} of a ${dataBytes}-byte data area (the file must end with its last tensor)`);
}

/** A fresh Float32Array of the little-endian floats at [begin, end) of `buffer`. */
function floats(buffer: ArrayBufferLike, begin: number, end: number): Float32Array {
  const copy = new Uint8Array(buffer.slice(begin, end));
  if (LITTLE_ENDIAN) return new Float32Array(copy.buffer);
  const view = new DataView(copy.buffer);
  return Float32Array.from({ length: copy.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
}
