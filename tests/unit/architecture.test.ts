/**
 * The layout of src/ is its architecture: each folder is a layer, and an import may only run to
 * the same layer or one below it (type imports included). No import cycle spans two folders.
 * Breaking a rule fails here, naming the file and the import.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../../src');

/** Layers, lowest first: a file may import from its own layer and the layers before it. */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'], // contract, option resolution, utilities: shared by everything
  ['passes'], // per-tensor and per-matrix work besides the element-wise update
  ['optimizers', 'control'], // one folder per optimizer; gradient control (clipping, scaling, accumulation)
  ['state'], // state formats, GPU state buffers, state dicts
  ['front'], // what the GPU optimizer and the CPU twin share: the resolver, the state-dict flow
  ['engine', 'reference'], // the GPU optimizer; the CPU twin (which never imports the engine)
  ['checkpoint', 'tfjs'], // file formats and the TF.js adapter
  ['.'], // index.ts: the public surface
];

const rankOf = (folder: string): number => {
  const rank = LAYERS.findIndex((layer) => layer.includes(folder));
  if (rank < 0) throw new Error(`src/${folder} has no layer in LAYERS`);
  return rank;
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'types-before-ts6' ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The folder of src a file belongs to ('.' for src itself). */
const folderOf = (file: string): string => relative(SRC, dirname(file)).split('/')[0] || '.';

/** Relative imports of a source file, resolved to files under src (shaders and packages left out). */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"?]+)['"]/g)].map((m) => m[1]!);
  return specs.map((spec) => resolve(dirname(file), spec).replace(/\.js$/, '.ts')).filter((path) => path.startsWith(SRC + '/') && path.endsWith('.ts'));
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

/** Tarjan's strongly connected components of the import graph. */
function components(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      out.push(component);
    }
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return out;
}

describe('src layout', () => {
  it('has a layer for every folder', () => {
    for (const file of files) expect(() => rankOf(folderOf(file))).not.toThrow();
  });

  it('has no import running back up a layer', () => {
    const upward = [...graph].flatMap(([file, imports]) =>
      imports.filter((target) => rankOf(folderOf(target)) > rankOf(folderOf(file))).map((target) => `${relative(SRC, file)} imports ${relative(SRC, target)}`),
    );
    expect(upward).toEqual([]);
  });

  it('has no import cycle that spans two folders', () => {
    const spanning = components()
      .filter((component) => new Set(component.map(folderOf)).size > 1)
      .map((component) => component.map((file) => relative(SRC, file)).sort());
    expect(spanning).toEqual([]);
  });

  it('keeps the CPU twin off the GPU engine (the yardstick never depends on what it measures)', () => {
    const fromTwin = [...graph]
      .filter(([file]) => folderOf(file) === 'reference')
      .flatMap(([file, imports]) => imports.filter((target) => folderOf(target) === 'engine').map((target) => `${relative(SRC, file)} imports ${relative(SRC, target)}`));
    expect(fromTwin).toEqual([]);
  });

  it('has no import cycle at all, but between the files of one optimizer folder (its definition and its twin)', () => {
    const cycles = components()
      .filter((component) => component.length > 1 && !(new Set(component.map(dirname)).size === 1 && folderOf(component[0]!) === 'optimizers'))
      .map((component) => component.map((file) => relative(SRC, file)).sort());
    expect(cycles).toEqual([]);
  });

  it('reads every kind of relative import (the checks above see what they must)', () => {
    const here = join(SRC, 'core/x.ts');
    const text = `import a from '../engine/a.js';\nimport type { B } from './b.js';\nexport { c } from '../state/c.js';\nconst d = await import('../tfjs/d.js');\nimport s from '../../shaders/s.wgsl?raw';`;
    expect(importsOf(here, text).map((path) => relative(SRC, path))).toEqual(['engine/a.ts', 'core/b.ts', 'state/c.ts', 'tfjs/d.ts']);
  });
});
