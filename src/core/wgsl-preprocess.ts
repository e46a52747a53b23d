/** `#if NAME` / `#elif NAME` / `#else` / `#endif` in WGSL, resolved from a kernel's flags. */
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { KernelDefines } from './definition.js';

const directive = /#(if|elif)[ \t]+([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Resolves `#if NAME` / `#elif NAME` / `#else` / `#endif` in a .wgsl source with wgsl-preprocessor.
 * The .wgsl files name their flags; wgsl-preprocessor wants a template value right after `#if`,
 * so the source is cut at each directive and the flag's value is passed as that template value.
 */
export function preprocess(source: string, defines: KernelDefines): string {
  const strings: string[] = [];
  const values: boolean[] = [];
  let last = 0;
  for (const match of source.matchAll(directive)) {
    const name = match[2]!;
    if (!(name in defines)) {
      throw new Error(`webgpu-optim: shader flag ${name} has no value`);
    }
    strings.push(source.slice(last, match.index) + `#${match[1]} `);
    values.push(defines[name]!);
    last = match.index! + match[0].length;
  }
  strings.push(source.slice(last));
  return wgsl(strings, ...values);
}
