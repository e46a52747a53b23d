/**
 * A state dict's exact JSON form: written with every typed array as base64 of its bytes, and read
 * as text from a stranger: strict JSON, the versioned format header required, every typed array's
 * base64 checked, no key that could reach a prototype, and nesting bounded. Every refusal names
 * the field and the value.
 */
import { isObject, refusal, shown, type Fail } from '../core/refusal.js';
import { parseStrictJson } from '../core/strict-json.js';
import { STATE_DICT_FORMAT, STATE_DICT_VERSION, type OptimizerStateDict } from './state-dict-types.js';

/** The header a state dict's JSON must carry. */
export interface JsonHeader {
  format: string;
  version: number;
}

/** Deeper than any state dict: a dict nests 6 levels at most. */
const MAX_DEPTH = 32;
/** Canonical base64, as btoa writes it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ARRAYS = { float32: { bytes: 4, make: (b: ArrayBuffer) => new Float32Array(b) }, uint16: { bytes: 2, make: (b: ArrayBuffer) => new Uint16Array(b) }, uint8: { bytes: 1, make: (b: ArrayBuffer) => new Uint8Array(b) } };
type ArrayKind = keyof typeof ARRAYS;
/** Numbers JSON has no literal for, written as `{ "number": "Infinity" }`. */
const NON_FINITE = { Infinity: Infinity, '-Infinity': -Infinity, NaN: NaN };

/** The dict the JSON text holds, its typed arrays rebuilt; refused, naming the field, when it is not one stateDictToJSON could have written. */
export function readStateDictJSON(json: unknown, header: JsonHeader): unknown {
  const fail = refusal('stateDictFromJSON');
  if (typeof json !== 'string') fail(`takes the JSON text stateDictToJSON wrote, got ${shown(json)}`);
  const value = parseStrictJson(json as string, 'the text', fail);
  if (!isObject(value)) fail(`the JSON must be an object (a state dict), got ${shown(value)}`);
  const { format, version } = value as Record<string, unknown>;
  const expected = `format ${JSON.stringify(header.format)} and version ${header.version}`;
  if (format === undefined || version === undefined) fail(`the JSON has no ${format === undefined ? 'format' : 'version'}: a state dict's JSON carries ${expected}`);
  if (format !== header.format) fail(`format is ${shown(format)}, not ${JSON.stringify(header.format)}`);
  if (version !== header.version) fail(`version is ${shown(version)}; this library reads version ${header.version}`);
  return revive(value, '', 0, fail);
}

/** `value` with every `{float32|uint16|uint8: base64}` as its typed array; objects rebuilt key by key. */
function revive(value: unknown, path: string, depth: number, fail: Fail): unknown {
  if (depth > MAX_DEPTH) fail(`${path} is nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) return value.map((item, i) => revive(item, `${path}[${i}]`, depth + 1, fail));
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  // A number JSON cannot write (Prodigy's growthRate: Infinity, unbounded).
  if (keys.length === 1 && keys[0] === 'number') {
    const text = value.number;
    if (typeof text !== 'string' || !Object.hasOwn(NON_FINITE, text)) fail(`${path}.number must be "Infinity", "-Infinity" or "NaN", got ${shown(text)}`);
    return NON_FINITE[text as keyof typeof NON_FINITE];
  }
  if (keys.length === 1 && Object.hasOwn(ARRAYS, keys[0]!) && typeof value[keys[0]!] === 'string') {
    return typedArray(keys[0] as ArrayKind, value[keys[0]!] as string, `${path}.${keys[0]}`, fail);
  }
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    if (key === '__proto__') fail(`${path || 'the JSON'} has a key "__proto__", which no state dict holds`);
    copy[key] = revive(value[key], path ? `${path}.${key}` : key, depth + 1, fail);
  }
  return copy;
}

/** A typed array from its base64 bytes (canonical base64 of a whole number of elements). */
function typedArray(kind: ArrayKind, text: string, path: string, fail: Fail): Float32Array | Uint16Array | Uint8Array {
  const { bytes, make } = ARRAYS[kind];
  if (!BASE64.test(text)) fail(`${path} is not base64 (${shown(text)})`);
  const binary = atob(text);
  // The pattern admits padding whose unused bits are set ("AR=="), which atob drops silently.
  if (btoa(binary) !== text) fail(`${path} is not canonical base64 (${shown(text)}): its padding carries bits that would be dropped`);
  if (binary.length % bytes !== 0) fail(`${path} holds ${binary.length} bytes, not a whole number of ${bytes}-byte ${kind} values`);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return make(out.buffer);
}

/**
 * A state dict as JSON text, exactly: every Float32Array is stored as the base64 of its bytes, so
 * NaN, ±Inf and −0 survive (plain `JSON.stringify` turns NaN and Infinity into null), and a
 * non-finite number (an option such as Prodigy's growthRate: Infinity) as `{ "number": "Infinity" }`.
 *
 * @example
 * localStorage.setItem('ckpt', stateDictToJSON(await opt.stateDict()));
 * opt.loadStateDict(stateDictFromJSON(localStorage.getItem('ckpt')!));
 */
export function stateDictToJSON(sd: OptimizerStateDict<any>): string {
  // Hand-made dicts without the header get it: stateDictFromJSON requires it.
  const headed = { ...sd, format: sd.format ?? STATE_DICT_FORMAT, version: sd.version ?? STATE_DICT_VERSION };
  return JSON.stringify(headed, (_key, value) =>
    value instanceof Float32Array
      ? { float32: toBase64(value) }
      : value instanceof Uint16Array
        ? { uint16: toBase64(value) }
        : value instanceof Uint8Array
          ? { uint8: toBase64(value) }
          : typeof value === 'number' && !Number.isFinite(value)
            ? { number: String(value) }
            : value,
  );
}

/**
 * Reads what {@link stateDictToJSON} wrote, trusting nothing: strict JSON carrying the format
 * header (`format: "webgpu-optim/state-dict"`, `version: 1`), canonical base64 for every typed
 * array, no `__proto__` key. A refusal names the field and the value; `loadStateDict` then checks
 * the dict against the optimizer.
 */
export function stateDictFromJSON<H extends object = Record<string, unknown>>(json: string): OptimizerStateDict<H> {
  return readStateDictJSON(json, { format: STATE_DICT_FORMAT, version: STATE_DICT_VERSION }) as OptimizerStateDict<H>;
}

function toBase64(array: Float32Array | Uint16Array | Uint8Array): string {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
