/**
 * JSON as a file reader must take it: strict (no NaN or Infinity literals, which Python's
 * `json.dumps` writes for non-finite floats), and with no key twice in one object (JSON.parse keeps
 * the last silently; Python's reader is told to refuse them, so both readers accept the same files).
 */
import type { Fail } from './refusal.js';

/** The value `text` holds; `field` names it in the refusal. */
export function parseStrictJson(text: string, field: string, fail: Fail): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const literal = nonJsonLiteral(text);
    if (literal) return fail(`${field} is not strict JSON: it holds ${literal}, which JSON has no literal for (Python's json.dumps writes it for a non-finite float)`);
    return fail(`${field} is not JSON (${(error as Error).message})`);
  }
  const twice = duplicateKey(text);
  if (twice !== undefined) fail(`${field} has the key ${JSON.stringify(twice)} twice in one object`);
  return value;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/** The index just past the string literal that opens at `start` (or the text's end if it never closes). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return Math.min(i + 1, text.length);
}

/** NaN, Infinity or -Infinity outside strings, if the text holds one. */
function nonJsonLiteral(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') i = stringEnd(text, i) - 1;
    else if (text.startsWith('NaN', i)) return 'NaN';
    else if (text.startsWith('Infinity', i)) return text[i - 1] === '-' ? '-Infinity' : 'Infinity';
  }
  return undefined;
}

/** The first key found twice in one object of valid JSON text. */
function duplicateKey(text: string): string | undefined {
  const open: (Set<string> | undefined)[] = []; // one entry per open object (its keys) or array (undefined)
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') open.push(new Set());
    else if (c === '[') open.push(undefined);
    else if (c === '}' || c === ']') open.pop();
    else if (c === '"') {
      const end = stringEnd(text, i);
      const keys = open[open.length - 1];
      let next = end;
      while (WHITESPACE.has(text[next]!)) next++;
      if (keys && text[next] === ':') {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      i = end - 1;
    }
  }
  return undefined;
}
