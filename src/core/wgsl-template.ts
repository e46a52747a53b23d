/**
 * A .wgsl template instantiated by plain token substitution: each `$NAME` token (a `$` and capital
 * letters or underscores; `$` appears nowhere else in WGSL) is replaced by its value as text. No
 * other part of the source is matched or rewritten. The template's comment lists its tokens.
 */

/**
 * `template` with every `$NAME` replaced by `values.NAME`. Throws when a value names a token the
 * template lacks, or when a token is left without a value, so a renamed token fails loudly.
 */
export function instantiateTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const names = Object.keys(values);
  for (const name of names) {
    if (!/^[A-Z_]+$/.test(name)) throw new Error(`webgpu-optim: template token names are capital letters and _, got "${name}"`);
    // A token that begins another (ZERO, ZERO_CODE) would replace part of the longer one.
    const longer = names.find((other) => other !== name && other.startsWith(name));
    if (longer) throw new Error(`webgpu-optim: template token $${name} begins $${longer}`);
    if (!template.includes(`$${name}`)) throw new Error(`webgpu-optim: the template has no token $${name}`);
  }
  let out = template;
  for (const name of names) out = out.split(`$${name}`).join(values[name]!);
  const left = out.indexOf('$');
  if (left >= 0) throw new Error(`webgpu-optim: template token without a value: ${out.slice(left, left + 24).split(/\s/)[0]}`);
  return out;
}
