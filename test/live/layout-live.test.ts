// Checks each generated layout table against a running interpreter of its version: test/targets/layout-check.py
// walks its own _PyRuntime with ctypes using the table's offsets, independent of hotpath's decoders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { PythonLayout } from '../../src/cpython/layout.js';
import { tableLayouts } from '../../src/cpython/layouts/index.js';

type Check = [name: string, actual: unknown, expected: unknown];

const checkScript = fileURLToPath(new URL('../../../test/targets/layout-check.py', import.meta.url));
const pyenvVersions = join(process.env.PYENV_ROOT ?? '/root/.pyenv', 'versions');

/** Interpreters to check a table against: every pyenv build of that minor version, plus Debian's 3.11. */
function findInterpreters(layout: PythonLayout): string[] {
  const prefix = `${layout.version.join('.')}.`;
  const pyenv = existsSync(pyenvVersions)
    ? readdirSync(pyenvVersions)
        .filter((name) => name.startsWith(prefix))
        .map((name) => join(pyenvVersions, name, 'bin', 'python3'))
    : [];
  const system = `/usr/bin/python${layout.version.join('.')}`;
  return [...pyenv, ...(existsSync(system) ? [system] : [])].filter((path) => existsSync(path));
}

function runLayoutCheck(python: string, layout: PythonLayout): { python: string; checks: Check[] } {
  const result = spawnSync(python, [checkScript], {
    input: JSON.stringify(layout),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 0, `${python} exited with ${result.status ?? result.signal}:\n${result.stderr}`);
  return JSON.parse(result.stdout) as { python: string; checks: Check[] };
}

for (const [key, layout] of tableLayouts) {
  const interpreters = findInterpreters(layout);
  if (interpreters.length === 0) {
    test(`${key} table matches a running interpreter`, { skip: `no Python ${key} installed` }, () => {});
  }
  for (const python of interpreters) {
    test(`${key} table matches a running ${python}`, () => {
      const report = runLayoutCheck(python, layout);
      assert.ok(report.python.startsWith(`${key}.`), `${python} is Python ${report.python}`);
      const names = report.checks.map(([name]) => name);
      const required = ['tstate.thread_id', 'gil holder', 'interp.modules', 'frame chain code', 'innermost co_name'];
      if (layout.threadState.nativeThreadId !== undefined) required.push('tstate.native_thread_id');
      for (const name of required) assert.ok(names.includes(name), `check "${name}" did not run`);
      const mismatches = report.checks.filter(([, actual, expected]) => !isDeepStrictEqual(actual, expected));
      assert.deepEqual(mismatches, []);
    });
  }
}
