/**
 * The demo and the benchmark are two apps that never import each other: demo/ and bench/ may
 * import common/ (what both run: the page frame, the TF.js CNN workload, seeded randomness), src/
 * and packages; common/ imports neither app. Every module reference is read with TypeScript's
 * parser (static imports and re-exports, `import()`, `import.meta.glob`, `new URL(…,
 * import.meta.url)`), and every page's `<script src>`, so a reference in any form that crosses
 * is named with its file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const APPS = ['demo', 'bench', 'common'] as const;
type App = (typeof APPS)[number];

/** The top folders each app may not reach. */
const FORBIDDEN: Record<App, readonly App[]> = {
  demo: ['bench'],
  bench: ['demo'],
  common: ['demo', 'bench'],
};

const MODULE = /\.(ts|mts|js|mjs)$/;

/** Every module and page under `dir` (paths relative to the repository root, with /). */
function filesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && (MODULE.test(e.name) || e.name.endsWith('.html')) && !e.name.endsWith('.d.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .filter((f) => !f.split('/').includes('node_modules'))
    .sort();
}

const literal = (node: ts.Node | undefined): string[] => {
  if (!node) return [];
  if (ts.isStringLiteralLike(node)) return [node.text];
  if (ts.isArrayLiteralExpression(node)) return node.elements.flatMap(literal);
  return [];
};

const isImportMeta = (node: ts.Node) => ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword;

/** The module specifiers `source` refers to, in every form a bundler or the browser follows. */
function moduleReferences(fileName: string, source: string): string[] {
  if (fileName.endsWith('.html')) return [...source.matchAll(/<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1]!);
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) found.push(...literal(node.moduleSpecifier));
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) found.push(...literal(node.moduleReference.expression));
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const dynamicImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const glob = ts.isPropertyAccessExpression(callee) && isImportMeta(callee.expression) && callee.name.text.startsWith('glob');
      if (dynamicImport || glob) found.push(...literal(node.arguments[0]));
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL') {
      const base = node.arguments?.[1];
      if (base && ts.isPropertyAccessExpression(base) && isImportMeta(base.expression) && base.name.text === 'url') found.push(...literal(node.arguments![0]));
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** Where `specifier` in `file` leads, relative to the repository root; undefined for a package. */
function target(file: string, specifier: string): string | undefined {
  const path = specifier.replace(/[?#].*$/, '').replace(/^!/, '');
  if (path.startsWith('/')) return posix.normalize(path.slice(1));
  if (!path.startsWith('.')) return undefined;
  return posix.normalize(posix.join(posix.dirname(file), path));
}

/** Each reference of `file` (given as `source`) into a folder its app may not reach, as a sentence naming both. */
function crossings(file: string, source: string): string[] {
  const app = file.split('/')[0] as App;
  const forbidden = FORBIDDEN[app] ?? [];
  return moduleReferences(file, source).flatMap((specifier) => {
    const to = target(file, specifier);
    const top = to?.split('/')[0];
    return to && forbidden.includes(top as App) ? [`${file} imports '${specifier}' (${to}): ${app}/ must not import ${top}/`] : [];
  });
}

describe('demo/, bench/ and common/ import in one direction', () => {
  const files = APPS.flatMap(filesUnder);
  const sources = new Map(files.map((f) => [f, readFileSync(join(root, f), 'utf8')]));

  test('no file of demo/ imports bench/, none of bench/ imports demo/, none of common/ imports either', () => {
    const found = files.flatMap((f) => crossings(f, sources.get(f)!));
    expect(found, found.join('\n')).toEqual([]);
  });

  test('the walk reads the apps: each folder has modules, and both apps reach common/', () => {
    for (const app of APPS) expect(files.filter((f) => f.startsWith(`${app}/`) && MODULE.test(f)).length, app).toBeGreaterThan(3);
    const reachesCommon = (app: App) => files.some((f) => f.startsWith(`${app}/`) && moduleReferences(f, sources.get(f)!).some((s) => target(f, s)?.startsWith('common/')));
    expect(reachesCommon('demo'), 'demo/ imports common/').toBe(true);
    expect(reachesCommon('bench'), 'bench/ imports common/').toBe(true);
    // A page's script is a reference too (bench/throughput.html runs bench/throughput-page.ts).
    expect(moduleReferences('bench/throughput.html', sources.get('bench/throughput.html')!)).toEqual(['./throughput-page.ts']);
  });

  test('every form of reference is read, and a crossing in each is named with its file', () => {
    const source = [
      "import { a } from '../bench/a.js';",
      "import type { B } from '../../bench/b.js';",
      "import '../bench/c.css';",
      "export { d } from '../bench/d.js';",
      "export * from '../bench/e.js';",
      "const f = await import('../bench/f.js');",
      "const g = import.meta.glob(['../bench/g/*.json']);",
      "const h = new URL('../bench/h.mjs', import.meta.url);",
      "import i = require('../bench/i.js');",
      "import source from '../bench/j.wgsl?raw';",
      "import k from '/bench/k.js';",
      "// import { comment } from '../bench/comment.js';",
      "const text = \"from '../bench/string.js'\";",
      "import { fine } from '../common/fine.js';",
      "import { pkg } from 'bench';",
    ].join('\n');
    const refs = moduleReferences('demo/x.ts', source);
    expect(refs).toEqual(['../bench/a.js', '../../bench/b.js', '../bench/c.css', '../bench/d.js', '../bench/e.js', '../bench/f.js', '../bench/g/*.json', '../bench/h.mjs', '../bench/i.js', '../bench/j.wgsl?raw', '/bench/k.js', '../common/fine.js', 'bench']);
    const crossed = crossings('demo/x.ts', source);
    // '../../bench/b.js' from demo/ leaves the repository: not a crossing; the rest are, but for the allowed two.
    expect(crossed).toHaveLength(10);
    expect(crossed[0]).toBe("demo/x.ts imports '../bench/a.js' (bench/a.js): demo/ must not import bench/");
    expect(crossings('demo/pages/x.ts', "import { b } from '../../bench/b.js';")).toEqual(["demo/pages/x.ts imports '../../bench/b.js' (bench/b.js): demo/ must not import bench/"]);
    expect(crossings('bench/x.ts', "import { r } from '../demo/data/random.js';")).toEqual(["bench/x.ts imports '../demo/data/random.js' (demo/data/random.js): bench/ must not import demo/"]);
    expect(crossings('common/cnn/x.ts', "import { p } from '../../demo/pages/p.js';\nimport { s } from '../../bench/suite.js';")).toHaveLength(2);
    expect(crossings('common/x.ts', "import { s } from '../src/index.js';")).toEqual([]);
    expect(crossings('demo/x.html', '<script type="module" src="../bench/page.ts"></script>')).toEqual(["demo/x.html imports '../bench/page.ts' (bench/page.ts): demo/ must not import bench/"]);
  });
});
