/**
 * How a refusal shows the value it was given ("…, got X"): one formatter for every message, so a
 * string reads as a string (`"0.01" (a string)`, not `0.01`), an object as its contents (not
 * `[object Object]`), and a Promise with the likely cause (a forgotten `await`).
 */

/** Longest JSON shown for an object or array; beyond it the text is cut with "…". */
const MAX_JSON = 80;

/** 'a' or 'an' before `word`, as the messages read it. */
function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}

/** A value whose `then` is a function: what `await` would unwrap. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** `text` cut to `max` characters, with "…" where it was cut. */
function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** JSON of an object or array, cut; undefined where it has none (cycles, BigInts). */
function shortJson(value: object): string | undefined {
  try {
    const json = JSON.stringify(value);
    return json === undefined ? undefined : cut(json, MAX_JSON);
  } catch {
    return undefined;
  }
}

function describeObject(value: object): string {
  if (isThenable(value)) return 'a Promise (did you forget await?)';
  if (ArrayBuffer.isView(value)) {
    const length = (value as { length?: number }).length;
    return `${article(value.constructor.name)}${length === undefined ? '' : ` of length ${length}`}`;
  }
  if (Array.isArray(value)) return `${shortJson(value) ?? `an array of length ${value.length}`} (an array)`;
  const prototype = Object.getPrototypeOf(value) as object | null;
  const className = prototype === null || prototype === Object.prototype ? undefined : (prototype.constructor as { name?: string } | undefined)?.name;
  if (className) return article(className);
  const json = shortJson(value);
  return json === undefined ? `an object with keys ${cut(Object.keys(value).join(', '), MAX_JSON)}` : `${json} (an object)`;
}

/**
 * `value` as a refusal shows it: numbers, booleans, null and undefined as they print; a string
 * quoted and called one; an array or plain object as (cut) JSON and called one; a typed array or
 * class instance by its class; a function by its name; a Promise with "did you forget await?".
 *
 * @example
 * describeValue('0.01')              // '"0.01" (a string)'
 * describeValue({ learningRate: 1 }) // '{"learningRate":1} (an object)'
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `${cut(JSON.stringify(value), MAX_JSON)} (a string)`;
    case 'bigint':
      return `${value}n (a bigint)`;
    case 'symbol':
      return `${String(value)} (a symbol)`;
    case 'function':
      return value.name ? `a function (${value.name})` : 'a function';
    case 'object':
      return value === null ? 'null' : describeObject(value);
    default:
      // number, boolean, undefined: as they print (NaN, -Infinity, -0 kept as -0)
      return Object.is(value, -0) ? '-0' : String(value);
  }
}
