// The package as a user gets it: `npm pack`, installed into a fresh consumer app in a temporary
// folder with TypeScript 7 (what `npm i typescript` installs) and 5.9 (the last before lib.dom
// declared WebGPU); the README's snippets type-checked there by both (strict, skipLibCheck false),
// the browser ones bundled with Vite and run in headless Chromium, the Node scripts (the core, and
// TF.js) run as they are in Node (Dawn). CommonJS `require` must fail with a message that says what
// to do. The repository itself is type-checked by TypeScript 7 too (its own devDependency is 5.9).
// Run by CI: node scripts/package-test.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { chromium } from 'playwright';

const repo = resolve(import.meta.dirname, '..');
const started = performance.now();
const log = (message) => console.log(`package-test [${((performance.now() - started) / 1000).toFixed(0)} s]: ${message}`);
const run = (cmd, args, cwd, env = {}) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: { ...process.env, ...env } });

/** The TypeScript versions a consumer may have: npm package aliases installed side by side. */
const typescripts = [
  { alias: 'typescript-7', spec: 'npm:typescript@^7.0.2' },
  { alias: 'typescript-5.9', spec: 'npm:typescript@~5.9.3' },
];

/** The code block (```ts or ```js, as `language` says) that follows `marker` in the README. */
function readmeSnippet(marker, language) {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`package-test: README has no "${marker}"`);
  const match = /```(\w+)\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!match || match[1] !== language) throw new Error(`package-test: no ${language} block after "${marker}"`);
  return match[2];
}

const work = mkdtempSync(join(tmpdir(), 'webgpu-optim-consumer-'));
try {
  const tarball = join(work, run('npm', ['pack', '--silent', '--pack-destination', work], repo).trim().split('\n').pop());
  const app = join(work, 'app');
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, skipLibCheck: false, noUnusedLocals: true, noUnusedParameters: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], allowJs: true, checkJs: true, noEmit: true },
      include: ['src'],
      exclude: ['src/tfjs.ts', 'src/node.mjs', 'src/tfjs-node.mjs'],
    }, null, 2),
  );
  writeFileSync(join(app, 'src', 'browser.ts'), readmeSnippet('## Usage', 'ts'));
  writeFileSync(join(app, 'src', 'node.mjs'), readmeSnippet('### In Node', 'js'));
  writeFileSync(join(app, 'src', 'tfjs.ts'), readmeSnippet('## With TensorFlow.js', 'ts'));
  writeFileSync(join(app, 'src', 'tfjs-node.mjs'), readmeSnippet('### TF.js in Node', 'js'));
  // TF.js makes a chunk over Vite's 500 kB warning: expected, not news.
  writeFileSync(join(app, 'vite.config.js'), 'export default { build: { chunkSizeWarningLimit: 4096 } };\n');
  writeFileSync(
    join(app, 'index.html'),
    '<!doctype html><html><head><link rel="icon" href="data:,"></head><body><script type="module" src="./src/browser.ts"></script><script type="module" src="./src/tfjs.ts"></script></body></html>',
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--silent', tarball, ...typescripts.map((ts) => `${ts.alias}@${ts.spec}`)], app);
  const tsc = (ts) => join(app, 'node_modules', ts.alias, 'bin', 'tsc');
  for (const ts of typescripts) ts.version = run(process.execPath, [tsc(ts), '--version'], app).trim().replace(/^Version/, 'TypeScript');
  log(`installed ${tarball.split('/').pop()} into a fresh app, with ${typescripts.map((ts) => ts.version).join(' and ')}`);
  // The consumer's own `webgpu` for the Node snippet: the same package this repository uses.
  symlinkSync(join(repo, 'node_modules', 'webgpu'), join(app, 'node_modules', 'webgpu'));
  // And its own TF.js (a peer dependency of webgpu-optim/tfjs): the packages this repository uses.
  symlinkSync(join(repo, 'node_modules', '@tensorflow'), join(app, 'node_modules', '@tensorflow'));

  for (const ts of typescripts) {
    run(process.execPath, [tsc(ts), '-p', '.'], app);
    log(`the README's browser snippet type-checks under ${ts.version} (strict, skipLibCheck false)`);
    checkSnippetsWithOthersTypes(app, tsc(ts), ts.version);
  }
  run(process.execPath, [tsc(typescripts[0]), '--noEmit', '-p', repo], app);
  log(`the repository type-checks under ${typescripts[0].version} too`);

  run(process.execPath, [join(repo, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], app);
  const page = await runInChromium(join(app, 'dist'));
  if (!/params after 3 steps/.test(page)) throw new Error(`package-test: the browser snippet printed ${JSON.stringify(page)}`);
  // Zero initial weights: the run is the same every time, and Adam fits y = 3x − 1 (loss about 1e-8).
  const loss = /webgpu-optim\/tfjs: loss (\S+) after 200 epochs/.exec(page);
  if (!loss || !(Number(loss[1]) < 1e-3)) throw new Error(`package-test: the TF.js snippet printed ${JSON.stringify(page)}`);
  log(`the bundled browser snippets ran: ${page.trim().replace(/\n/g, ' | ')}`);

  // The Node snippets are scripts: run as they are, no build step.
  const node = run(process.execPath, [join(app, 'src', 'node.mjs')], app, vulkanEnvironment());
  if (!/params after 3 steps/.test(node)) throw new Error(`package-test: the Node snippet printed ${JSON.stringify(node)}`);
  log(`the Node snippet ran: ${node.trim()}`);
  const tfjsNode = run(process.execPath, [join(app, 'src', 'tfjs-node.mjs')], app, vulkanEnvironment());
  const nodeLoss = /webgpu-optim\/tfjs in Node: loss (\S+) on webgpu/.exec(tfjsNode);
  if (!nodeLoss || !(Number(nodeLoss[1]) < 1e-3)) throw new Error(`package-test: the TF.js Node snippet printed ${JSON.stringify(tfjsNode)}`);
  log(`the TF.js Node snippet ran: ${tfjsNode.trim()}`);

  for (const entry of ['webgpu-optim', 'webgpu-optim/tfjs']) {
    writeFileSync(join(app, 'require.cjs'), `try { require('${entry}'); } catch (e) { console.log(e.message); process.exit(0); } process.exit(1);`);
    const message = run(process.execPath, [join(app, 'require.cjs')], app);
    if (!/ES module/.test(message) || !message.includes(`from '${entry}'`)) throw new Error(`package-test: require('${entry}') said ${JSON.stringify(message)}`);
    log(`require('${entry}') explains itself: ${message.trim()}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

/**
 * The TF.js and Node snippets, strict with skipLibCheck false too. Other packages' declarations do
 * not pass that: tfjs-layers has type errors of its own; tfjs-core and the `webgpu` package (Dawn)
 * import their @webgpu/types, whose globals clash with each other's and with TypeScript 6+'s
 * lib.dom (the browser snippet, checked without them, shows ours are clean). So errors inside
 * @tensorflow/, @webgpu/types and TypeScript's own lib.dom.d.ts are counted and tolerated; any
 * other error (in the snippets, or in webgpu-optim's declarations) fails.
 */
function checkSnippetsWithOthersTypes(app, tsc, version) {
  writeFileSync(join(app, 'tsconfig.others.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src/tfjs.ts', 'src/node.mjs', 'src/tfjs-node.mjs'], exclude: [] }, null, 2));
  let output = '';
  try {
    run(process.execPath, [tsc, '-p', 'tsconfig.others.json'], app);
  } catch (error) {
    output = String(error.stdout ?? '');
  }
  const errors = output.split('\n').filter((line) => / error TS\d+:/.test(line));
  const ours = errors.filter((line) => !/(^|\/)node_modules\/(@tensorflow\/|@webgpu\/types\/|@typescript\/[^/]+\/lib\/lib\.dom\.d\.ts)/.test(line));
  if (ours.length) throw new Error(`package-test: the TF.js and Node snippets do not type-check under ${version}:\n${ours.join('\n')}`);
  log(`the TF.js and Node snippets type-check under ${version} (strict, skipLibCheck false; ${errors.length} errors inside TF.js's declarations, the @webgpu/types copies TF.js and \`webgpu\` import and what they clash with tolerated)`);
}

/** Where no Vulkan loader is installed, Debian's Chromium ships one and SwiftShader's driver. */
function vulkanEnvironment() {
  if (process.env.VK_ICD_FILENAMES) return {};
  return { LD_LIBRARY_PATH: `/usr/lib/chromium${process.env.LD_LIBRARY_PATH ? `:${process.env.LD_LIBRARY_PATH}` : ''}`, VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json' };
}

/** Serves `dir` on localhost (WebGPU needs a secure context), opens it, returns what it logged. */
async function runInChromium(dir) {
  const types = { '.html': 'text/html', '.js': 'text/javascript' };
  const server = createServer((req, res) => {
    try {
      const path = join(dir, req.url === '/' ? 'index.html' : req.url.split('?')[0]);
      const body = readFileSync(path);
      res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((done) => server.listen(0, 'localhost', done));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader'],
  });
  try {
    const page = await browser.newPage();
    const lines = [];
    // Done once both snippets printed their last line (the state dict; the TF.js loss), at an
    // error, or after 60 s.
    const lastLines = [/^step /, /^webgpu-optim\/tfjs: loss/];
    let timer;
    const finished = new Promise((done) => {
      page.on('console', (m) => {
        lines.push(`${m.type()}: ${m.text()}`);
        const texts = lines.map((l) => l.slice(l.indexOf(': ') + 2));
        if (m.type() === 'error' || lastLines.every((re) => texts.some((t) => re.test(t)))) done();
      });
      page.on('pageerror', (e) => {
        lines.push(`error: ${e.message}`);
        done();
      });
      timer = setTimeout(done, 60_000);
    });
    await page.goto(`http://localhost:${server.address().port}/`);
    await finished;
    clearTimeout(timer);
    const printed = lines.join('\n');
    if (/^error/m.test(printed)) throw new Error(`package-test: the browser snippet failed:\n${printed}`);
    return printed;
  } finally {
    await browser.close();
    server.close();
  }
}
