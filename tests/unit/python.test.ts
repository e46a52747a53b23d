/**
 * The Python package's own tests (python/tests: the strict reader, the fuzzers, loading by name,
 * model weights, pip install) against Debian's python3-torch and python3-hypothesis, run as one
 * unittest process; its output is the failure message.
 */
import { spawnSync } from 'node:child_process';
import { expect, test } from 'vitest';

const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';

// About 10-20 s on a busy 2-core machine (torch's import and one pip build are most of it).
test('python/tests (unittest) pass', { timeout: 180_000 }, () => {
  const run = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', 'python/tests'], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    maxBuffer: 64 * 1024 * 1024,
    // spawnSync blocks the event loop, so vitest's own timeout could never fire: the child has its own.
    timeout: 170_000,
  });
  if (run.error) throw run.error;
  const output = `${run.stdout}${run.stderr}`;
  expect(run.signal, `python/tests stopped by ${run.signal} (over 170 s?)\n${output}`).toBeNull();
  expect(run.status, output).toBe(0);
  expect(output).toMatch(/^Ran \d+ tests? in /m);
  expect(output).not.toMatch(/skipped/);
});
