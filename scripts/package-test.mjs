// The package as a user gets it: `npm pack`, installed into a fresh consumer app in a temporary
// folder; the README's snippets type-checked there (TypeScript strict, skipLibCheck false), bundled
// with Vite and run in headless Chromium, and the Node snippet run in Node (Dawn). CommonJS
// `require` must fail with a message that says what to do. Run by CI: node scripts/package-test.mjs
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

/** The ```ts block that follows `marker` in the README. */
function readmeSnippet(marker) {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`package-test: README has no "${marker}"`);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!match) throw new Error(`package-test: no ts block after "${marker}"`);
  return match[1];
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
      compilerOptions: { strict: true, skipLibCheck: false, noUnusedLocals: true, noUnusedParameters: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], noEmit: true },
      include: ['src'],
    }, null, 2),
  );
  writeFileSync(join(app, 'src', 'browser.ts'), readmeSnippet('## Usage'));
  writeFileSync(join(app, 'src', 'node.ts'), readmeSnippet('### In Node'));
  writeFileSync(join(app, 'index.html'), '<!doctype html><html><head><link rel="icon" href="data:,"></head><body><script type="module" src="./src/browser.ts"></script></body></html>');
  run('npm', ['install', '--no-audit', '--no-fund', '--silent', tarball], app);
  log(`installed ${tarball.split('/').pop()} into a fresh app`);
  // The consumer's own `webgpu` for the Node snippet: the same package this repository uses.
  symlinkSync(join(repo, 'node_modules', 'webgpu'), join(app, 'node_modules', 'webgpu'));

  run(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app);
  log('the README snippets type-check (strict, skipLibCheck false)');

  run(process.execPath, [join(repo, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], app);
  const page = await runInChromium(join(app, 'dist'));
  if (!/params after 3 steps/.test(page)) throw new Error(`package-test: the browser snippet printed ${JSON.stringify(page)}`);
  log(`the bundled browser snippet ran: ${page.trim()}`);

  run(process.execPath, [join(repo, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--ssr', 'src/node.ts', '--outDir', 'node-dist', '--logLevel', 'warn'], app);
  const node = run(process.execPath, [join(app, 'node-dist', 'node.js')], app, vulkanEnvironment());
  if (!/params after 3 steps/.test(node)) throw new Error(`package-test: the Node snippet printed ${JSON.stringify(node)}`);
  log(`the Node snippet ran: ${node.trim()}`);

  writeFileSync(join(app, 'require.cjs'), "try { require('webgpu-optim'); } catch (e) { console.log(e.message); process.exit(0); } process.exit(1);");
  const message = run(process.execPath, [join(app, 'require.cjs')], app);
  if (!/ES module/.test(message) || !/import/.test(message)) throw new Error(`package-test: require() said ${JSON.stringify(message)}`);
  log(`require() explains itself: ${message.trim()}`);
} finally {
  rmSync(work, { recursive: true, force: true });
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
    // Done at the snippet's last line (the state dict), at an error, or after 60 s.
    let timer;
    const finished = new Promise((done) => {
      page.on('console', (m) => {
        lines.push(`${m.type()}: ${m.text()}`);
        if (m.type() === 'error' || /^step /.test(m.text())) done();
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
