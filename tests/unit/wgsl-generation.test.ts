/**
 * The two generators of WGSL text besides the snapshots' assembly: a binding list (declarations,
 * layout and bind group entries from one list) and a template's token substitution.
 */
import { describe, expect, test } from 'vitest';
import { bindGroupEntries, bindingDeclarations, numberBindings, pickBindings } from '../../src/core/binding-list.js';
import { instantiateTemplate } from '../../src/core/wgsl-template.js';

const LIST = numberBindings([
  { name: 'control', declaration: 'var<storage, read_write> control: Control', type: 'storage' },
  { name: 'grad', declaration: 'var<storage, read> grad: array<vec4<f32>>', type: 'read-only-storage' },
  { name: 'table', declaration: 'var<storage, read> table: array<u32>', type: 'read-only-storage', dynamic: true },
] as const);

const buffer = (label: string) => ({ label }) as unknown as GPUBuffer;

describe('binding list', () => {
  test('numbers by position; a pass picks its part and keeps the numbers', () => {
    expect(bindingDeclarations(LIST)).toBe(
      '@group(0) @binding(0) var<storage, read_write> control: Control;\n' +
        '@group(0) @binding(1) var<storage, read> grad: array<vec4<f32>>;\n' +
        '@group(0) @binding(2) var<storage, read> table: array<u32>;',
    );
    const part = pickBindings(LIST, ['table', 'control']);
    expect(part.map((b) => [b.binding, b.name])).toEqual([[0, 'control'], [2, 'table']]);
    expect(() => pickBindings(LIST, ['grad', 'chunkGroups' as never])).toThrow(/no binding named "chunkGroups" in control, grad, table/);
  });

  test('bind group entries by name, from a map or a function; a name without a buffer throws, naming it', () => {
    const control = buffer('control');
    const table = buffer('table');
    const part = pickBindings(LIST, ['control', 'table']);
    expect(bindGroupEntries(part, { control: { buffer: control }, table: { buffer: table, offset: 256 } })).toEqual([
      { binding: 0, resource: { buffer: control } },
      { binding: 2, resource: { buffer: table, offset: 256 } },
    ]);
    expect(bindGroupEntries(part, (name) => ({ buffer: name === 'control' ? control : table }))).toEqual([
      { binding: 0, resource: { buffer: control } },
      { binding: 2, resource: { buffer: table } },
    ]);
    expect(() => bindGroupEntries(part, { control: { buffer: control } })).toThrow(/no buffer given for binding "table" \(@binding\(2\)\)/);
  });
});

describe('template', () => {
  const template = 'fn $SLOTLoad(i: u32) -> f32 { return q8Decode($MAP, $SLOT[i]); }';

  test('every token replaced as text, nothing else touched', () => {
    expect(instantiateTemplate(template, { SLOT: 'expAvg', MAP: '256u' })).toBe('fn expAvgLoad(i: u32) -> f32 { return q8Decode(256u, expAvg[i]); }');
  });

  test('a token left without a value, a value for no token, a token that begins another and a bad name are refused', () => {
    expect(() => instantiateTemplate(template, { SLOT: 'expAvg' })).toThrow(/template token without a value: \$MAP/);
    expect(() => instantiateTemplate(template, { SLOT: 'expAvg', MAP: '0u', ZERO: '127u' })).toThrow(/the template has no token \$ZERO/);
    expect(() => instantiateTemplate('$SLOT $SLOTS', { SLOT: 'a', SLOTS: 'b' })).toThrow(/template token \$SLOT begins \$SLOTS/);
    expect(() => instantiateTemplate(template, { slot: 'expAvg' })).toThrow(/token names are capital letters and _, got "slot"/);
  });
});
