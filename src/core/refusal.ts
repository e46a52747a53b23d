/** How the file readers refuse: one Error naming the call, the file's field and the value as given. */

/** Throws the refusal `why`; never returns. */
export type Fail = (why: string) => never;

/** A refusal of the public call `what`: `webgpu-optim: <what>: <why>`, always a plain Error. */
export function refusal(what: string): Fail {
  return (why: string): never => {
    throw new Error(`webgpu-optim: ${what}: ${why}`);
  };
}

/** A file's value as it was given, cut short: a refusal quotes it without echoing megabytes. */
export function shown(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  } catch {
    // Nested deeper than the stack reaches (a file can nest arrays millions deep): described, not printed.
    text = Array.isArray(value) ? '[...] (nested too deep to show)' : '{...} (nested too deep to show)';
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** f's result; any error it throws becomes `fail`'s, its library prefix dropped (never a raw TypeError or RangeError). */
export function rethrownAs<T>(f: () => T, fail: Fail, prefix = ''): T {
  try {
    return f();
  } catch (error) {
    return fail(`${prefix}${String((error as Error)?.message ?? error).replace(/^webgpu-optim: /, '')}`);
  }
}

/** A plain object (not null, not an array). */
export const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A count: an integer 0 … 2^53 − 1. */
export const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
